"""WhatsApp Business Cloud API: webhooks in (Meta's documented shapes), messages out with pywa.

Credentials: `phone_number_id`, `waba_id`, `access_token`, `app_secret`, `verify_token`.
The contact's identity is their `wa_id` (or, for users with a WhatsApp username, the
business-scoped user id Meta sends instead).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
from pywa import WhatsApp
from pywa.errors import WhatsAppError
from pywa.types import Button, Section, SectionList, SectionRow
from pywa.types.templates import TemplateLanguage

from backend.channels import meta, registry
from backend.channels.base import (
    BadPayload,
    ChannelConfig,
    ChannelEvent,
    ConnectionInfo,
    Edit,
    MediaError,
    MediaFile,
    MessageIn,
    OutboundMessage,
    Reaction,
    SendResult,
    StatusUpdate,
    Unsupported,
)
from backend.core.config import settings

KIND = "whatsapp"
REPLY_WINDOW = timedelta(hours=24)
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
MAX_TEXT = 4096
_WINDOW_CODES = {131047, 470}  # "Re-engagement message": more than 24 hours since the customer


def _client(cfg: ChannelConfig) -> WhatsApp:
    creds = cfg.credentials
    return WhatsApp(
        phone_id=str(creds.get("phone_number_id") or ""),
        token=str(creds.get("access_token") or ""),
        waba_id=str(creds.get("waba_id") or "") or None,
        session=meta.pywa_session(),
        api_version=settings.graph_api_version.lstrip("v"),
    )


def _error_text(exc: WhatsAppError) -> str:
    text = f"{exc.message} (code {exc.code})"
    if exc.details:
        text += f": {exc.details}"
    return text


def _retryable(exc: WhatsAppError) -> bool:
    status = exc.response.status_code if getattr(exc, "response", None) is not None else 400
    return status >= 500 or exc.code in meta.RETRYABLE_CODES


# --- parsing -----------------------------------------------------------------------------------


def _names(value: Mapping[str, Any]) -> dict[str, str]:
    names: dict[str, str] = {}
    for contact in value.get("contacts") or []:
        if not isinstance(contact, dict):
            continue
        name = (contact.get("profile") or {}).get("name")
        for key in ("wa_id", "user_id"):
            if contact.get(key) and name:
                names[str(contact[key])] = name
    return names


def _sender(msg: Mapping[str, Any], value: Mapping[str, Any]) -> str | None:
    if msg.get("from"):
        return str(msg["from"])
    if msg.get("from_user_id"):
        return str(msg["from_user_id"])
    contacts = value.get("contacts") or []
    if contacts and isinstance(contacts[0], dict):
        return str(contacts[0].get("wa_id") or contacts[0].get("user_id") or "") or None
    return None


def _media(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "image" if kind == "sticker" else kind,
        "media_id": str(data.get("id") or ""),
        "mime_type": data.get("mime_type"),
        "filename": data.get("filename"),
        "caption": data.get("caption"),
        "status": "pending" if data.get("id") else "failed",
        **({} if data.get("id") else {"error": "the webhook named no media id"}),
    }


def _content(msg: Mapping[str, Any]) -> tuple[str, str, list[dict[str, Any]]] | None:
    """(content type, text, attachments) of a message BizBot understands, else None."""
    kind = msg.get("type")
    data = msg.get(kind) if isinstance(kind, str) else None
    data = data if isinstance(data, dict) else {}
    if kind == "text":
        return "text", str(data.get("body") or ""), []
    if kind in MEDIA_TYPES:
        # A sticker shows as an image and a video as a file (the inbox's content types).
        content_type = {"sticker": "image", "video": "document"}.get(kind, kind)
        return content_type, str(data.get("caption") or ""), [_media(kind, data)]
    if kind == "location":
        lat, lon = data.get("latitude"), data.get("longitude")
        label = ", ".join(str(p) for p in (data.get("name"), data.get("address")) if p)
        text = f"Location: {label} ({lat}, {lon})" if label else f"Location: {lat}, {lon}"
        return (
            "location",
            text,
            [
                {
                    "type": "location",
                    "latitude": lat,
                    "longitude": lon,
                    "name": data.get("name"),
                    "address": data.get("address"),
                }
            ],
        )
    if kind == "contacts":
        cards = msg.get("contacts") if isinstance(msg.get("contacts"), list) else []
        shared = []
        for card in cards:
            if not isinstance(card, dict):
                continue
            name = (card.get("name") or {}).get("formatted_name") or "Contact"
            phones = [p.get("phone") for p in card.get("phones") or [] if isinstance(p, dict)]
            shared.append({"type": "contact", "name": name, "phones": [p for p in phones if p]})
        text = (
            "; ".join(f"{c['name']} {', '.join(c['phones'])}".strip() for c in shared)
            or "Contact card"
        )
        return "contacts", f"Contact: {text}", shared
    if kind == "interactive":
        reply = data.get("button_reply") or data.get("list_reply") or {}
        if isinstance(reply, dict) and reply.get("title"):
            return (
                "interactive",
                str(reply["title"]),
                [{"type": "reply", "id": reply.get("id"), "title": reply.get("title")}],
            )
        return None
    if kind == "button":  # a quick-reply button of a template
        return (
            "interactive",
            str(data.get("text") or data.get("payload") or ""),
            [{"type": "reply", "id": data.get("payload"), "title": data.get("text")}],
        )
    return None


def _message_event(
    msg: Mapping[str, Any], value: Mapping[str, Any], names: Mapping[str, str]
) -> ChannelEvent:
    msg_id = str(msg.get("id") or "")
    sender = _sender(msg, value)
    at = meta.from_timestamp(msg.get("timestamp"))
    kind = msg.get("type")
    if not msg_id or not sender:
        raise BadPayload("a WhatsApp message needs an `id` and a sender (`from`)")
    if kind == "reaction":
        data = msg.get("reaction") or {}
        target = str(data.get("message_id") or "")
        emoji = str(data.get("emoji") or "")
        return Reaction(
            external_id=f"{target}:{emoji}:{sender}:{msg.get('timestamp')}",
            message_external_id=target,
            sender_id=sender,
            emoji=emoji,
            timestamp=at,
            raw=dict(msg),
        )
    if kind == "edit":
        data = msg.get("edit") or {}
        inner = data.get("message") or {}
        content = _content(inner) if isinstance(inner, dict) else None
        return Edit(
            external_id=msg_id,
            message_external_id=str(data.get("original_message_id") or ""),
            sender_id=sender,
            text=content[1] if content else "",
            timestamp=at,
            raw=dict(msg),
        )
    if kind == "revoke":
        data = msg.get("revoke") or {}
        return Edit(
            external_id=msg_id,
            message_external_id=str(data.get("original_message_id") or ""),
            sender_id=sender,
            deleted=True,
            timestamp=at,
            raw=dict(msg),
        )
    content = _content(msg)
    if content is None:
        errors = msg.get("errors") or []
        reason = ""
        if errors and isinstance(errors[0], dict):
            reason = f": {errors[0].get('title') or errors[0].get('message') or ''}".rstrip(": ")
        return Unsupported(
            external_id=msg_id,
            sender_id=sender,
            timestamp=at,
            raw=dict(msg),
            description=f"Unsupported WhatsApp message type {kind!r}{reason}",
        )
    content_type, text, attachments = content
    return MessageIn(
        external_id=msg_id,
        sender_id=sender,
        text=text,
        sender_name=names.get(sender),
        content_type=content_type,
        attachments=attachments,
        timestamp=at,
        raw=dict(msg),
    )


def _status_event(status: Mapping[str, Any]) -> StatusUpdate:
    msg_id, state = str(status.get("id") or ""), str(status.get("status") or "")
    if not msg_id or not state:
        raise BadPayload("a WhatsApp status needs an `id` and a `status`")
    error = None
    errors = status.get("errors") or []
    if errors and isinstance(errors[0], dict):
        first = errors[0]
        details = (first.get("error_data") or {}).get("details")
        error = (
            f"{first.get('title') or first.get('message') or 'failed'} (code {first.get('code')})"
        )
        if details:
            error += f": {details}"
    return StatusUpdate(
        external_id=f"{msg_id}:{state}",
        message_external_id=msg_id,
        status=state,
        error=error,
        timestamp=meta.from_timestamp(status.get("timestamp")),
        raw=dict(status),
    )


def _notice_key(change: Mapping[str, Any]) -> str:
    """Tells apart two template notices of one entry second (approved, then paused)."""
    value = change.get("value") or {}
    if change.get("field") not in ("message_template_status_update", "template_category_update"):
        return ""
    news = value.get("event") or value.get("new_category") or ""
    return f":{value.get('message_template_id')}:{news}"


def parse_body(body: bytes, *, phone_number_id: str | None) -> list[ChannelEvent]:
    """Every event of one webhook POST, in the order Meta listed them."""
    data = meta.load_object(body, expected_object="whatsapp_business_account")
    events: list[ChannelEvent] = []
    for e_index, entry in enumerate(data["entry"]):
        changes = entry.get("changes")
        if not isinstance(changes, list):
            raise BadPayload("each entry needs a `changes` list")
        for c_index, change in enumerate(changes):
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                raise BadPayload("each change needs a `value` object")
            value = change["value"]
            where = f"{entry.get('id')}:{entry.get('time', '')}:{e_index}.{c_index}"
            if change.get("field") != "messages":
                events.append(
                    Unsupported(
                        external_id=f"field:{change.get('field')}:{where}{_notice_key(change)}",
                        raw=dict(change),
                        description=f"WhatsApp {change.get('field')!r} notification",
                    )
                )
                continue
            number = (value.get("metadata") or {}).get("phone_number_id")
            if phone_number_id and number and str(number) != str(phone_number_id):
                events.append(
                    Unsupported(
                        external_id=f"other-number:{number}:{where}",
                        raw=dict(value),
                        description=f"for another phone number id ({number}), not this channel's",
                    )
                )
                continue
            names = _names(value)
            for msg in value.get("messages") or []:
                if not isinstance(msg, dict):
                    raise BadPayload("`messages` must hold objects")
                events.append(_message_event(msg, value, names))
            for status in value.get("statuses") or []:
                if not isinstance(status, dict):
                    raise BadPayload("`statuses` must hold objects")
                events.append(_status_event(status))
            if not value.get("messages") and not value.get("statuses"):
                errors = value.get("errors") or []
                title = errors[0].get("title") if errors and isinstance(errors[0], dict) else ""
                events.append(
                    Unsupported(
                        external_id=f"value:{where}",
                        raw=dict(value),
                        description=f"WhatsApp notification without messages {title}".strip(),
                    )
                )
    return events


# --- sending -----------------------------------------------------------------------------------


def _buttons(options: list[str]):
    if len(options) <= 3:
        return [Button(title=o[:20], callback_data=o[:256]) for o in options]
    rows = [SectionRow(title=o[:24], callback_data=o[:200]) for o in options[:10]]
    return SectionList(button_title="Choose", sections=[Section(title="Options", rows=rows)])


def _media_source(attachment: Mapping[str, Any]) -> str | Path:
    if attachment.get("url"):
        return str(attachment["url"])
    if attachment.get("path"):
        from backend.channels import media

        return media.root() / str(attachment["path"])
    raise MediaError("an attachment needs a url or a stored file path")


def window_error(last: datetime | None) -> str:
    """The message an agent sees when WhatsApp's 24-hour window has closed."""
    return (
        f"Outside WhatsApp's 24-hour customer-service window (the customer last wrote "
        f"{meta.ago(last)}): only an approved message template can be sent until they write "
        "again."
    )


