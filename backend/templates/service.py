"""WhatsApp message templates: write them, submit them to Meta, follow their review, send them.

Outside WhatsApp's 24-hour window only an approved template reaches a customer. Owners and
admins (`templates:manage`) write and submit templates; anyone who replies to customers
(`conversations:reply`) can pick an approved one in the inbox. Meta reviews a template and
reports the outcome by webhook (`message_template_status_update`, `template_category_update`)
and on `GET /{waba_id}/message_templates`, which a periodic job reads; either way owners and
admins are notified once per change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
from pywa.types.templates import TemplateLanguage
from sqlmodel import Session

from backend import events
from backend.auth.permissions import Actor, Permission
from backend.channels import meta
from backend.channels.service import to_config
from backend.conversations import service as conversations
from backend.core.queue import enqueue_after_commit
from backend.handoff import service as handoff
from backend.models.base import utcnow
from backend.models.channels import ChannelIntegration
from backend.models.conversations import Conversation
from backend.models.notifications import NotificationKind
from backend.models.templates import (
    Broadcast,
    BroadcastStatus,
    MessageTemplate,
    TemplateStatus,
)
from backend.notifications import service as notifications
from backend.templates import optout
from backend.templates import repository as repo
from backend.templates.schemas import (
    BUTTON_TYPES,
    CATEGORIES,
    BroadcastView,
    GraphFailed,
    RecipientView,
    SegmentPreview,
    TemplateError,
    TemplateInput,
    TemplateView,
)

# No notification kind for templates exists yet: status changes reuse the in-app-only kind.
NOTIFY_KIND = NotificationKind.TEMPLATE_STATUS
NOTIFY_ROLES = ("owner", "admin")
APPLY_WEBHOOK_UPDATES = "backend.templates.tasks.apply_webhook_updates"
# The `field` of a WhatsApp webhook change that concerns a template.
WEBHOOK_FIELDS = ("message_template_status_update", "template_category_update")

MAX_NAME, MAX_BODY, MAX_HEADER, MAX_FOOTER = 512, 1024, 60, 60
MAX_BUTTONS, MAX_QUICK_REPLIES, MAX_URL_BUTTONS, MAX_PHONE_BUTTONS = 10, 10, 2, 1
MAX_BUTTON_TEXT, MAX_URL, MAX_EXAMPLE = 25, 2000, 200
_NAME = re.compile(r"^[a-z0-9_]+$")
_VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_PHONE = re.compile(r"^\+[1-9][0-9]{6,19}$")
LANGUAGES = frozenset(lang.value for lang in TemplateLanguage if lang.value != "None")
# Meta's review statuses, as BizBot keeps them (FLAGGED changes nothing until Meta pauses it).
_STATUS = {
    "APPROVED": TemplateStatus.APPROVED,
    "REINSTATED": TemplateStatus.APPROVED,
    "PENDING": TemplateStatus.PENDING,
    "IN_APPEAL": TemplateStatus.PENDING,
    "REJECTED": TemplateStatus.REJECTED,
    "PAUSED": TemplateStatus.PAUSED,
    "DISABLED": TemplateStatus.DISABLED,
    "PENDING_DELETION": TemplateStatus.DISABLED,
    "DELETED": TemplateStatus.DISABLED,
    "ARCHIVED": TemplateStatus.DISABLED,
    "LIMIT_EXCEEDED": TemplateStatus.DISABLED,
}
_REASONS = {
    "ABUSIVE_CONTENT": "Meta found abusive content in it.",
    "INCORRECT_CATEGORY": "Its category does not match its content; pick the category Meta "
    "suggests.",
    "INVALID_FORMAT": "Its format is invalid (check variables, examples and buttons).",
    "SCAM": "Meta considered it a scam.",
    "PROMOTIONAL": "It is promotional; submit it as a marketing template.",
    "TAG_CONTENT_MISMATCH": "Its category does not match its content.",
}
_STATUS_WORD = {
    TemplateStatus.APPROVED: "approved",
    TemplateStatus.PENDING: "in review again",
    TemplateStatus.REJECTED: "rejected",
    TemplateStatus.PAUSED: "paused",
    TemplateStatus.DISABLED: "disabled",
}


# --- validation --------------------------------------------------------------------------------


def variables_of(text: str, *, field: str, errors: dict[str, str]) -> list[int]:
    """The variable numbers used in `text`, in order of first use; bad ones go to `errors`."""
    numbers: list[int] = []
    for match in _VARIABLE.finditer(text or ""):
        token = match.group(1)
        if not token.isdigit():
            errors.setdefault(
                field,
                f"{{{{{token}}}}} is not a variable: number them {{{{1}}}}, {{{{2}}}}, … in order.",
            )
            continue
        if int(token) not in numbers:
            numbers.append(int(token))
    if numbers and sorted(numbers) != list(range(1, len(numbers) + 1)):
        errors.setdefault(
            field,
            "Number the variables consecutively from {{1}} ("
            + ", ".join(f"{{{{{n}}}}}" for n in sorted(numbers))
            + " has a gap); renumber them.",
        )
    return numbers


def _examples(values: Iterable[Any], count: int, *, field: str, errors: dict[str, str]):
    cleaned = [str(v or "").strip() for v in values][:count]
    cleaned += [""] * (count - len(cleaned))
    missing = [f"{{{{{i + 1}}}}}" for i, v in enumerate(cleaned) if not v]
    if missing:
        errors.setdefault(
            field, f"Give an example for {', '.join(missing)}: Meta reviews the filled-in text."
        )
    long = [f"{{{{{i + 1}}}}}" for i, v in enumerate(cleaned) if len(v) > MAX_EXAMPLE]
    if long:
        errors.setdefault(field, f"Keep examples under {MAX_EXAMPLE} characters ({long[0]}).")
    return cleaned


def _buttons(raw: Iterable[Mapping[str, Any]], category: str, errors: dict[str, str]):
    buttons: list[dict[str, str]] = []
    for index, item in enumerate(raw or []):
        kind = str(item.get("type") or "").strip().lower()
        text = str(item.get("text") or "").strip()
        where = f"buttons.{index}"
        if kind not in BUTTON_TYPES:
            errors.setdefault(where, f"Choose a button type: {', '.join(BUTTON_TYPES)}.")
            continue
        if not text:
            errors.setdefault(where, "Write the button's label.")
        elif len(text) > MAX_BUTTON_TEXT:
            errors.setdefault(where, f"Keep a button label under {MAX_BUTTON_TEXT} characters.")
        button = {"type": kind, "text": text}
        if kind == "url":
            url = str(item.get("url") or "").strip()
            if not url.startswith(("https://", "http://")) or len(url) > MAX_URL:
                errors.setdefault(where, "Give the button a web address starting with https://.")
            button["url"] = url
        elif kind == "phone_number":
            phone = re.sub(r"[\s\-()]", "", str(item.get("phone_number") or ""))
            if not _PHONE.match(phone):
                errors.setdefault(
                    where, "Give the phone number in international form, e.g. +254700000001."
                )
            button["phone_number"] = phone
        buttons.append(button)
    counts = {k: sum(b["type"] == k for b in buttons) for k in BUTTON_TYPES}
    if len(buttons) > MAX_BUTTONS:
        errors.setdefault("buttons", f"A template has at most {MAX_BUTTONS} buttons.")
    elif counts["quick_reply"] > MAX_QUICK_REPLIES:
        errors.setdefault("buttons", f"A template has at most {MAX_QUICK_REPLIES} quick replies.")
    elif counts["url"] > MAX_URL_BUTTONS:
        errors.setdefault("buttons", f"A template has at most {MAX_URL_BUTTONS} link buttons.")
    elif counts["phone_number"] > MAX_PHONE_BUTTONS:
        errors.setdefault("buttons", "A template has at most one call button.")
    elif category == "authentication" and (counts["url"] or counts["phone_number"]):
        errors.setdefault(
            "buttons", "Authentication templates only get Meta's copy-code button; remove these."
        )
    return buttons


def validate(data: TemplateInput) -> TemplateInput:
    """The input cleaned as Meta requires, or TemplateError naming every field to fix."""
    errors: dict[str, str] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = "Name the template, e.g. order_ready."
    elif len(name) > MAX_NAME:
        errors["name"] = f"Keep the name under {MAX_NAME} characters."
    elif not _NAME.match(name):
        errors["name"] = (
            "Use only lowercase letters, digits and underscores in the name, e.g. "
            f"{re.sub(r'[^a-z0-9_]+', '_', name.lower()).strip('_') or 'order_ready'}."
        )
    language = (data.language or "").strip()
    if language not in LANGUAGES:
        errors["language"] = (
            f"{language or 'An empty language'} is not a WhatsApp template language; use a code "
            "such as en, en_US, fr, pt_BR or sw."
        )
    category = (data.category or "").strip().lower()
    if category not in CATEGORIES:
        errors["category"] = "Choose a category: marketing, utility or authentication."
    body = (data.body or "").strip()
    if not body:
        errors["body"] = "Write the message body."
    elif len(body) > MAX_BODY:
        errors["body"] = f"Keep the body under {MAX_BODY:,} characters ({len(body):,} now)."
    body_vars = variables_of(body, field="body", errors=errors)
    if body_vars and "body" not in errors:
        stripped = _VARIABLE.sub("{{}}", body)
        if stripped.startswith("{{}}") or stripped.endswith("{{}}"):
            errors["body"] = "Meta refuses a body that starts or ends with a variable; add words."
    header = (data.header_text or "").strip()
    if len(header) > MAX_HEADER:
        errors["header_text"] = f"Keep the header under {MAX_HEADER} characters."
    header_vars = variables_of(header, field="header_text", errors=errors)
    if len(header_vars) > 1:
        errors.setdefault("header_text", "A header takes at most one variable, {{1}}.")
    if header and category == "authentication":
        errors.setdefault("header_text", "Authentication templates have no header; remove it.")
    footer = (data.footer or "").strip()
    if len(footer) > MAX_FOOTER:
        errors["footer"] = f"Keep the footer under {MAX_FOOTER} characters."
    elif _VARIABLE.search(footer):
        errors["footer"] = "A footer cannot hold variables; move them to the body."
    buttons = _buttons(data.buttons, category, errors)
    body_examples = _examples(
        data.body_examples, len(body_vars), field="body_examples", errors=errors
    )
    header_examples = _examples(
        data.header_examples, len(header_vars), field="header_examples", errors=errors
    )
    if errors:
        raise TemplateError("", errors=errors)
    return TemplateInput(
        name=name, language=language, category=category, body=body, header_text=header,
        footer=footer, buttons=buttons, body_examples=body_examples,
        header_examples=header_examples,
    )  # fmt: skip


def fill(text: str, values: list[str]) -> str:
    """`text` with {{n}} replaced by the n-th value (left as is when there is none)."""

    def one(match: re.Match[str]) -> str:
        token = match.group(1)
        if token.isdigit() and 0 < int(token) <= len(values) and values[int(token) - 1]:
            return values[int(token) - 1]
        return match.group(0)

    return _VARIABLE.sub(one, text or "")


def preview(data: TemplateInput) -> str:
    """The message as the customer would read it with the examples filled in (no validation)."""
    parts = [
        f"*{fill(data.header_text, data.header_examples)}*" if data.header_text else "",
        fill(data.body, data.body_examples),
        f"_{data.footer}_" if data.footer else "",
    ]
    return "\n\n".join(p for p in parts if p.strip())


# --- reading -----------------------------------------------------------------------------------


def _input_of(row: MessageTemplate) -> TemplateInput:
    examples = row.variables_examples or {}
    return TemplateInput(
        name=row.name, language=row.language, category=row.category, body=row.body,
        header_text=str((row.header or {}).get("text") or ""), footer=row.footer or "",
        buttons=list(row.buttons or []), body_examples=list(examples.get("body") or []),
        header_examples=list(examples.get("header") or []),
    )  # fmt: skip


def _view(row: MessageTemplate) -> TemplateView:
    data = _input_of(row)
    return TemplateView(
        id=row.id, name=row.name, language=row.language, category=row.category,
        status=row.status, rejection_reason=row.rejection_reason,
        header_text=data.header_text, body=row.body, footer=data.footer, buttons=data.buttons,
        body_examples=data.body_examples, header_examples=data.header_examples,
        variable_count=len(variables_of(row.body, field="body", errors={})),
        external_id=row.external_id, last_synced_at=row.last_synced_at, preview=preview(data),
    )  # fmt: skip


def list_templates(session: Session, *, actor: Actor) -> list[TemplateView]:
    """Every template of the actor's business, with its review status."""
    actor.require(Permission.TEMPLATES_MANAGE)
    return [_view(r) for r in repo.list_templates(session, business_id=actor.business_id)]


