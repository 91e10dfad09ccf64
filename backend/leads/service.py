"""Leads: people who may buy, captured from conversations, the widget's offline form and agents.

The team works them on a board (new → contacted → qualified → won / lost): agents and above
create, edit and move leads; viewers read; owners and admins delete. A lead's follow-up time
raises one reminder for its owner (or the owners and admins) when it comes due.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session

from backend import events
from backend.auth.permissions import Actor, Permission
from backend.commerce import service as commerce
from backend.commerce.schemas import CommerceError
from backend.leads import repository as repo
from backend.leads.schemas import (
    Board,
    BoardColumn,
    LeadError,
    LeadFilters,
    LeadPage,
    LeadView,
    MemberOption,
    NotAllowedToDelete,
)
from backend.models.base import utcnow
from backend.models.leads import Lead, LeadSource, LeadStage
from backend.models.notifications import NotificationKind
from backend.notifications import service as notifications
from backend.tenants import repository as tenants_repo

__all__ = [
    "STAGE_LABELS",
    "board",
    "capture",
    "create_lead",
    "delete_lead",
    "export_csv",
    "get_lead",
    "list_leads",
    "members",
    "move_lead",
    "send_due_reminders",
    "update_lead",
]

MAX_INTEREST = 4000
MAX_NOTES = 10_000
MAX_PAGE = 200
BOARD_COLUMN_SIZE = 200
REMINDERS_PER_RUN = 500
STAGE_LABELS = {
    LeadStage.NEW: "New",
    LeadStage.CONTACTED: "Contacted",
    LeadStage.QUALIFIED: "Qualified",
    LeadStage.WON: "Won",
    LeadStage.LOST: "Lost",
}
_STAGES = [str(s) for s in LeadStage]
_SOURCES = [str(s) for s in LeadSource]
_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{3,30}$")
_UNSET: Any = object()
_CSV_HEADER = ["id", "name", "email", "phone", "stage", "value", "currency", "owner", "source",
               "next_follow_up_at", "interest", "notes", "created_at"]  # fmt: skip


# --- capture (pipeline, widget) ---------------------------------------------------------------


def capture(
    session: Session,
    *,
    business_id: int,
    source: str,
    contact_id: int | None = None,
    conversation_id: int | None = None,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    interest: str | None = None,
) -> Lead:
    """Record a lead; a contact's open lead is updated rather than duplicated."""
    lead = (
        repo.find_open_lead_of_contact(session, business_id=business_id, contact_id=contact_id)
        if contact_id is not None
        else None
    )
    created = lead is None
    if lead is None:
        lead = Lead(business_id=business_id, contact_id=contact_id, source=source)
        lead.position = repo.top_position(session, business_id=business_id, stage=lead.stage)
    lead.conversation_id = conversation_id or lead.conversation_id
    lead.name = name or lead.name
    lead.email = email or lead.email
    lead.phone = phone or lead.phone
    if interest:
        joined = f"{lead.interest}\n\n{interest}" if lead.interest else interest
        lead.interest = joined[-MAX_INTEREST:]
    session.add(lead)
    session.flush()
    events.publish(session, "lead.created" if created else "lead.updated",
                   business_id=business_id, lead_id=lead.id, source=source)  # fmt: skip
    return lead


# --- validation -------------------------------------------------------------------------------


def _text(value: str | None, *, field: str, label: str, max_length: int) -> str | None:
    text = " ".join(str(value or "").split())
    if len(text) > max_length:
        raise LeadError(f"{label} is longer than {max_length} characters; shorten it.", field=field)
    return text or None


def _long_text(value: str | None, *, field: str, label: str, max_length: int) -> str | None:
    text = str(value or "").strip()
    if len(text) > max_length:
        raise LeadError(f"{label} is longer than {max_length} characters; shorten it.", field=field)
    return text or None


def _email(value: str | None) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise LeadError(
            f"{text!r} is not an email address; type one like name@example.com.", field="email"
        ) from None


def _phone(value: str | None) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    if not _PHONE.match(text):
        raise LeadError(
            f"{text!r} is not a phone number; type digits, optionally starting with +.",
            field="phone",
        )
    return text


def _stage(value: str) -> str:
    stage = str(value or "").strip().lower()
    if stage not in _STAGES:
        raise LeadError(f"Unknown stage {value!r}; use one of {', '.join(_STAGES)}.", field="stage")
    return stage


def _currency(session: Session, business_id: int) -> str:
    business = repo.business(session, business_id=business_id)
    return (business.currency if business else None) or "USD"