def _send(wa: WhatsApp, msg: OutboundMessage) -> str:
    to = msg.recipient_id
    if msg.template:
        sent = wa.send_template(
            to=to,
            name=str(msg.template["name"]),
            language=TemplateLanguage(str(msg.template.get("language") or "en_US")),
            params=list(msg.template.get("components") or []),
        )
        return sent.id
    files = [a for a in msg.attachments if a.get("type") in ("image", "audio", "video", "document")]
    sent_id = None
    caption_used = False
    for attachment in files:
        source = _media_source(attachment)
        caption = (
            msg.text if msg.text and not caption_used and attachment["type"] != "audio" else None
        )
        caption_used = caption_used or bool(caption)
        mime = attachment.get("mime_type")
        if attachment["type"] == "image":
            sent_id = wa.send_image(to=to, image=source, caption=caption, mime_type=mime).id
        elif attachment["type"] == "video":
            sent_id = wa.send_video(to=to, video=source, caption=caption, mime_type=mime).id
        elif attachment["type"] == "audio":
            sent_id = wa.send_audio(to=to, audio=source, mime_type=mime).id
        else:
            sent_id = wa.send_document(
                to=to,
                document=source,
                caption=caption,
                mime_type=mime,
                filename=attachment.get("filename") or None,
            ).id
    if msg.text and not caption_used:
        text = msg.text[:MAX_TEXT]
        if msg.quick_replies:
            sent_id = wa.send_message(to=to, text=text, buttons=_buttons(msg.quick_replies)).id
        else:
            sent_id = wa.send_message(to=to, text=text).id
    if sent_id is None:
        raise MediaError("nothing to send: the message has no text, file or template")
    return sent_id


