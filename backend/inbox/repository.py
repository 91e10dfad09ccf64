"""All SQL of the inbox: the conversation list and its search, threads, labels, canned replies.

The list is fetched in two steps: the page's ids in index order (`page_ids`, only the
conversation table and the search's subqueries), then what the rows show (`rows`) for just
those ids. docs/inbox.md explains the indexes each filter uses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.models.channels import ChannelIntegration
from backend.models.commerce import Order
from backend.models.contacts import Contact, ContactChannelIdentity
from backend.models.conversations import INBOX_ACTIVITY, Conversation, Message
from backend.models.inbox import CannedResponse, contact_search_document
from backend.models.knowledge import KnowledgeChunk, KnowledgeSource
from backend.models.leads import Lead
from backend.models.tenants import Membership, User

WITH_PEOPLE = ("waiting_for_agent", "human")
_SIMPLE = sa.text("'simple'::regconfig")


def get_conversation(
    session: Session, *, business_id: int, conversation_id: int, for_update: bool = False
) -> Conversation | None:
    """The business's conversation; `for_update` locks it and re-reads what is committed."""
    query = select(Conversation).where(
        Conversation.business_id == business_id, Conversation.id == conversation_id
    )
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.exec(query).first()


def page_ids(
    session: Session,
    *,
    business_id: int,
    statuses: list[str] | None,
    channel_kind: str | None,
    assignee_user_id: int | None,
    unassigned: bool,
    label: str | None,
    unread: bool,
    tsquery: str | None,
    digits: str | None,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[tuple[int, datetime]]:
    """(id, last activity) of one page of the filtered list, newest activity first."""
    query = select(Conversation.id, INBOX_ACTIVITY).where(Conversation.business_id == business_id)
    if statuses:
        query = query.where(Conversation.status.in_(statuses))
    if channel_kind:
        query = query.where(
            Conversation.channel_integration_id.in_(
                select(ChannelIntegration.id).where(
                    ChannelIntegration.business_id == business_id,
                    ChannelIntegration.kind == channel_kind,
                )
            )
        )
    if unassigned:
        query = query.where(Conversation.assignee_user_id.is_(None))
    elif assignee_user_id is not None:
        query = query.where(Conversation.assignee_user_id == assignee_user_id)
    if label:
        query = query.where(Conversation.labels.contains([label]))
    if unread:
        query = query.where(Conversation.unread_count > 0)
    if tsquery or digits:
        matches = []
        contact_matches = []
        if tsquery:
            q = sa.func.to_tsquery(_SIMPLE, tsquery)
            matches.append(
                Conversation.id.in_(
                    select(Message.conversation_id).where(
                        Message.business_id == business_id,
                        Message.search_vector.bool_op("@@")(q),
                    )
                )
            )
            contact_matches.append(contact_search_document().bool_op("@@")(q))
        if digits:
            contact_matches.append(
                sa.func.regexp_replace(
                    sa.func.coalesce(Contact.phone, ""), r"\D", "", "g"
                ).contains(digits)
            )
            contact_matches.append(
                Contact.id.in_(
                    select(ContactChannelIdentity.contact_id).where(
                        ContactChannelIdentity.business_id == business_id,
                        ContactChannelIdentity.external_user_id.contains(digits),
                    )
                )
            )
        matches.append(
            Conversation.contact_id.in_(
                select(Contact.id).where(
                    Contact.business_id == business_id, sa.or_(*contact_matches)
                )
            )
        )
        query = query.where(sa.or_(*matches))
    if after is not None:
        query = query.where(sa.tuple_(INBOX_ACTIVITY, Conversation.id) < sa.tuple_(*after))
    query = query.order_by(INBOX_ACTIVITY.desc(), Conversation.id.desc()).limit(limit)
    return [(row[0], row[1]) for row in session.exec(query).all()]


def rows(session: Session, *, business_id: int, ids: list[int]) -> dict[int, dict[str, Any]]:
    """What the list shows of these conversations, by id."""
    if not ids:
        return {}
    last = (
        select(
            Message.text.label("text"),
            Message.sender_type.label("sender_type"),
            Message.content_type.label("content_type"),
        )
        .where(
            Message.business_id == business_id,
            Message.conversation_id == Conversation.id,
            Message.is_private_note.is_(False),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
        .lateral("last_message")
    )
    identity = (
        select(ContactChannelIdentity.external_user_id)
        .where(
            ContactChannelIdentity.business_id == business_id,
            ContactChannelIdentity.contact_id == Conversation.contact_id,
        )
        .order_by(
            (
                ContactChannelIdentity.channel_integration_id == Conversation.channel_integration_id
            ).desc(),
            ContactChannelIdentity.id,
        )
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(
            Conversation.id,
            Conversation.contact_id,
            Conversation.status,
            Conversation.assignee_user_id,
            Conversation.labels,
            Conversation.unread_count,
            Conversation.priority,
            INBOX_ACTIVITY.label("activity"),
            Contact.name.label("contact_name"),
            Contact.email.label("contact_email"),
            Contact.phone.label("contact_phone"),
            identity.label("external_user_id"),
            ChannelIntegration.kind.label("channel_kind"),
            ChannelIntegration.name.label("channel_name"),
            User.name.label("assignee_name"),
            last.c.text.label("last_text"),
            last.c.sender_type.label("last_sender"),
            last.c.content_type.label("last_content_type"),
        )
        .select_from(Conversation)
        .join(
            Contact, (Contact.id == Conversation.contact_id) & (Contact.business_id == business_id)
        )
        .join(
            ChannelIntegration,
            (ChannelIntegration.id == Conversation.channel_integration_id)
            & (ChannelIntegration.business_id == business_id),
            isouter=True,
        )
        .join(User, User.id == Conversation.assignee_user_id, isouter=True)
        .join(last, sa.true(), isouter=True)
        .where(Conversation.business_id == business_id, Conversation.id.in_(ids))
    )
    return {row.id: dict(row._mapping) for row in session.exec(query).all()}


def counts(session: Session, *, business_id: int, user_id: int) -> dict[str, int]:
    """Conversations per status, and the actor's, unassigned and unread ones."""
    c = Conversation
    open_ = c.status != "resolved"
    with_people = c.status.in_(WITH_PEOPLE)

    def n(condition):
        return sa.func.count().filter(condition)

    row = session.exec(
        select(
            n(c.status == "ai").label("ai"),
            n(c.status == "waiting_for_agent").label("waiting_for_agent"),
            n(c.status == "human").label("human"),
            n(c.status == "resolved").label("resolved"),
            n(with_people & (c.assignee_user_id == user_id)).label("mine"),
            n((c.status == "waiting_for_agent") & c.assignee_user_id.is_(None)).label("unassigned"),
            n(open_ & (c.unread_count > 0)).label("unread"),
        ).where(c.business_id == business_id)
    ).one()
    return dict(row._mapping)


def with_people_ids(session: Session, *, business_id: int, limit: int) -> list[int]:
    """Conversations waiting for or with a person, newest activity first (the board)."""
    return list(
        session.exec(
            select(Conversation.id)
            .where(Conversation.business_id == business_id, Conversation.status.in_(WITH_PEOPLE))
            .order_by(INBOX_ACTIVITY.desc(), Conversation.id.desc())
            .limit(limit)
        ).all()
    )


def messages(
    session: Session, *, business_id: int, conversation_id: int, before_id: int | None, limit: int
) -> list[tuple[Message, str | None]]:
    """The conversation's newest `limit` messages (before `before_id`), oldest first, with the
    name of the agent who wrote each."""
    query = (
        select(Message, User.name)
        .join(User, User.id == Message.sender_user_id, isouter=True)
        .where(Message.business_id == business_id, Message.conversation_id == conversation_id)
    )
    if before_id is not None:
        query = query.where(Message.id < before_id)
    found = session.exec(query.order_by(Message.id.desc()).limit(limit)).all()
    return [(m, name) for m, name in reversed(found)]


def get_message(session: Session, *, business_id: int, message_id: int) -> Message | None:
    """The business's message with this id."""
    return session.exec(
        select(Message).where(Message.business_id == business_id, Message.id == message_id)
    ).first()


def chunks(
    session: Session, *, business_id: int, chunk_ids: list[int]
) -> dict[int, tuple[KnowledgeChunk, KnowledgeSource]]:
    """Knowledge passages of the business by id, with their source."""
    if not chunk_ids:
        return {}
    found = session.exec(
        select(KnowledgeChunk, KnowledgeSource)
        .join(KnowledgeSource, KnowledgeSource.id == KnowledgeChunk.source_id)
        .where(
            KnowledgeChunk.business_id == business_id,
            KnowledgeSource.business_id == business_id,
            KnowledgeChunk.id.in_(chunk_ids),
        )
    ).all()
    return {chunk.id: (chunk, source) for chunk, source in found}


def get_contact(session: Session, *, business_id: int, contact_id: int) -> Contact | None:
    """The business's contact with this id."""
    return session.exec(
        select(Contact).where(Contact.business_id == business_id, Contact.id == contact_id)
    ).first()


def identities(
    session: Session, *, business_id: int, contact_id: int
) -> list[tuple[str, str, str]]:
    """(channel kind, channel name, id on the channel) of each of the contact's identities."""
    found = session.exec(
        select(
            ChannelIntegration.kind,
            ChannelIntegration.name,
            ContactChannelIdentity.external_user_id,
        )
        .join(
            ChannelIntegration,
            ChannelIntegration.id == ContactChannelIdentity.channel_integration_id,
        )
        .where(
            ContactChannelIdentity.business_id == business_id,
            ChannelIntegration.business_id == business_id,
            ContactChannelIdentity.contact_id == contact_id,
        )
        .order_by(ContactChannelIdentity.id)
    ).all()
    return [tuple(row) for row in found]


def latest_lead(session: Session, *, business_id: int, contact_id: int) -> Lead | None:
    """The contact's newest lead."""
    return session.exec(
        select(Lead)
        .where(Lead.business_id == business_id, Lead.contact_id == contact_id)
        .order_by(Lead.id.desc())
    ).first()


def recent_orders(
    session: Session, *, business_id: int, contact_id: int, limit: int = 5
) -> list[Order]:
    """The contact's newest orders."""
    return list(
        session.exec(
            select(Order)
            .where(Order.business_id == business_id, Order.contact_id == contact_id)
            .order_by(Order.id.desc())
            .limit(limit)
        ).all()
    )


def other_conversation_ids(
    session: Session, *, business_id: int, contact_id: int, exclude_id: int, limit: int
) -> list[int]:
    """The contact's other conversations, newest activity first."""
    return list(
        session.exec(
            select(Conversation.id)
            .where(
                Conversation.business_id == business_id,
                Conversation.contact_id == contact_id,
                Conversation.id != exclude_id,
            )
            .order_by(INBOX_ACTIVITY.desc(), Conversation.id.desc())
            .limit(limit)
        ).all()
    )


def labels_in_use(session: Session, *, business_id: int, limit: int) -> list[str]:
    """The distinct labels on the business's conversations, alphabetically."""
    label = (
        sa.func.jsonb_array_elements_text(Conversation.labels)
        .table_valued("value")
        .lateral("label")
    )
    return list(
        session.exec(
            select(label.c.value)
            .select_from(Conversation)
            .join(label, sa.true())
            .where(Conversation.business_id == business_id)
            .distinct()
            .order_by(label.c.value)
            .limit(limit)
        ).all()
    )


def user_name(session: Session, *, business_id: int, user_id: int | None) -> str | None:
    """The name of a member of the business."""
    if user_id is None:
        return None
    return session.exec(
        select(User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.business_id == business_id, User.id == user_id)
    ).first()


# --- canned responses -----------------------------------------------------------------------


def list_canned(
    session: Session, *, business_id: int, search: str | None, limit: int
) -> list[CannedResponse]:
    """The business's canned responses by shortcut, optionally matching `search`."""
    query = select(CannedResponse).where(CannedResponse.business_id == business_id)
    if search:
        pattern = f"%{search}%"
        query = query.where(
            sa.or_(
                CannedResponse.shortcut.ilike(pattern),
                CannedResponse.title.ilike(pattern),
                CannedResponse.content.ilike(pattern),
            )
        )
    return list(session.exec(query.order_by(CannedResponse.shortcut).limit(limit)).all())


def canned_by_prefix(
    session: Session, *, business_id: int, prefix: str, limit: int
) -> list[CannedResponse]:
    """Canned responses whose shortcut starts with `prefix`, shortest first."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return list(
        session.exec(
            select(CannedResponse)
            .where(
                CannedResponse.business_id == business_id,
                CannedResponse.shortcut.like(f"{escaped}%", escape="\\"),
            )
            .order_by(sa.func.length(CannedResponse.shortcut), CannedResponse.shortcut)
            .limit(limit)
        ).all()
    )


def get_canned(session: Session, *, business_id: int, canned_id: int) -> CannedResponse | None:
    """The business's canned response with this id."""
    return session.exec(
        select(CannedResponse).where(
            CannedResponse.business_id == business_id, CannedResponse.id == canned_id
        )
    ).first()


def shortcut_taken(
    session: Session, *, business_id: int, shortcut: str, except_id: int | None
) -> bool:
    """Whether another canned response of the business uses `shortcut`."""
    query = select(CannedResponse.id).where(
        CannedResponse.business_id == business_id, CannedResponse.shortcut == shortcut
    )
    if except_id is not None:
        query = query.where(CannedResponse.id != except_id)
    return session.exec(query).first() is not None


# --- contacts: duplicates and merging -------------------------------------------------------


def _digits(column: Any) -> sa.ColumnElement:
    return sa.func.regexp_replace(sa.func.coalesce(column, ""), r"\D", "", "g")


def contacts_for_update(
    session: Session, *, business_id: int, contact_ids: list[int]
) -> dict[int, Contact]:
    """The business's contacts with these ids, locked in id order (two merges never deadlock)."""
    found = session.exec(
        select(Contact)
        .where(Contact.business_id == business_id, Contact.id.in_(contact_ids))
        .order_by(Contact.id)
        .with_for_update()
    ).all()
    return {contact.id: contact for contact in found}


def matching_contact_ids(
    session: Session,
    *,
    business_id: int,
    exclude_id: int,
    words: str | None,
    digits: str | None,
    limit: int,
) -> list[int]:
    """Other contacts whose name/email match the words (prefix) or phone/channel ids the digits."""
    matches = []
    if words:
        matches.append(contact_search_document().bool_op("@@")(sa.func.to_tsquery(_SIMPLE, words)))
    if digits:
        matches.append(_digits(Contact.phone).contains(digits))
        matches.append(
            Contact.id.in_(
                select(ContactChannelIdentity.contact_id).where(
                    ContactChannelIdentity.business_id == business_id,
                    ContactChannelIdentity.external_user_id.contains(digits),
                )
            )
        )
    if not matches:
        return []
    return list(
        session.exec(
            select(Contact.id)
            .where(Contact.business_id == business_id, Contact.id != exclude_id, sa.or_(*matches))
            .order_by(Contact.last_seen_at.desc().nulls_last(), Contact.id.desc())
            .limit(limit)
        ).all()
    )


def duplicate_contact_ids(
    session: Session,
    *,
    business_id: int,
    contact_id: int,
    email: str | None,
    phones: list[str],
    limit: int,
) -> list[tuple[int, str]]:
    """Other contacts with the same email or phone number (their phone, or a WhatsApp id):
    (contact id, "email" | "phone"), most recently seen first."""
    found: dict[int, str] = {}
    if email:
        for cid in session.exec(
            select(Contact.id)
            .where(
                Contact.business_id == business_id,
                Contact.id != contact_id,
                sa.func.lower(Contact.email) == email.lower(),
            )
            .order_by(Contact.id.desc())
            .limit(limit)
        ).all():
            found.setdefault(cid, "email")
    if phones:
        whatsapp_ids = (
            select(ContactChannelIdentity.contact_id)
            .join(
                ChannelIntegration,
                ChannelIntegration.id == ContactChannelIdentity.channel_integration_id,
            )
            .where(
                ContactChannelIdentity.business_id == business_id,
                ChannelIntegration.kind == "whatsapp",
                _digits(ContactChannelIdentity.external_user_id).in_(phones),
            )
        )
        for cid in session.exec(
            select(Contact.id)
            .where(
                Contact.business_id == business_id,
                Contact.id != contact_id,
                sa.or_(_digits(Contact.phone).in_(phones), Contact.id.in_(whatsapp_ids)),
            )
            .order_by(Contact.id.desc())
            .limit(limit)
        ).all():
            found.setdefault(cid, "phone")
    return list(found.items())[:limit]


def whatsapp_numbers(session: Session, *, business_id: int, contact_id: int) -> list[str]:
    """The contact's WhatsApp ids (phone numbers, digits only)."""
    return list(
        session.exec(
            select(_digits(ContactChannelIdentity.external_user_id))
            .join(
                ChannelIntegration,
                ChannelIntegration.id == ContactChannelIdentity.channel_integration_id,
            )
            .where(
                ContactChannelIdentity.business_id == business_id,
                ContactChannelIdentity.contact_id == contact_id,
                ChannelIntegration.kind == "whatsapp",
            )
        ).all()
    )


def contact_summaries(
    session: Session, *, business_id: int, contact_ids: list[int]
) -> dict[int, dict[str, Any]]:
    """Name, email, phone, channel kinds and conversation count of each contact."""
    if not contact_ids:
        return {}
    kinds = (
        select(sa.func.array_agg(sa.distinct(ChannelIntegration.kind)))
        .select_from(ContactChannelIdentity)
        .join(
            ChannelIntegration,
            ChannelIntegration.id == ContactChannelIdentity.channel_integration_id,
        )
        .where(
            ContactChannelIdentity.business_id == business_id,
            ContactChannelIdentity.contact_id == Contact.id,
        )
        .scalar_subquery()
    )
    conversations = (
        select(sa.func.count(Conversation.id))
        .where(Conversation.business_id == business_id, Conversation.contact_id == Contact.id)
        .scalar_subquery()
    )
    found = session.exec(
        select(Contact, kinds, conversations).where(
            Contact.business_id == business_id, Contact.id.in_(contact_ids)
        )
    ).all()
    return {
        contact.id: {"contact": contact, "kinds": sorted(k or []), "conversations": n or 0}
        for contact, k, n in found
    }


def move_contact_rows(
    session: Session, *, business_id: int, from_id: int, to_id: int
) -> dict[str, int]:
    """Point the identities, conversations, leads and orders of one contact at another."""
    from backend.models.commerce import Order  # the commerce domain's table; only re-pointed

    moved = {}
    for name, model in (
        ("identities", ContactChannelIdentity),
        ("conversations", Conversation),
        ("leads", Lead),
        ("orders", Order),
    ):
        result = session.execute(
            sa.update(model)
            .where(model.business_id == business_id, model.contact_id == from_id)
            .values(contact_id=to_id)
            .execution_options(synchronize_session=False)
        )
        moved[name] = result.rowcount or 0
    return moved


def delete_contact(session: Session, *, business_id: int, contact_id: int) -> None:
    """Remove a contact of the business (after its rows moved elsewhere)."""
    session.execute(
        sa.delete(Contact).where(Contact.business_id == business_id, Contact.id == contact_id)
    )


def reactions_on(
    session: Session, *, business_id: int, conversation_id: int, message_ids: list[int]
) -> dict[int, str]:
    """The customer's current reaction on each of these messages ("" once taken back)."""
    if not message_ids:
        return {}
    target = Message.attachments[0]["message_id"].astext
    found = session.exec(
        select(target, Message.text, Message.attachments)
        .where(
            Message.business_id == business_id,
            Message.conversation_id == conversation_id,
            Message.content_type == "reaction",
            Message.direction == "inbound",
            target.in_([str(i) for i in message_ids]),
        )
        .order_by(Message.id)
    ).all()
    latest: dict[int, str] = {}
    for message_id, _text, attachments in found:
        latest[int(message_id)] = str((attachments or [{}])[0].get("emoji") or "")
    return latest