def _value(value: str | int | None, currency: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise LeadError("A lead's value cannot be negative; type 0 or more.", field="value")
        return value
    try:
        return commerce.parse_price(value, currency, field="value")
    except CommerceError as exc:
        raise LeadError(exc.message.replace("price", "value"), field="value") from None


def _follow_up(session: Session, business_id: int, value: datetime | str | None) -> datetime | None:
    """A follow-up time; a time without a zone is in the business's time zone."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    when = value
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            raise LeadError(
                f"{value!r} is not a date and time; pick one like 2026-12-01 09:30.",
                field="next_follow_up_at",
            ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tenants_repo.business_zone(session, business_id=business_id))
    return when.astimezone(UTC)


def _owner(session: Session, business_id: int, owner_user_id: int | None) -> int | None:
    if owner_user_id in (None, 0, ""):
        return None
    try:
        user_id = int(owner_user_id)
    except (TypeError, ValueError):
        raise LeadError("Choose the lead's owner from the team list.", field="owner") from None
    if not repo.is_member(session, business_id=business_id, user_id=user_id):
        raise LeadError(
            "The chosen owner is not a member of this business; choose someone from the team.",
            field="owner",
        )
    return user_id


# --- reading ----------------------------------------------------------------------------------


def _views(session: Session, business_id: int, leads: list[Lead]) -> list[LeadView]:
    currency = _currency(session, business_id)
    owner_ids = sorted({x.owner_user_id for x in leads if x.owner_user_id})
    names = repo.user_names(session, business_id=business_id, user_ids=owner_ids)
    now, tz = utcnow(), tenants_repo.business_zone(session, business_id=business_id)
    return [
        LeadView(
            id=lead.id,
            name=lead.name,
            email=lead.email,
            phone=lead.phone,
            interest=lead.interest,
            source=lead.source,
            stage=lead.stage,
            position=lead.position,
            value_cents=lead.value_cents,
            currency=lead.currency or currency,
            value_display=(
                ""
                if lead.value_cents is None
                else commerce.format_money(lead.value_cents, lead.currency or currency)
            ),
            owner_user_id=lead.owner_user_id,
            owner_name=names.get(lead.owner_user_id) if lead.owner_user_id else None,
            notes=lead.notes,
            next_follow_up_at=lead.next_follow_up_at,
            follow_up_local=(
                lead.next_follow_up_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M")
                if lead.next_follow_up_at
                else ""
            ),
            follow_up_due=bool(
                lead.next_follow_up_at
                and lead.next_follow_up_at <= now
                and lead.stage in repo.OPEN_STAGES
            ),
            contact_id=lead.contact_id,
            conversation_id=lead.conversation_id,
            created_at=lead.created_at,
            updated_at=lead.updated_at,
        )
        for lead in leads
    ]


def _get(session: Session, actor: Actor, lead_id: int, *, for_update: bool = False) -> Lead:
    lead = repo.get_lead(
        session, business_id=actor.business_id, lead_id=int(lead_id), for_update=for_update
    )
    if lead is None:
        raise LeadError("This lead no longer exists; reload the page.", field="lead")
    return lead


def _filters(filters: LeadFilters | None) -> LeadFilters:
    filters = filters or LeadFilters()
    if filters.stage:
        _stage(filters.stage)
    if filters.source and filters.source not in _SOURCES:
        raise LeadError(
            f"Unknown source {filters.source!r}; use one of {', '.join(_SOURCES)}.", field="source"
        )
    return filters


def get_lead(session: Session, *, actor: Actor, lead_id: int) -> LeadView:
    """One lead of the actor's business."""
    actor.require(Permission.LEADS_READ)
    return _views(session, actor.business_id, [_get(session, actor, lead_id)])[0]


def list_leads(
    session: Session,
    *,
    actor: Actor,
    filters: LeadFilters | None = None,
    limit: int = 50,
    offset: int = 0,
) -> LeadPage:
    """One page of the business's leads matching `filters`, newest first."""
    actor.require(Permission.LEADS_READ)
    filters = _filters(filters)
    limit, offset, now = max(1, min(int(limit), MAX_PAGE)), max(0, int(offset)), utcnow()
    rows = repo.list_filtered(session, business_id=actor.business_id, filters=filters, now=now,
                              limit=limit, offset=offset)  # fmt: skip
    total = repo.count_filtered(session, business_id=actor.business_id, filters=filters, now=now)
    return LeadPage(leads=_views(session, actor.business_id, rows), total=total)


def board(session: Session, *, actor: Actor) -> Board:
    """The pipeline board: per stage its leads in order, their count and total value."""
    actor.require(Permission.LEADS_READ)
    currency = _currency(session, actor.business_id)
    rows = repo.board_leads(session, business_id=actor.business_id, per_column=BOARD_COLUMN_SIZE)
    totals = repo.stage_totals(session, business_id=actor.business_id)
    by_stage: dict[str, list[LeadView]] = {stage: [] for stage in _STAGES}
    for view in _views(session, actor.business_id, rows):
        by_stage.setdefault(view.stage, []).append(view)
    columns = []
    for stage in _STAGES:
        count, value = totals.get(stage, (0, 0))
        columns.append(
            BoardColumn(
                stage=stage,
                label=STAGE_LABELS[LeadStage(stage)],
                leads=by_stage[stage],
                count=count,
                value_cents=value,
                value_display=commerce.format_money(value, currency),
            )
        )
    return Board(columns=columns, currency=currency)


def members(session: Session, *, actor: Actor) -> list[MemberOption]:
    """The team members a lead can be given to."""
    actor.require(Permission.LEADS_READ)
    return [
        MemberOption(user_id=user.id, name=user.name, email=user.email, role=membership.role)
        for membership, user in repo.members(session, business_id=actor.business_id)
    ]


def _safe_cell(value: Any) -> Any:
    # A cell starting with = + - @ runs as a formula in spreadsheets (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_csv(session: Session, *, actor: Actor, filters: LeadFilters | None = None) -> str:
    """Every lead matching `filters` as CSV text (one header row, oldest lead first)."""
    actor.require(Permission.LEADS_READ)
    filters = _filters(filters)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_CSV_HEADER)
    now = utcnow()
    for rows in repo.iter_filtered(session, business_id=actor.business_id, filters=filters,
                                   now=now):  # fmt: skip
        for v in _views(session, actor.business_id, rows):
            value = "" if v.value_cents is None else v.value_display.rsplit(" ", 1)[0]
            writer.writerow(
                _safe_cell(cell)
                for cell in (
                    v.id, v.name or "", v.email or "", v.phone or "", v.stage,
                    value.replace(",", ""), v.currency, v.owner_name or "", v.source,
                    v.next_follow_up_at.isoformat() if v.next_follow_up_at else "",
                    v.interest or "", v.notes or "", v.created_at.isoformat(),
                )
            )  # fmt: skip
    return out.getvalue()