class WhatsAppAdapter:
    """The WhatsApp Business Cloud API channel."""

    kind: ClassVar[str] = KIND

    def challenge(self, query: Mapping[str, str], cfg: ChannelConfig) -> str:
        """Meta's `hub.challenge` handshake with the owner's verify token."""
        return meta.answer_challenge(query, cfg.credentials.get("verify_token"))

    def verify(self, headers: Mapping[str, str], body: bytes, cfg: ChannelConfig) -> None:
        """X-Hub-Signature-256 on the raw body, with the app secret."""
        meta.check_signature(headers, body, cfg.credentials.get("app_secret"))

    def parse(self, body: bytes, cfg: ChannelConfig) -> list[ChannelEvent]:
        """Messages, statuses, reactions, edits of one POST (several entries and changes)."""
        return parse_body(body, phone_number_id=cfg.credentials.get("phone_number_id"))

    def send(self, msg: OutboundMessage, cfg: ChannelConfig) -> SendResult:
        """Text, quick-reply buttons, media or a template; free text only inside 24 hours."""
        if not msg.template and not meta.within(msg.customer_last_message_at, REPLY_WINDOW):
            return SendResult(error=window_error(msg.customer_last_message_at), retryable=False)
        wa = _client(cfg)
        try:
            return SendResult(external_id=_send(wa, msg))
        except WhatsAppError as exc:
            if exc.code in _WINDOW_CODES:
                return SendResult(error=window_error(msg.customer_last_message_at), retryable=False)
            return SendResult(error=_error_text(exc), retryable=_retryable(exc))
        except (MediaError, ValueError, OSError) as exc:
            return SendResult(error=str(exc), retryable=False)
        except httpx.HTTPError as exc:
            return SendResult(error=f"could not reach the WhatsApp Cloud API: {exc}")
        finally:
            with contextlib.suppress(Exception):
                wa.api._session.close()

    def connect(self, cfg: ChannelConfig) -> ConnectionInfo:
        """Read the phone number from the Graph API: its verified name and number."""
        missing = [f for f in ("phone_number_id", "access_token") if not cfg.credentials.get(f)]
        if missing:
            return ConnectionInfo(ok=False, error=f"Fill in {', '.join(missing)} first.")
        wa = _client(cfg)
        try:
            number = wa.get_business_phone_number()
        except WhatsAppError as exc:
            return ConnectionInfo(ok=False, error=_error_text(exc))
        except httpx.HTTPError as exc:
            return ConnectionInfo(ok=False, error=f"Could not reach the WhatsApp Cloud API: {exc}")
        finally:
            with contextlib.suppress(Exception):
                wa.api._session.close()
        name = number.verified_name or "WhatsApp number"
        shown = f"{name} ({number.display_phone_number})" if number.display_phone_number else name
        return ConnectionInfo(ok=True, display_name=shown)

    def register(self, cfg: ChannelConfig, webhook_url: str) -> ConnectionInfo:
        """Subscribe the app to the WhatsApp Business Account's webhooks (subscribed_apps)."""
        waba_id = cfg.credentials.get("waba_id")
        if not waba_id:
            return ConnectionInfo(ok=False, error="Fill in waba_id to subscribe to webhooks.")
        wa = _client(cfg)
        try:
            wa.api.send_raw_request(method="POST", endpoint=f"/{waba_id}/subscribed_apps")
        except WhatsAppError as exc:
            return ConnectionInfo(ok=False, error=_error_text(exc))
        except httpx.HTTPError as exc:
            return ConnectionInfo(ok=False, error=f"Could not reach the WhatsApp Cloud API: {exc}")
        finally:
            with contextlib.suppress(Exception):
                wa.api._session.close()
        return ConnectionInfo(ok=True, display_name=webhook_url)

    def download(
        self, attachment: Mapping[str, Any], cfg: ChannelConfig, *, max_bytes: int
    ) -> MediaFile:
        """Look the media id up (its URL lives 5 minutes) and fetch it with the token."""
        media_id = attachment.get("media_id")
        if not media_id:
            raise MediaError("the attachment has no WhatsApp media id")
        wa = _client(cfg)
        try:
            info = wa.api.get_media_url(media_id=str(media_id))
            size = int(info.get("file_size") or 0)
            if size > max_bytes:
                raise MediaError(
                    f"the file is {size / 1_000_000:.1f} MB, over the "
                    f"{max_bytes / 1_000_000:g} MB limit"
                )
            with wa.api.stream_media_bytes(media_url=str(info["url"])) as response:
                if response.status_code >= 400:
                    raise MediaError(
                        f"WhatsApp answered HTTP {response.status_code} for the file",
                        retryable=response.status_code >= 500,
                    )
                content = meta.read_limited(response.iter_bytes(), max_bytes=max_bytes)
                mime = str(info.get("mime_type") or response.headers.get("content-type") or "")
        except WhatsAppError as exc:
            raise MediaError(_error_text(exc), retryable=_retryable(exc)) from exc
        except httpx.HTTPError as exc:
            raise MediaError(f"could not download the file: {exc}", retryable=True) from exc
        finally:
            with contextlib.suppress(Exception):
                wa.api._session.close()
        return MediaFile(
            content=content,
            mime_type=mime.split(";")[0].strip(),
            filename=attachment.get("filename"),
        )


adapter = registry.register(WhatsAppAdapter())