def approved_templates(session: Session, *, actor: Actor) -> list[TemplateView]:
    """The templates an agent may send now (approved by Meta)."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    rows = repo.list_templates(
        session, business_id=actor.business_id, status=TemplateStatus.APPROVED
    )
    return [_view(r) for r in rows]


def _template(session: Session, actor: Actor, template_id: int, *, lock: bool = False):
    row = repo.get_template(
        session, business_id=actor.business_id, template_id=template_id, for_update=lock
    )
    if row is None:
        raise TemplateError("This template does not exist (any more); reload the page.")
    return row


def get_template(session: Session, *, actor: Actor, template_id: int) -> TemplateView:
    """One template of the actor's business."""
    actor.require(Permission.TEMPLATES_MANAGE)
    return _view(_template(session, actor, template_id))


# --- writing -----------------------------------------------------------------------------------


def _apply(row: MessageTemplate, data: TemplateInput) -> None:
    row.name, row.language, row.category, row.body = (
        data.name, data.language, data.category, data.body,
    )  # fmt: skip
    row.header = {"format": "text", "text": data.header_text} if data.header_text else {}
    row.footer = data.footer or None
    row.buttons = data.buttons
    row.variables_examples = {"body": data.body_examples, "header": data.header_examples}


def _check_unique(session: Session, actor: Actor, data: TemplateInput, own_id: int | None):
    other = repo.find_by_name(
        session, business_id=actor.business_id, name=data.name, language=data.language
    )
    if other is not None and other.id != own_id:
        raise TemplateError(
            f"A template named {data.name} in {data.language} exists already; choose another "
            "name or edit that one.",
            field="name",
        )