# --- changing ---------------------------------------------------------------------------------


def create_lead(
    session: Session,
    *,
    actor: Actor,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    interest: str | None = None,
    value: str | int | None = None,
    owner_user_id: int | None = None,
    notes: str | None = None,
    next_follow_up_at: datetime | str | None = None,
    stage: str = LeadStage.NEW,
) -> LeadView:
    """Add a lead by hand (agents and above); it goes to the top of its column."""
    actor.require(Permission.LEADS_MANAGE)
    business_id = actor.business_id
    currency = _currency(session, business_id)
    lead = Lead(
        business_id=business_id,
        source=LeadSource.AGENT,
        stage=_stage(stage),
        name=_text(name, field="name", label="The name", max_length=120),
        email=_email(email),
        phone=_phone(phone),
        interest=_long_text(interest, field="interest", label="Interest", max_length=MAX_INTEREST),
        value_cents=_value(value, currency),
        currency=currency,
        owner_user_id=_owner(session, business_id, owner_user_id),
        notes=_long_text(notes, field="notes", label="Notes", max_length=MAX_NOTES),
        next_follow_up_at=_follow_up(session, business_id, next_follow_up_at),
    )
    if not (lead.name or lead.email or lead.phone):
        raise LeadError("Give the lead a name, an email or a phone number.", field="name")
    repo.lock_board(session, business_id=business_id)
    lead.position = repo.top_position(session, business_id=business_id, stage=lead.stage)
    session.add(lead)
    session.flush()
    events.publish(session, "lead.created", business_id=business_id, lead_id=lead.id,
                   source=str(LeadSource.AGENT))  # fmt: skip
    return _views(session, business_id, [lead])[0]


def update_lead(
    session: Session,
    *,
    actor: Actor,
    lead_id: int,
    name: str | None = _UNSET,
    email: str | None = _UNSET,
    phone: str | None = _UNSET,
    interest: str | None = _UNSET,
    value: str | int | None = _UNSET,
    owner_user_id: int | None = _UNSET,
    notes: str | None = _UNSET,
    next_follow_up_at: datetime | str | None = _UNSET,
) -> LeadView:
    """Edit a lead's details (only the fields given); agents and above."""
    actor.require(Permission.LEADS_MANAGE)
    business_id = actor.business_id
    lead = _get(session, actor, lead_id, for_update=True)
    if name is not _UNSET:
        lead.name = _text(name, field="name", label="The name", max_length=120)
    if email is not _UNSET:
        lead.email = _email(email)
    if phone is not _UNSET:
        lead.phone = _phone(phone)
    if interest is not _UNSET:
        lead.interest = _long_text(interest, field="interest", label="Interest",
                                   max_length=MAX_INTEREST)  # fmt: skip
    if value is not _UNSET:
        lead.currency = lead.currency or _currency(session, business_id)
        lead.value_cents = _value(value, lead.currency)
    if owner_user_id is not _UNSET:
        lead.owner_user_id = _owner(session, business_id, owner_user_id)
    if notes is not _UNSET:
        lead.notes = _long_text(notes, field="notes", label="Notes", max_length=MAX_NOTES)
    if next_follow_up_at is not _UNSET:
        lead.next_follow_up_at = _follow_up(session, business_id, next_follow_up_at)
    if not (lead.name or lead.email or lead.phone):
        raise LeadError("A lead needs a name, an email or a phone number.", field="name")
    session.add(lead)
    session.flush()
    events.publish(session, "lead.updated", business_id=business_id, lead_id=lead.id)
    return _views(session, business_id, [lead])[0]


