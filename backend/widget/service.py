"""The website widget's visitor side: who may use a key, visitors, their messages and ratings.

Every call names a widget by its public key and comes from a browser page whose `Origin` must
be one the business allowed. A visitor is known by a signed token the widget keeps in
localStorage; when the business verifies identities, the token carries the verified user id
and every call (not only the first) checks it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session

from backend.ai import service as ai_service
from backend.channels import widget as widget_channel
from backend.channels.base import ChannelConfig
from backend.channels.service import to_config
from backend.conversations import service as conversations
from backend.core import ratelimit
from backend.core.config import settings
from backend.leads import service as leads
from backend.models.contacts import Contact
from backend.models.conversations import Conversation, Message
from backend.widget import repository as repo

MAX_MESSAGE_CHARS = 4000
MAX_NAME = 120
MAX_PHONE = 32
MAX_USER_ID = 200
TOKEN_MAX_AGE = 400 * 24 * 3600  # a visitor coming back within a year and a bit is remembered
# Per visitor, per widget key and per client IP: enough for a person, not for a script.
VISITOR_MESSAGES = "20/minute"
KEY_MESSAGES = "600/minute"
IP_SESSIONS = "60/minute"
VISITOR_ACTIONS = "30/minute"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{5,32}$")


class WidgetError(Exception):
    """A refused widget call: HTTP status, a stable code for the widget, and a clear message."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.code = code or self.code
        self.extra = extra


class UnknownKey(WidgetError):
    status, code = 404, "unknown_key"


class OriginNotAllowed(WidgetError):
    status, code = 403, "origin_not_allowed"


class IdentityRequired(WidgetError):
    status, code = 403, "identity_required"


class IdentityInvalid(WidgetError):
    status, code = 403, "identity_invalid"


class InvalidToken(WidgetError):
    status, code = 401, "invalid_token"


class PrechatRequired(WidgetError):
    status, code = 422, "prechat_required"


class NotResolved(WidgetError):
    status, code = 409, "not_resolved"


class TooManyRequests(WidgetError):
    status, code = 429, "rate_limited"


@dataclass(frozen=True)
class Widget:
    """One widget integration, as a visitor's call needs it."""

    integration_id: int
    business_id: int
    settings: dict[str, Any]
    identity_secret: str | None
    cfg: ChannelConfig


@dataclass(frozen=True)
class Visitor:
    """Who is chatting: an anonymous visitor id, or a user id the business's server vouched for."""

    visitor_id: str
    verified: bool


def load_widget(session: Session, *, public_key: str) -> Widget:
    """The enabled widget a public key names; UnknownKey otherwise."""
    integration = repo.find_widget_for_public_key(session, public_key=public_key[:64])
    if integration is None or not integration.is_enabled:
        raise UnknownKey(
            "This chat is not available: the widget key is unknown, was rotated or is disabled. "
            "Copy the current snippet from BizBot's Integrations page."
        )
    cfg = to_config(integration)
    return Widget(
        integration_id=integration.id,
        business_id=integration.business_id,
        settings=widget_channel.settings_of(integration.config),
        identity_secret=cfg.credentials.get("identity_secret") or None,
        cfg=cfg,
    )


def check_origin(widget: Widget, origin: str | None) -> None:
    """Refuse a page whose origin the business did not allow."""
    if not widget_channel.origin_allowed(origin, widget.settings["allowed_origins"]):
        shown = origin or "a page that sent no Origin header"
        raise OriginNotAllowed(
            f"This chat is not enabled for {shown}. The business can add this site's origin "
            "under Integrations → Website chat → Allowed origins."
        )


def _serializer(widget: Widget) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        settings.effective_secret_key, salt=f"bizbot-widget-visitor:{widget.integration_id}"
    )


def issue_token(widget: Widget, visitor: Visitor) -> str:
    """The signed token the widget keeps for this visitor."""
    return _serializer(widget).dumps({"v": visitor.visitor_id, "u": int(visitor.verified)})