def create_template(session: Session, *, actor: Actor, data: TemplateInput) -> TemplateView:
    """Save a new template as a draft (validated as Meta requires)."""
    actor.require(Permission.TEMPLATES_MANAGE)
    data = validate(data)
    _check_unique(session, actor, data, None)
    integration = repo.whatsapp_integration(session, business_id=actor.business_id)
    row = MessageTemplate(
        business_id=actor.business_id,
        channel_integration_id=integration.id if integration else None,
        name=data.name,
        language=data.language,
        body=data.body,
    )
    _apply(row, data)
    session.add(row)
    session.flush()
    return _view(row)


def update_template(
    session: Session, *, actor: Actor, template_id: int, data: TemplateInput
) -> TemplateView:
    """Change a template; one Meta knows goes back to draft until it is submitted again."""
    actor.require(Permission.TEMPLATES_MANAGE)
    row = _template(session, actor, template_id, lock=True)
    if row.status == TemplateStatus.PENDING:
        raise TemplateError(
            "Meta is reviewing this template; wait for its decision before editing it.",
            field="status",
        )
    data = validate(data)
    if row.external_id and (data.name, data.language) != (row.name, row.language):
        raise TemplateError(
            "Meta does not rename a submitted template or change its language; create a new "
            "template instead.",
            field="name",
        )
    _check_unique(session, actor, data, row.id)
    _apply(row, data)
    row.status, row.rejection_reason = TemplateStatus.DRAFT, None
    session.add(row)
    session.flush()
    return _view(row)