def _renumber(leads: list[Lead]) -> None:
    for index, lead in enumerate(leads):
        if lead.position != index:
            lead.position = index


def move_lead(
    session: Session, *, actor: Actor, lead_id: int, stage: str, position: int | None = None
) -> LeadView:
    """Put a lead in `stage` at `position` (0 is the top; None: the top), renumbering the
    columns it left and joined; moves in one business happen one at a time."""
    actor.require(Permission.LEADS_MANAGE)
    business_id = actor.business_id
    stage = _stage(stage)
    # One mover at a time per business: concurrent drags never interleave their renumbering.
    repo.lock_board(session, business_id=business_id)
    lead = _get(session, actor, lead_id, for_update=True)
    old_stage = lead.stage
    if old_stage != stage:
        source = [x for x in repo.column(session, business_id=business_id, stage=old_stage)
                  if x.id != lead.id]  # fmt: skip
        _renumber(source)
    target = [x for x in repo.column(session, business_id=business_id, stage=stage)
              if x.id != lead.id]  # fmt: skip
    index = 0 if position is None else max(0, min(int(position), len(target)))
    target.insert(index, lead)
    lead.stage = stage
    _renumber(target)
    session.add_all(target)
    session.flush()
    events.publish(session, "lead.moved", business_id=business_id, lead_id=lead.id,
                   stage=stage, from_stage=old_stage)  # fmt: skip
    return _views(session, business_id, [lead])[0]


def delete_lead(session: Session, *, actor: Actor, lead_id: int) -> None:
    """Delete a lead for good (owners and admins)."""
    actor.require(Permission.LEADS_MANAGE)
    if str(actor.role) not in ("owner", "admin"):
        raise NotAllowedToDelete(str(actor.role))
    if not repo.delete_lead(session, business_id=actor.business_id, lead_id=int(lead_id)):
        raise LeadError("This lead no longer exists; reload the page.", field="lead")
    events.publish(session, "lead.deleted", business_id=actor.business_id, lead_id=int(lead_id))


# --- follow-up reminders ----------------------------------------------------------------------


def businesses_with_due_follow_ups(session: Session, *, now: datetime | None = None) -> list[int]:
    """The businesses the reminder job has work in (any tenant: the job's own lookup)."""
    return repo.businesses_with_due_follow_ups_all_businesses(session, now=now or utcnow())


def send_due_reminders(session: Session, *, business_id: int, now: datetime | None = None) -> int:
    """Remind the owner of every lead whose follow-up came due (owners and admins when the
    lead has no owner); one reminder per follow-up time. How many leads were reminded."""
    now = now or utcnow()
    tz = tenants_repo.business_zone(session, business_id=business_id)
    leads = repo.due_follow_ups(session, business_id=business_id, now=now, limit=REMINDERS_PER_RUN)
    for lead in leads:
        due = lead.next_follow_up_at
        who = lead.name or lead.email or lead.phone or f"lead #{lead.id}"
        body = f"Follow-up due {due.astimezone(tz):%Y-%m-%d %H:%M}."
        message: dict[str, Any] = {
            "business_id": business_id,
            "kind": NotificationKind.LEAD_FOLLOW_UP,
            "title": f"Follow up with {who}"[:200],
            "body": body + (f" {lead.interest[:300]}" if lead.interest else ""),
            "link": f"/leads?lead={lead.id}",
            "data": {"lead_id": lead.id, "follow_up_at": due.isoformat()},
            "dedup_key": f"lead-follow-up:{lead.id}:{due.isoformat()}",
        }
        owner = lead.owner_user_id
        if owner and repo.is_member(session, business_id=business_id, user_id=owner):
            notifications.notify(session, user_ids=[owner], **message)
        else:
            notifications.notify_roles(session, roles=("owner", "admin"), **message)
        lead.follow_up_reminded_for = due
        session.add(lead)
    session.flush()
    return len(leads)