def visitor_from_token(widget: Widget, token: str | None) -> Visitor:
    """The visitor a token names; InvalidToken or IdentityRequired when it cannot be used."""
    try:
        data = _serializer(widget).loads(token or "", max_age=TOKEN_MAX_AGE)
        visitor = Visitor(visitor_id=str(data["v"]), verified=bool(data["u"]))
    except (BadSignature, KeyError, TypeError):
        raise InvalidToken(
            "The visitor token is missing, expired or not for this widget; start a new session."
        ) from None
    if widget.settings["identity_required"] and not visitor.verified:
        raise IdentityRequired("This business only chats with signed-in, verified users.")
    return visitor


def _verified_visitor(widget: Widget, user_id: str, user_hash: str | None) -> Visitor:
    if not widget.identity_secret:
        raise IdentityInvalid(
            "user_id was given but this widget has no identity secret; set one under "
            "Integrations → Website chat → Identity verification, or stop sending user_id."
        )
    expected = hmac.new(
        widget.identity_secret.encode(), user_id.encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, (user_hash or "").strip().lower()):
        raise IdentityInvalid(
            "user_hash does not match user_id: compute HMAC-SHA256(identity secret, user_id) "
            "on your server and pass its hex digest."
        )
    return Visitor(visitor_id=f"user:{user_id}", verified=True)


def _start_visitor(
    widget: Widget, *, token: str | None, user_id: str | None, user_hash: str | None
) -> Visitor:
    user_id = (user_id or "").strip()
    if len(user_id) > MAX_USER_ID:
        raise IdentityInvalid(f"user_id is longer than {MAX_USER_ID} characters.")
    if user_id:
        return _verified_visitor(widget, user_id, user_hash)
    if widget.settings["identity_required"]:
        raise IdentityRequired("This business only chats with signed-in, verified users.")
    if token:
        try:
            return visitor_from_token(widget, token)
        except InvalidToken:
            pass  # An old or foreign token: this browser simply starts as a new visitor.
    return Visitor(visitor_id="v_" + secrets.token_hex(16), verified=False)