def _graph(integration: ChannelIntegration | None) -> tuple[httpx.Client, str]:
    if integration is None:
        raise TemplateError(
            "Connect a WhatsApp number first (Integrations): templates are submitted to its "
            "WhatsApp Business Account.",
            field="channel",
        )
    creds = to_config(integration).credentials
    if not creds.get("waba_id") or not creds.get("access_token"):
        raise TemplateError(
            "The WhatsApp integration needs its waba_id and access_token; fill them in on the "
            "Integrations page.",
            field="channel",
        )
    return meta.graph_client(str(creds["access_token"])), str(creds["waba_id"])


def _call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise GraphFailed(f"Could not reach the WhatsApp Cloud API: {exc}", retryable=True) from exc
    if response.status_code >= 400:
        text, retryable = meta.graph_error(response)
        raise GraphFailed(f"Meta refused it: {text}", retryable=retryable)
    try:
        return response.json()
    except ValueError as exc:
        raise GraphFailed("The WhatsApp Cloud API answered with something not JSON.") from exc


def components(data: TemplateInput) -> list[dict[str, Any]]:
    """The template in the Graph API's `components` format."""
    if data.category == "authentication":
        otp = next((b["text"] for b in data.buttons), "") or "Copy code"
        return [
            {"type": "BODY", "add_security_recommendation": True},
            {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": otp}]},
        ]
    parts: list[dict[str, Any]] = []
    if data.header_text:
        header: dict[str, Any] = {"type": "HEADER", "format": "TEXT", "text": data.header_text}
        if data.header_examples:
            header["example"] = {"header_text": data.header_examples}
        parts.append(header)
    body: dict[str, Any] = {"type": "BODY", "text": data.body}
    if data.body_examples:
        body["example"] = {"body_text": [data.body_examples]}
    parts.append(body)
    if data.footer:
        parts.append({"type": "FOOTER", "text": data.footer})
    if data.buttons:
        buttons = []
        for b in data.buttons:
            item = {"type": b["type"].upper(), "text": b["text"]}
            if b.get("url"):
                item["url"] = b["url"]
            if b.get("phone_number"):
                item["phone_number"] = b["phone_number"]
            buttons.append(item)
        parts.append({"type": "BUTTONS", "buttons": buttons})
    return parts


def submit_template(session: Session, *, actor: Actor, template_id: int) -> TemplateView:
    """Send the template to Meta for review; it becomes `pending` with Meta's template id."""
    actor.require(Permission.TEMPLATES_MANAGE)
    row = _template(session, actor, template_id, lock=True)
    if row.status in (TemplateStatus.PENDING, TemplateStatus.APPROVED):
        raise TemplateError(
            f"This template is {row.status} already; edit it to submit a new version.",
            field="status",
        )
    data = validate(_input_of(row))
    integration = repo.whatsapp_integration(
        session, business_id=actor.business_id, integration_id=row.channel_integration_id
    ) or repo.whatsapp_integration(session, business_id=actor.business_id)
    client, waba_id = _graph(integration)
    payload = {"components": components(data)}
    with client:
        if row.external_id:  # Meta edits a known template in place.
            answer = _call(client, "POST", f"/{row.external_id}", json=payload)
        else:
            payload = {
                "name": data.name, "language": data.language,
                "category": data.category.upper(), **payload,
            }  # fmt: skip
            answer = _call(client, "POST", f"/{waba_id}/message_templates", json=payload)
    row.channel_integration_id = integration.id
    row.external_id = str(answer.get("id") or row.external_id or "") or None
    row.status = _STATUS.get(str(answer.get("status") or "PENDING").upper(), TemplateStatus.PENDING)
    if answer.get("category"):
        row.category = str(answer["category"]).lower()
    row.rejection_reason = None
    row.last_synced_at = utcnow()
    session.add(row)
    session.flush()
    return _view(row)


def delete_template(session: Session, *, actor: Actor, template_id: int) -> None:
    """Delete the template here and, when Meta has it, at Meta too."""
    actor.require(Permission.TEMPLATES_MANAGE)
    row = _template(session, actor, template_id, lock=True)
    if row.external_id:
        integration = repo.whatsapp_integration(
            session, business_id=actor.business_id, integration_id=row.channel_integration_id
        )
        if integration is not None:
            client, waba_id = _graph(integration)
            with client:
                _call(
                    client,
                    "DELETE",
                    f"/{waba_id}/message_templates",
                    params={"name": row.name, "hsm_id": row.external_id},
                )
    session.delete(row)
    session.flush()


# --- Meta's review -----------------------------------------------------------------------------


def _reason_text(reason: Any) -> str | None:
    code = str(reason or "").strip()
    if not code or code.upper() == "NONE":
        return None
    return _REASONS.get(code.upper(), code.replace("_", " ").capitalize())


def apply_change(
    session: Session,
    *,
    business_id: int,
    external_id: str | None,
    name: str,
    language: str,
    status: str | None = None,
    reason: str | None = None,
    category: str | None = None,
) -> bool:
    """Record what Meta says about a template; notify owners and admins when it changed."""
    row = repo.find_for_provider(
        session, business_id=business_id, external_id=external_id, name=name, language=language
    )
    if row is None:
        return False
    changes: list[str] = []
    new_status = _STATUS.get(str(status or "").upper())
    if new_status is not None and new_status != row.status:
        row.status = new_status
        row.rejection_reason = (
            _reason_text(reason) if new_status in (TemplateStatus.REJECTED, TemplateStatus.PAUSED)
            else None
        )  # fmt: skip
        changes.append(f"is {_STATUS_WORD.get(new_status, new_status)}")
    new_category = str(category or "").strip().lower()
    if new_category in CATEGORIES and new_category != row.category:
        changes.append(f"moved from {row.category} to {new_category}")
        row.category = new_category
    if external_id and not row.external_id:
        row.external_id = external_id
    row.last_synced_at = utcnow()
    session.add(row)
    session.flush()
    if changes:
        why = f" Reason: {row.rejection_reason}" if row.rejection_reason else ""
        notifications.notify_roles(
            session,
            business_id=business_id,
            kind=NOTIFY_KIND,
            roles=NOTIFY_ROLES,
            title=f"Template {row.name} ({row.language}) {' and '.join(changes)}",
            body=f"Meta reviewed your WhatsApp template.{why}",
            link="/templates",
            data={"template_id": row.id, "status": row.status, "category": row.category},
            dedup_key=f"template:{row.id}:{row.status}:{row.category}:{row.rejection_reason}",
        )
        events.publish(session, "template.updated", business_id=business_id,
                       template_id=row.id, status=row.status)  # fmt: skip
    return bool(changes)


def after_webhook(session: Session, *, events_in: list[Any], new_ids: list[int]) -> None:
    """For the webhook route: when a delivery held template news, apply it in a job."""
    if new_ids and any(template_change(getattr(e, "raw", None)) for e in events_in):
        enqueue_after_commit(session, APPLY_WEBHOOK_UPDATES, list(new_ids), queue="default")


def template_change(raw: Any) -> dict[str, Any] | None:
    """Meta's template news in a stored webhook change (`{field, value}`), else None."""
    if not isinstance(raw, Mapping) or raw.get("field") not in WEBHOOK_FIELDS:
        return None
    value = raw.get("value")
    if not isinstance(value, Mapping) or not value.get("message_template_name"):
        return None
    external = value.get("message_template_id")
    change = {
        "external_id": str(external) if external not in (None, "") else None,
        "name": str(value.get("message_template_name")),
        "language": str(value.get("message_template_language") or ""),
    }
    if raw["field"] == "template_category_update":
        return {**change, "category": value.get("new_category") or value.get("correct_category")}
    info = value.get("rejection_info") if isinstance(value.get("rejection_info"), Mapping) else {}
    other = value.get("other_info") if isinstance(value.get("other_info"), Mapping) else {}
    reason = info.get("reason") or value.get("reason")
    if str(value.get("event") or "").upper() == "PAUSED":
        reason = other.get("description") or other.get("title") or reason
    return {**change, "status": value.get("event"), "reason": reason}


def apply_webhook_event(session: Session, *, business_id: int, payload: Mapping[str, Any]) -> bool:
    """Apply one stored webhook event if it is template news; whether anything changed."""
    change = template_change(payload.get("raw"))
    if change is None:
        return False
    return apply_change(session, business_id=business_id, **change)


def _remote_input(item: Mapping[str, Any]) -> TemplateInput:
    data = TemplateInput(
        name=str(item.get("name") or ""), language=str(item.get("language") or ""),
        category=str(item.get("category") or "utility").lower(), body="",
    )  # fmt: skip
    for part in item.get("components") or []:
        kind = str(part.get("type") or "").upper()
        example = part.get("example") or {}
        if kind == "HEADER" and str(part.get("format") or "TEXT").upper() == "TEXT":
            data.header_text = str(part.get("text") or "")
            data.header_examples = list(example.get("header_text") or [])
        elif kind == "BODY":
            data.body = str(part.get("text") or "")
            data.body_examples = list((example.get("body_text") or [[]])[0])
        elif kind == "FOOTER":
            data.footer = str(part.get("text") or "")
        elif kind == "BUTTONS":
            data.buttons = [
                {k: v for k, v in b.items() if k in ("type", "text", "url", "phone_number")}
                | {"type": str(b.get("type") or "").lower()}
                for b in part.get("buttons") or []
            ]
    return data


def sync_templates(session: Session, *, business_id: int, integration_id: int | None = None) -> int:
    """Read every template of the business's WhatsApp account from Meta; how many changed.

    Statuses and categories are updated (and notified) like the webhook does; templates made
    in Meta's own tools are added here so they can be sent too.
    """
    integration = repo.whatsapp_integration(
        session, business_id=business_id, integration_id=integration_id
    )
    client, waba_id = _graph(integration)
    fields = "id,name,language,status,category,rejected_reason,components"
    remote: list[dict[str, Any]] = []
    with client:
        page = _call(
            client, "GET", f"/{waba_id}/message_templates", params={"fields": fields, "limit": 100}
        )
        for _ in range(50):  # at most 5,000 templates: Meta's own cap per account is lower
            remote.extend(i for i in page.get("data") or [] if isinstance(i, dict))
            after = ((page.get("paging") or {}).get("cursors") or {}).get("after")
            if not (page.get("paging") or {}).get("next") or not after:
                break
            page = _call(
                client,
                "GET",
                f"/{waba_id}/message_templates",
                params={"fields": fields, "limit": 100, "after": after},
            )
    changed = 0
    for item in remote:
        name, language = str(item.get("name") or ""), str(item.get("language") or "")
        if not name or not language:
            continue
        external_id = str(item.get("id") or "") or None
        if repo.find_for_provider(
            session, business_id=business_id, external_id=external_id, name=name,
            language=language,
        ) is None:  # fmt: skip
            row = MessageTemplate(
                business_id=business_id, channel_integration_id=integration.id, name=name,
                language=language, body="", external_id=external_id,
                status=_STATUS.get(str(item.get("status") or "").upper(), TemplateStatus.PENDING),
                rejection_reason=_reason_text(item.get("rejected_reason")),
            )  # fmt: skip
            _apply(row, _remote_input(item))
            row.last_synced_at = utcnow()
            session.add(row)
            session.flush()
            changed += 1
            continue
        changed += apply_change(
            session, business_id=business_id, external_id=external_id, name=name,
            language=language, status=item.get("status"), reason=item.get("rejected_reason"),
            category=item.get("category"),
        )  # fmt: skip
    return changed


def sync_now(session: Session, *, actor: Actor) -> int:
    """The "sync now" button: read the statuses from Meta for the actor's business."""
    actor.require(Permission.TEMPLATES_MANAGE)
    return sync_templates(session, business_id=actor.business_id)


def integrations_to_sync(session: Session) -> list[tuple[int, int]]:
    """(business id, integration id) of every enabled WhatsApp integration (periodic sync)."""
    return [(i.business_id, i.id) for i in repo.whatsapp_integrations_for_sync(session)]


# --- sending -----------------------------------------------------------------------------------


def send_template(
    session: Session,
    *,
    actor: Actor,
    conversation_id: int,
    template_id: int,
    variables: list[str],
    header_variables: list[str] | None = None,
    now: datetime | None = None,
):
    """Send an approved template to the conversation's customer (allowed outside 24 hours).

    It goes through the outbox like any reply: stored, queued, its delivery status moving as
    WhatsApp reports. Returns the stored message.
    """
    actor.require(Permission.CONVERSATIONS_REPLY)
    now = now or utcnow()
    conversation = repo.get_conversation(
        session, business_id=actor.business_id, conversation_id=conversation_id
    )
    if conversation is None:
        raise TemplateError("This conversation does not exist (any more).", field="conversation")
    if conversation.status == "resolved":
        raise TemplateError("This conversation is resolved; reopen it first.", field="conversation")
    integration = (
        repo.whatsapp_integration(
            session, business_id=actor.business_id,
            integration_id=conversation.channel_integration_id,
        ) if conversation.channel_integration_id else None
    )  # fmt: skip
    if integration is None:
        raise TemplateError(
            "Templates are sent on WhatsApp; this conversation is not on a connected WhatsApp "
            "number.",
            field="conversation",
        )
    row = _template(session, actor, template_id)
    if row.status != TemplateStatus.APPROVED:
        raise TemplateError(
            f"Only approved templates can be sent; {row.name} is {row.status}.", field="template"
        )
    parts, text = _fill_for_sending(row, variables, header_variables)
    if handoff.claim_for_reply(session, conversation=conversation, user_id=actor.user_id, now=now):
        events.publish(session, "conversation.updated", business_id=actor.business_id,
                       conversation_id=conversation.id, status=conversation.status,
                       assignee_user_id=conversation.assignee_user_id)  # fmt: skip
    return _queue_template(
        session, conversation=conversation, row=row, parts=parts, text=text,
        sender_user_id=actor.user_id,
    )  # fmt: skip


def _fill_for_sending(
    row: MessageTemplate, variables: list[str] | None, header_variables: list[str] | None
) -> tuple[list[dict[str, Any]], str]:
    """The Cloud API's send components and the text the inbox shows; TemplateError if short."""
    data = _input_of(row)
    body_count = len(variables_of(row.body, field="body", errors={}))
    header_count = len(variables_of(data.header_text, field="header", errors={}))
    errors: dict[str, str] = {}
    values = _examples(variables or [], body_count, field="variables", errors=errors)
    header_values = _examples(
        header_variables or [], header_count, field="header_variables", errors=errors
    )
    if errors:
        raise TemplateError(
            "", errors={k: v.replace("an example", "a value") for k, v in errors.items()}
        )
    parts: list[dict[str, Any]] = []
    if header_values:
        parts.append(
            {"type": "header", "parameters": [{"type": "text", "text": v} for v in header_values]}
        )
    if values:
        parts.append({"type": "body", "parameters": [{"type": "text", "text": v} for v in values]})
    text = preview(TemplateInput(
        name=row.name, language=row.language, category=row.category, body=row.body,
        header_text=data.header_text, footer=data.footer, body_examples=values,
        header_examples=header_values,
    ))  # fmt: skip
    return parts, text


def _queue_template(
    session: Session, *, conversation, row: MessageTemplate, parts: list[dict[str, Any]],
    text: str, sender_user_id: int | None,
):  # fmt: skip
    message = conversations.add_outbound(
        session, conversation=conversation, text=text, sender_type="agent",
        sender_user_id=sender_user_id, language=row.language,
    )  # fmt: skip
    # The send job runs after commit, so it sees the template the message carries.
    message.attachments = [
        {"type": "template", "name": row.name, "language": row.language, "components": parts}
    ]
    message.content_type = "template"
    session.add(message)
    session.flush()
    return message


# --- broadcasts ----------------------------------------------------------------------------------

SEND_BROADCAST = "backend.templates.tasks.send_broadcast"
# Messages per second one broadcast sends: well under the Cloud API's 80 per second per number,
# leaving room for the number's conversations.
BROADCAST_PER_SECOND = 20
BROADCAST_PAUSE = timedelta(seconds=1)


# A broadcast lists its first recipients (more on request, up to RECIPIENTS_MAX); its counts
# per status always cover every recipient, counted in SQL.
RECIPIENTS_SHOWN = 50
RECIPIENTS_MAX = 500


def _broadcast_views(
    session: Session,
    rows: list[Broadcast],
    *,
    business_id: int,
    recipients: Mapping[int, int] | None = None,
) -> list[BroadcastView]:
    """The views of the business's broadcasts `rows` in two statements, however many
    recipients they have: `recipients` says how many to list of each (RECIPIENTS_SHOWN when
    not said, never more than RECIPIENTS_MAX)."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    counts = repo.recipient_counts(session, business_id=business_id, broadcast_ids=ids)
    wanted = recipients or {}
    limits = {i: max(0, min(int(wanted.get(i, RECIPIENTS_SHOWN)), RECIPIENTS_MAX)) for i in ids}
    listed: dict[int, list[RecipientView]] = {}
    for recipient, name, status, send_error in repo.first_recipients(
        session, business_id=business_id, limits=limits
    ):
        listed.setdefault(recipient.broadcast_id, []).append(
            RecipientView(
                contact_id=recipient.contact_id,
                contact_name=name or f"Contact {recipient.contact_id}",
                status=status,
                error=recipient.error or (send_error if status == "failed" else None),
            )
        )
    return [
        BroadcastView(
            id=row.id,
            name=row.name,
            template_id=row.template_id,
            status=row.status,
            segment=dict(row.segment or {}),
            counts=counts.get(row.id, {}),
            recipients=listed.get(row.id, []),
        )
        for row in rows
    ]


def _broadcast_integration(
    session: Session, actor: Actor, integration_id: int | None
) -> ChannelIntegration:
    integration = repo.whatsapp_integration(
        session, business_id=actor.business_id, integration_id=integration_id
    )
    if integration is None:
        raise TemplateError(
            "Connect a WhatsApp number first (Integrations): broadcasts go out on it.",
            field="channel",
        )
    return integration


def _segment(session: Session, actor: Actor, label, lead_stage, integration_id):
    integration = _broadcast_integration(session, actor, integration_id)
    segment = {
        "label": (label or "").strip() or None,
        "lead_stage": (lead_stage or "").strip() or None,
        "channel_integration_id": integration.id,
    }
    return integration, segment


def broadcast_channels(session: Session, *, actor: Actor) -> list[tuple[int, str]]:
    """(integration id, name) of the WhatsApp numbers a broadcast can go out on."""
    actor.require(Permission.TEMPLATES_MANAGE)
    rows = repo.whatsapp_integrations(session, business_id=actor.business_id)
    return [(r.id, r.name or f"WhatsApp {r.id}") for r in rows]


def preview_segment(
    session: Session,
    *,
    actor: Actor,
    label: str | None = None,
    lead_stage: str | None = None,
    integration_id: int | None = None,
) -> SegmentPreview:
    """How many contacts a broadcast to this segment reaches, before it is sent."""
    actor.require(Permission.TEMPLATES_MANAGE)
    integration = _broadcast_integration(session, actor, integration_id)
    total, opted_out = repo.count_segment(
        session, business_id=actor.business_id, integration_id=integration.id,
        label=(label or "").strip() or None, lead_stage=(lead_stage or "").strip() or None,
    )  # fmt: skip
    return SegmentPreview(total=total, will_send=total - opted_out, opted_out=opted_out)


def create_broadcast(
    session: Session,
    *,
    actor: Actor,
    template_id: int,
    name: str,
    variables: list[str],
    header_variables: list[str] | None = None,
    label: str | None = None,
    lead_stage: str | None = None,
    integration_id: int | None = None,
) -> BroadcastView:
    """Send an approved template to a segment (label, lead stage, WhatsApp number).

    Contacts who opted out are listed as `opted_out` and never messaged. Sending happens in a
    job, at most BROADCAST_PER_SECOND messages a second.
    """
    actor.require(Permission.TEMPLATES_MANAGE)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise TemplateError("Name the broadcast (up to 120 characters).", field="name")
    row = _template(session, actor, template_id)
    if row.status != TemplateStatus.APPROVED:
        raise TemplateError(
            f"Only approved templates can be broadcast; {row.name} is {row.status}.",
            field="template",
        )
    _fill_for_sending(row, variables, header_variables)  # every variable has a value
    integration, segment = _segment(session, actor, label, lead_stage, integration_id)
    broadcast = Broadcast(
        business_id=actor.business_id, template_id=row.id, channel_integration_id=integration.id,
        name=name, segment=segment,
        variables=[list(variables or []), list(header_variables or [])],
        created_by_user_id=actor.user_id,
    )  # fmt: skip
    session.add(broadcast)
    session.flush()
    # The recipients are chosen and stored by the database: no contact is loaded into Python.
    stored = repo.add_segment_recipients(
        session, business_id=actor.business_id, broadcast_id=broadcast.id,
        integration_id=integration.id, label=segment["label"], lead_stage=segment["lead_stage"],
    )  # fmt: skip
    if not stored:
        session.delete(broadcast)
        session.flush()
        raise TemplateError(
            "No contact on this WhatsApp number matches the segment; widen the label or stage.",
            field="segment",
        )
    enqueue_after_commit(session, SEND_BROADCAST, broadcast.id, queue="default")
    events.publish(session, "broadcast.updated", business_id=actor.business_id,
                   broadcast_id=broadcast.id)  # fmt: skip
    [view] = _broadcast_views(session, [broadcast], business_id=actor.business_id)
    return view


def get_broadcast(
    session: Session, *, actor: Actor, broadcast_id: int, recipients: int = RECIPIENTS_SHOWN
) -> BroadcastView:
    """A broadcast of the actor's business: its counts per status and the delivery status of
    its first `recipients` recipients (at most RECIPIENTS_MAX)."""
    actor.require(Permission.TEMPLATES_MANAGE)
    row = repo.get_broadcast(session, business_id=actor.business_id, broadcast_id=broadcast_id)
    if row is None:
        raise TemplateError("This broadcast does not exist.", field="broadcast")
    [view] = _broadcast_views(
        session, [row], business_id=actor.business_id, recipients={row.id: recipients}
    )
    return view


def set_opt_out(session: Session, *, actor: Actor, contact_id: int, opted_out: bool) -> bool:
    """An agent opts a contact out of broadcasts (their queued messages are skipped) or back
    in, from the contact card; whether anything changed."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    try:
        return optout.set_opted_out(
            session, business_id=actor.business_id, contact_id=contact_id, opted_out=opted_out
        )
    except LookupError as exc:
        raise TemplateError(str(exc), field="contact") from exc


def send_broadcast_batch(
    session: Session, *, broadcast_id: int, per_batch: int = BROADCAST_PER_SECOND
) -> int:
    """Queue the next `per_batch` messages of a broadcast; how many recipients still wait."""
    broadcast = repo.find_broadcast_for_job(session, broadcast_id=broadcast_id)
    if broadcast is None or broadcast.status != BroadcastStatus.SENDING:
        return 0
    business_id = broadcast.business_id
    row = repo.get_template(session, business_id=business_id, template_id=broadcast.template_id)
    values, header_values = [*list(broadcast.variables or []), [], []][:2]
    for recipient in repo.queued_recipients(
        session, business_id=business_id, broadcast_id=broadcast.id, limit=per_batch
    ):
        contact = repo.get_contact(
            session, business_id=business_id, contact_id=recipient.contact_id
        )
        if contact is None or contact.opted_out_at is not None:
            recipient.status = "opted_out"
        elif row is None or row.status != TemplateStatus.APPROVED:
            recipient.status, recipient.error = "failed", "The template is no longer approved."
        else:
            conversation = repo.contact_conversation(
                session, business_id=business_id, contact_id=contact.id,
                integration_id=broadcast.channel_integration_id,
            )  # fmt: skip
            if conversation is None:  # filed as resolved: it opens when the customer answers
                conversation = Conversation(
                    business_id=business_id, contact_id=contact.id, status="resolved",
                    channel_integration_id=broadcast.channel_integration_id,
                )  # fmt: skip
                session.add(conversation)
                session.flush()
            parts, text = _fill_for_sending(row, values, header_values)
            message = _queue_template(
                session, conversation=conversation, row=row, parts=parts, text=text,
                sender_user_id=broadcast.created_by_user_id,
            )  # fmt: skip
            recipient.status, recipient.message_id = "sent", message.id
        session.add(recipient)
    session.flush()
    left = repo.count_queued(session, business_id=business_id, broadcast_id=broadcast.id)
    if left == 0:
        broadcast.status, broadcast.finished_at = BroadcastStatus.DONE, utcnow()
        session.add(broadcast)
        session.flush()
    events.publish(session, "broadcast.updated", business_id=business_id,
                   broadcast_id=broadcast.id)  # fmt: skip
    return left


def list_broadcasts(
    session: Session,
    *,
    actor: Actor,
    limit: int = 20,
    broadcast_ids: Iterable[int] | None = None,
    recipients: Mapping[int, int] | None = None,
) -> list[BroadcastView]:
    """The business's latest broadcasts (only those of `broadcast_ids`, when given: the ones a
    live event named), with their counts per status and their first recipients (`recipients`
    maps a broadcast id to how many to list; RECIPIENTS_SHOWN otherwise)."""
    actor.require(Permission.TEMPLATES_MANAGE)
    ids = None if broadcast_ids is None else sorted(set(broadcast_ids))
    if ids is not None and not ids:
        return []
    rows = repo.list_broadcasts(
        session, business_id=actor.business_id, limit=limit, broadcast_ids=ids
    )
    return _broadcast_views(session, rows, business_id=actor.business_id, recipients=recipients)