def _clean_fields(name: Any, email: Any, phone: Any) -> dict[str, str]:
    fields: dict[str, str] = {}
    if name := str(name or "").strip():
        if len(name) > MAX_NAME:
            raise WidgetError(f"name is longer than {MAX_NAME} characters.", code="invalid_name")
        fields["name"] = name
    if email := str(email or "").strip():
        try:  # the same validator as account emails
            fields["email"] = validate_email(email, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            raise WidgetError(
                f"{email!r} is not an email address (like name@example.com).", code="invalid_email"
            ) from None
    if phone := str(phone or "").strip():
        if not _PHONE.match(phone):
            raise WidgetError(
                f"{phone!r} is not a phone number (digits, optionally starting with +).",
                code="invalid_phone",
            )
        fields["phone"] = phone
    return fields


def _missing_prechat(widget: Widget, contact: Contact | None) -> list[str]:
    required = [f for f, mode in widget.settings["prechat"].items() if mode == "required"]
    return [f for f in required if contact is None or not getattr(contact, f)]


def _contact(session: Session, widget: Widget, visitor: Visitor) -> Contact | None:
    return conversations.find_contact(
        session, business_id=widget.business_id, integration_id=widget.integration_id,
        external_user_id=visitor.visitor_id,
    )  # fmt: skip


def _ensure_contact(session: Session, widget: Widget, visitor: Visitor) -> Contact:
    return conversations.contact_for(
        session, business_id=widget.business_id, integration_id=widget.integration_id,
        external_user_id=visitor.visitor_id,
    )  # fmt: skip


def _latest(session: Session, widget: Widget, contact: Contact | None) -> Conversation | None:
    if contact is None:
        return None
    return repo.latest_conversation(
        session,
        business_id=widget.business_id,
        integration_id=widget.integration_id,
        contact_id=contact.id,
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def conversation_view(session: Session, conversation: Conversation | None) -> dict | None:
    """What the widget shows of a conversation: its status, the agent, the rating."""
    if conversation is None:
        return None
    return {
        "id": conversation.id,
        "status": conversation.status,
        "agent_name": repo.user_name(session, user_id=conversation.assignee_user_id)
        if conversation.status == "human"
        else None,
        "csat_score": conversation.csat_score,
    }


def message_view(message: Message, agent_name: str | None) -> dict:
    """One message as the widget renders it (text only; the widget escapes it)."""
    client_id = None
    if message.sender_type == "customer" and message.external_id:
        client_id = message.external_id.rpartition(":")[2]
    attachments = message.attachments or []
    quick_replies = next(
        (a.get("options", []) for a in attachments if a.get("type") == "quick_replies"), []
    )
    return {
        "id": message.id,
        "client_id": client_id,
        "sender": message.sender_type,
        "text": message.text or "",
        "agent_name": agent_name if message.sender_type == "agent" else None,
        "created_at": _iso(message.created_at),
        "quick_replies": [str(option) for option in quick_replies],
    }


def public_config(session: Session, *, widget: Widget, language: str | None = None) -> dict:
    """The widget's look, pre-chat fields and whether the business is open now."""
    s = widget.settings
    language = s["language"] if s["language"] != "auto" else (language or "")[:2].lower() or None
    available = ai_service.availability(session, business_id=widget.business_id, language=language)
    return {
        "title": s["title"],
        "greeting": s["greeting"],
        "color": s["color"],
        "position": s["position"],
        "language": s["language"],
        "prechat": dict(s["prechat"]),
        "open": available.open,
        "offline_message": available.message,
        "identity_required": bool(s["identity_required"]),
    }


def open_session(
    session: Session,
    *,
    widget: Widget,
    token: str | None,
    user_id: str | None = None,
    user_hash: str | None = None,
    name: Any = None,
    email: Any = None,
    phone: Any = None,
    language: str | None = None,
) -> dict:
    """Start or resume a visitor: their token, latest conversation and its messages."""
    visitor = _start_visitor(widget, token=token, user_id=user_id, user_hash=user_hash)
    fields = _clean_fields(name, email, phone)
    contact = _contact(session, widget, visitor)
    if fields:
        contact = contact or _ensure_contact(session, widget, visitor)
        for field, value in fields.items():
            setattr(contact, field, value)
    if contact is not None and language and not contact.language:
        contact.language = language[:16]
    if contact is not None:
        session.add(contact)
        session.flush()
    conversation = _latest(session, widget, contact)
    messages = (
        repo.visible_messages(
            session, business_id=widget.business_id, conversation_ids=[conversation.id]
        )
        if conversation is not None
        else []
    )
    return {
        "visitor_token": issue_token(widget, visitor),
        "conversation": conversation_view(session, conversation),
        "messages": [message_view(m, agent) for m, agent in messages],
        "needs_prechat": bool(_missing_prechat(widget, contact)),
    }


def _limit(limit: str, *keys: str) -> None:
    try:
        ratelimit.hit(limit, *keys)
    except ratelimit.RateLimited as exc:
        raise TooManyRequests(
            f"Too many messages; try again in {exc.retry_after} s.", retry_after=exc.retry_after
        ) from None


def limit_session(widget: Widget, client_ip: str) -> None:
    """Count a session start from one IP address (a flood of new visitors is refused)."""
    _limit(IP_SESSIONS, "widget-session", str(widget.integration_id), client_ip)


def post_message(
    session: Session, *, widget: Widget, visitor: Visitor, client_id: Any, text: Any
) -> bool:
    """Hand a visitor's message to the pipeline (once per client id); True when it was new."""
    text = str(text or "").strip() if not isinstance(text, (dict, list)) else ""
    if not text:
        raise WidgetError("The message is empty; type something to send.", code="empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise WidgetError(
            f"The message is {len(text):,} characters; the limit is {MAX_MESSAGE_CHARS:,}.",
            code="too_long",
        )
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise WidgetError(
            "client_id must be 8-64 letters, digits, '-' or '_' (a UUID works).",
            code="invalid_client_id",
        )
    contact = _contact(session, widget, visitor)
    if missing := _missing_prechat(widget, contact):
        raise PrechatRequired(f"Please give your {' and '.join(missing)} before chatting.")
    _limit(VISITOR_MESSAGES, "widget-visitor", str(widget.integration_id), visitor.visitor_id)
    _limit(KEY_MESSAGES, "widget-key", str(widget.integration_id))
    body = json.dumps({
        "client_id": f"{visitor.visitor_id}:{client_id}",
        "visitor_id": visitor.visitor_id,
        "text": text,
        "name": contact.name if contact else None,
    }).encode()  # fmt: skip
    events_in = widget_channel.adapter.parse(body, widget.cfg)
    return bool(conversations.receive(session, cfg=widget.cfg, events_in=events_in))


def updates(
    session: Session, *, widget: Widget, visitor: Visitor, after_id: int
) -> tuple[dict | None, list[dict]]:
    """The visitor's latest conversation and the messages after `after_id`, for the stream."""
    contact = _contact(session, widget, visitor)
    if contact is None:
        return None, []
    ids = repo.conversation_ids_of_contact(
        session, business_id=widget.business_id, integration_id=widget.integration_id,
        contact_id=contact.id,
    )  # fmt: skip
    messages = repo.visible_messages(
        session, business_id=widget.business_id, conversation_ids=ids, after_id=after_id
    )
    views = [message_view(m, agent) for m, agent in messages]
    return conversation_view(session, _latest(session, widget, contact)), views


def contact_id_of(session: Session, *, widget: Widget, visitor: Visitor) -> int | None:
    """The visitor's contact id, once they have one (the stream uses it to pick events)."""
    contact = _contact(session, widget, visitor)
    return contact.id if contact else None


def ask_for_human(session: Session, *, widget: Widget, visitor: Visitor) -> dict | None:
    """The visitor pressed "Talk to a human": stop the AI and call the team."""
    _limit(VISITOR_ACTIONS, "widget-action", str(widget.integration_id), visitor.visitor_id)
    contact = _contact(session, widget, visitor)
    if missing := _missing_prechat(widget, contact):
        raise PrechatRequired(f"Please give your {' and '.join(missing)} before chatting.")
    conversation = conversations.open_conversation(
        session, business_id=widget.business_id, integration_id=widget.integration_id,
        sender_id=visitor.visitor_id, name=contact.name if contact else None,
    )  # fmt: skip
    conversations.request_human(session, conversation=conversation)
    return conversation_view(session, conversation)


def rate(session: Session, *, widget: Widget, visitor: Visitor, score: Any, comment: Any) -> None:
    """Store the visitor's rating of their resolved conversation."""
    _limit(VISITOR_ACTIONS, "widget-action", str(widget.integration_id), visitor.visitor_id)
    contact = _contact(session, widget, visitor)
    conversation = _latest(session, widget, contact)
    if conversation is None:
        raise NotResolved("There is no conversation to rate yet.")
    try:
        conversations.rate(
            session, conversation=conversation, score=score,
            comment=str(comment) if comment is not None else None,
        )  # fmt: skip
    except conversations.NotResolved as exc:
        raise NotResolved(str(exc)) from None
    except conversations.InvalidRating as exc:
        raise WidgetError(str(exc), code="invalid_rating") from None


def leave_email(
    session: Session, *, widget: Widget, visitor: Visitor, email: Any, name: Any, message: Any
) -> int:
    """Out of hours: keep the visitor's email (and note) as a lead so the team replies later."""
    _limit(VISITOR_ACTIONS, "widget-action", str(widget.integration_id), visitor.visitor_id)
    fields = _clean_fields(name, email, None)
    if "email" not in fields:
        raise WidgetError("Give an email address so the team can reply.", code="invalid_email")
    note = str(message or "").strip()[:MAX_MESSAGE_CHARS] or None
    contact = _ensure_contact(session, widget, visitor)
    contact.email = fields["email"]
    contact.name = fields.get("name") or contact.name
    session.add(contact)
    session.flush()
    conversation = _latest(session, widget, contact)
    lead = leads.capture(
        session, business_id=widget.business_id, source="widget_offline", contact_id=contact.id,
        conversation_id=conversation.id if conversation else None, name=contact.name,
        email=contact.email, interest=note,
    )  # fmt: skip
    return lead.id
