"""Facebook Messenger through the Graph API (httpx); Instagram DM reuses all of it.

Credentials: `page_id` (Instagram: `ig_account_id`), `page_access_token`, `app_secret`,
`verify_token`. Contacts are known by their page-scoped id (PSID; Instagram: IGSID).

Sending follows Meta's messaging window: a free reply within 24 hours of the customer's last
message; after that, only a person (never the AI) may reply, for 7 days, with the
`HUMAN_AGENT` tag; after that, nothing until the customer writes again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

import httpx

from backend.channels import meta, registry
from backend.channels.base import (
    BadPayload,
    ChannelConfig,
    ChannelEvent,
    ConnectionInfo,
    Echo,
    Edit,
    MediaError,
    MediaFile,
    MessageIn,
    OutboundMessage,
    Reaction,
    Receipt,
    SendResult,
    Unsupported,
)

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
# Send API metadata on our own messages: their echoes are recognised and not stored twice.
OWN_METADATA = "bizbot:"
_ATTACHMENT_TYPES = {"image": "image", "audio": "audio", "video": "video", "file": "document"}
SUBSCRIBED_FIELDS = (
    "messages,messaging_postbacks,message_reads,message_deliveries,message_reactions,"
    "message_echoes,message_edits"
)


def _attachments(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for item in message.get("attachments") or []:
        if not isinstance(item, dict):
            continue
        kind = str(item.get("type") or "")
        payload = item.get("payload") if isinstance(item.get("payload"), dict) else {}
        url = payload.get("url")
        if kind in ("story_mention", "ig_story"):
            # Meta's rules: keep the story's CDN URL only, never the story's content.
            found.append({"type": "story_mention", "url": url, "status": "link"})
        elif kind in _ATTACHMENT_TYPES and url:
            found.append(
                {
                    "type": _ATTACHMENT_TYPES[kind],
                    "url": url,
                    "status": "pending",
                    **({"sticker_id": payload["sticker_id"]} if payload.get("sticker_id") else {}),
                }
            )
        elif kind == "location" or payload.get("coordinates"):
            coords = payload.get("coordinates") or {}
            found.append(
                {
                    "type": "location",
                    "latitude": coords.get("lat"),
                    "longitude": coords.get("long"),
                    "name": item.get("title"),
                }
            )
        else:
            found.append(
                {
                    "type": kind or "unknown",
                    "url": url,
                    "title": item.get("title"),
                    "status": "link",
                }
            )
    return found


def _content_type(attachments: list[dict[str, Any]], text: str) -> str:
    kinds = [a["type"] for a in attachments]
    if "story_mention" in kinds:
        return "story_mention"
    for kind in ("image", "audio", "document", "video", "location"):
        if kind in kinds:
            return "document" if kind == "video" else kind
    return "text"


class MetaMessagingAdapter:
    """Messenger's adapter; Instagram's subclasses it with its own object name and ids."""

    kind: ClassVar[str] = "messenger"
    platform: ClassVar[str] = "Messenger"
    webhook_object: ClassVar[str] = "page"
    account_field: ClassVar[str] = "page_id"
    profile_fields: ClassVar[str] = "first_name,last_name,name"

    # --- webhooks ------------------------------------------------------------------------

    def challenge(self, query: Mapping[str, str], cfg: ChannelConfig) -> str:
        """Meta's `hub.challenge` handshake with the owner's verify token."""
        return meta.answer_challenge(query, cfg.credentials.get("verify_token"))

    def verify(self, headers: Mapping[str, str], body: bytes, cfg: ChannelConfig) -> None:
        """X-Hub-Signature-256 on the raw body, with the app secret."""
        meta.check_signature(headers, body, cfg.credentials.get("app_secret"))

    def parse(self, body: bytes, cfg: ChannelConfig) -> list[ChannelEvent]:
        """Every messaging event of every entry of one POST, in Meta's order."""
        data = meta.load_object(body, expected_object=self.webhook_object)
        events: list[ChannelEvent] = []
        for entry in data["entry"]:
            items = entry.get("messaging")
            if items is None:
                for key in ("standby", "changes"):
                    if entry.get(key) is not None:
                        events.append(
                            Unsupported(
                                external_id=f"{key}:{entry.get('id')}:{entry.get('time')}",
                                description=f"{self.platform} {key!r} notification",
                                raw=dict(entry),
                            )
                        )
                continue
            if not isinstance(items, list):
                raise BadPayload("`messaging` must be a list")
            for item in items:
                if not isinstance(item, dict):
                    raise BadPayload("`messaging` must hold objects")
                events.append(self._event(item))
        return events

    def _event(self, item: Mapping[str, Any]) -> ChannelEvent:
        sender = str((item.get("sender") or {}).get("id") or "")
        recipient = str((item.get("recipient") or {}).get("id") or "")
        stamp = item.get("timestamp")
        at = meta.from_timestamp(stamp, millis=True)
        raw = dict(item)
        if not sender:
            raise BadPayload("a messaging event needs `sender.id`")
        message = item.get("message")
        if isinstance(message, dict):
            mid = str(message.get("mid") or "")
            if not mid:
                raise BadPayload("a message needs a `mid`")
            text = str(message.get("text") or "")
            attachments = _attachments(message)
            if message.get("is_echo"):
                return Echo(
                    external_id=mid,
                    sender_id=recipient,
                    text=text,
                    content_type=_content_type(attachments, text),
                    attachments=attachments,
                    app_id=str(message.get("app_id") or "") or None,
                    metadata=str(message.get("metadata") or "") or None,
                    timestamp=at,
                    raw=raw,
                )
            if message.get("is_deleted"):
                return Edit(
                    external_id=f"{mid}:deleted",
                    message_external_id=mid,
                    sender_id=sender,
                    deleted=True,
                    timestamp=at,
                    raw=raw,
                )
            if message.get("is_unsupported"):
                return Unsupported(
                    external_id=mid,
                    sender_id=sender,
                    timestamp=at,
                    raw=raw,
                    description=f"Unsupported {self.platform} message",
                )
            story = (message.get("reply_to") or {}).get("story")
            if isinstance(story, dict):
                attachments.append(
                    {
                        "type": "story_reply",
                        "url": story.get("url"),
                        "story_id": story.get("id"),
                        "status": "link",
                    }
                )
            content_type = _content_type(attachments, text)
            if isinstance(message.get("quick_reply"), dict):
                content_type = "interactive"
                attachments.append(
                    {"type": "reply", "id": message["quick_reply"].get("payload"), "title": text}
                )
            if content_type == "story_mention" and not text:
                text = "Mentioned you in their story"
            elif story and not text:
                text = "Replied to your story"
            return MessageIn(
                external_id=mid,
                sender_id=sender,
                text=text,
                content_type=content_type,
                attachments=attachments,
                timestamp=at,
                raw=raw,
            )
        if isinstance(item.get("postback"), dict):
            postback = item["postback"]
            title = str(postback.get("title") or postback.get("payload") or "")
            return MessageIn(
                external_id=str(postback.get("mid") or f"postback:{sender}:{stamp}"),
                sender_id=sender,
                text=title,
                content_type="interactive",
                attachments=[{"type": "postback", "id": postback.get("payload"), "title": title}],
                timestamp=at,
                raw=raw,
            )
        if isinstance(item.get("reaction"), dict):
            reaction = item["reaction"]
            target = str(reaction.get("mid") or "")
            emoji = (
                ""
                if reaction.get("action") == "unreact"
                else str(reaction.get("emoji") or reaction.get("reaction") or "")
            )
            return Reaction(
                external_id=f"{target}:{emoji}:{sender}:{stamp}",
                message_external_id=target,
                sender_id=sender,
                emoji=emoji,
                timestamp=at,
                raw=raw,
            )
        if isinstance(item.get("message_edit"), dict):
            edit = item["message_edit"]
            mid = str(edit.get("mid") or "")
            return Edit(
                external_id=f"{mid}:edit:{edit.get('num_edit', stamp)}",
                message_external_id=mid,
                sender_id=sender,
                text=str(edit.get("text") or ""),
                timestamp=at,
                raw=raw,
            )
        for status, key in (("read", "read"), ("delivered", "delivery")):
            if isinstance(item.get(key), dict):
                receipt = item[key]
                mids = [str(m) for m in receipt.get("mids") or [] if m]
                if receipt.get("mid"):
                    mids.append(str(receipt["mid"]))
                watermark = receipt.get("watermark")
                identity = watermark if watermark is not None else ",".join(mids) or stamp
                moment = meta.from_timestamp(watermark, millis=True)
                return Receipt(
                    external_id=f"{key}:{sender}:{identity}",
                    sender_id=sender,
                    status=status,
                    watermark=moment.isoformat() if moment else None,
                    message_external_ids=mids,
                    timestamp=at,
                    raw=raw,
                )
        kinds = sorted(k for k in item if k not in ("sender", "recipient", "timestamp"))
        return Unsupported(
            external_id=f"{'+'.join(kinds) or 'event'}:{sender}:{stamp}",
            sender_id=sender,
            timestamp=at,
            raw=raw,
            description=f"{self.platform} {', '.join(kinds) or 'empty'} event",
        )

    # --- sending -------------------------------------------------------------------------

    def messaging_terms(self, msg: OutboundMessage) -> tuple[dict[str, str] | None, str | None]:
        """How this message may go out now: the Send API's messaging type, or why it cannot."""
        last = msg.customer_last_message_at
        if meta.within(last, STANDARD_WINDOW):
            return {"messaging_type": "RESPONSE"}, None
        if msg.sender_type == "agent" and meta.within(last, HUMAN_AGENT_WINDOW):
            return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}, None
        if meta.within(last, HUMAN_AGENT_WINDOW):
            return None, (
                f"Outside {self.platform}'s 24-hour messaging window (the customer last wrote "
                f"{meta.ago(last)}): only a person can reply now, with the Human Agent tag, "
                "until 7 days after their last message."
            )
        return None, (
            f"Outside {self.platform}'s messaging window (the customer last wrote "
            f"{meta.ago(last)}): no message can be sent until they write again."
        )

    def _post(self, client: httpx.Client, body: dict[str, Any], files=None) -> str:
        if files:
            form = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in body.items()}
            response = client.post("me/messages", data=form, files=files)
        else:
            response = client.post("me/messages", json=body)
        if response.status_code >= 400:
            text, retryable = meta.graph_error(response)
            raise _SendError(text, retryable)
        return str(response.json().get("message_id") or "")

    def send(self, msg: OutboundMessage, cfg: ChannelConfig) -> SendResult:
        """Text (with quick replies) and attachments through the Send API, window respected."""
        terms, refusal = self.messaging_terms(msg)
        if terms is None:
            return SendResult(error=refusal, retryable=False)
        token = cfg.credentials.get("page_access_token")
        if not token:
            return SendResult(error="No page access token saved for this channel.", retryable=False)
        base = {"recipient": {"id": msg.recipient_id}, **terms}
        metadata = f"{OWN_METADATA}{msg.message_id}"
        sent_id = None
        try:
            with meta.graph_client(token) as client:
                for attachment in msg.attachments:
                    kind = {
                        "image": "image",
                        "audio": "audio",
                        "video": "video",
                        "document": "file",
                    }.get(str(attachment.get("type")))
                    if kind is None:
                        continue
                    sent_id = self._post_attachment(client, base, kind, attachment, metadata)
                if msg.text:
                    message: dict[str, Any] = {"text": msg.text[:2000], "metadata": metadata}
                    if msg.quick_replies:
                        message["quick_replies"] = [
                            {"content_type": "text", "title": option[:20], "payload": option[:1000]}
                            for option in msg.quick_replies[:13]
                        ]
                    sent_id = self._post(client, {**base, "message": message})
        except _SendError as exc:
            return SendResult(error=exc.text, retryable=exc.retryable)
        except MediaError as exc:
            return SendResult(error=str(exc), retryable=False)
        except httpx.HTTPError as exc:
            return SendResult(error=f"could not reach the {self.platform} Send API: {exc}")
        if not sent_id:
            return SendResult(
                error="nothing to send: the message has no text or file", retryable=False
            )
        return SendResult(external_id=sent_id)

    def _post_attachment(
        self,
        client: httpx.Client,
        base: dict[str, Any],
        kind: str,
        attachment: Mapping[str, Any],
        metadata: str,
    ) -> str:
        if attachment.get("url"):
            payload = {"url": str(attachment["url"]), "is_reusable": True}
            message = {"attachment": {"type": kind, "payload": payload}, "metadata": metadata}
            return self._post(client, {**base, "message": message})
        if attachment.get("path"):
            from backend.channels import media

            path = media.root() / str(attachment["path"])
            try:
                content = path.read_bytes()
            except OSError as exc:
                raise MediaError(f"the attachment's file is missing: {exc}") from exc
            files = {
                "filedata": (
                    attachment.get("filename") or path.name,
                    content,
                    attachment.get("mime_type") or "application/octet-stream",
                )
            }
            message = {
                "attachment": {"type": kind, "payload": {"is_reusable": True}},
                "metadata": metadata,
            }
            return self._post(client, {**base, "message": message}, files=files)
        raise MediaError("an attachment needs a url or a stored file path")

    # --- setup ---------------------------------------------------------------------------

    def _account_path(self, cfg: ChannelConfig) -> str:
        return "me"

    def connect(self, cfg: ChannelConfig) -> ConnectionInfo:
        """Read the page (or Instagram account) with the token: its name."""
        token = cfg.credentials.get("page_access_token")
        if not token:
            return ConnectionInfo(ok=False, error="Fill in page_access_token first.")
        try:
            with meta.graph_client(token) as client:
                response = client.get(
                    self._account_path(cfg), params={"fields": "id,name,username"}
                )
        except httpx.HTTPError as exc:
            return ConnectionInfo(ok=False, error=f"Could not reach the Graph API: {exc}")
        if response.status_code >= 400:
            return ConnectionInfo(ok=False, error=meta.graph_error(response)[0])
        data = response.json()
        expected = cfg.credentials.get(self.account_field)
        if expected and str(data.get("id")) != str(expected):
            return ConnectionInfo(
                ok=False,
                error=(
                    f"The token belongs to {data.get('name') or data.get('id')} "
                    f"({data.get('id')}), not to {self.account_field} {expected}."
                ),
            )
        username = data.get("username")
        name = f"@{username}" if username else data.get("name") or data.get("id")
        return ConnectionInfo(ok=True, display_name=str(name))

    def register(self, cfg: ChannelConfig, webhook_url: str) -> ConnectionInfo:
        """Subscribe the app to the page's messaging webhooks (subscribed_apps)."""
        token = cfg.credentials.get("page_access_token")
        if not token:
            return ConnectionInfo(ok=False, error="Fill in page_access_token first.")
        try:
            with meta.graph_client(token) as client:
                response = client.post(
                    "me/subscribed_apps", params={"subscribed_fields": SUBSCRIBED_FIELDS}
                )
        except httpx.HTTPError as exc:
            return ConnectionInfo(ok=False, error=f"Could not reach the Graph API: {exc}")
        if response.status_code >= 400:
            return ConnectionInfo(ok=False, error=meta.graph_error(response)[0])
        return ConnectionInfo(ok=True, display_name=webhook_url)

    def download(
        self, attachment: Mapping[str, Any], cfg: ChannelConfig, *, max_bytes: int
    ) -> MediaFile:
        """Fetch an attachment's CDN URL (it expires) with the size limit."""
        url = attachment.get("url")
        if not url:
            raise MediaError("the attachment has no URL")
        content, mime = meta.fetch_url(str(url), max_bytes=max_bytes)
        return MediaFile(content=content, mime_type=mime, filename=attachment.get("filename"))

    def profile_name(self, sender_id: str, cfg: ChannelConfig) -> str | None:
        """The customer's name from the Graph API (webhooks carry only their id)."""
        token = cfg.credentials.get("page_access_token")
        if not token:
            return None
        with meta.graph_client(token) as client:
            response = client.get(sender_id, params={"fields": self.profile_fields})
        if response.status_code >= 400:
            return None
        data = response.json()
        full = " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p)
        return data.get("name") or full or data.get("username") or None


class _SendError(Exception):
    def __init__(self, text: str, retryable: bool) -> None:
        super().__init__(text)
        self.text, self.retryable = text, retryable


class MessengerAdapter(MetaMessagingAdapter):
    """Facebook Page conversations on Messenger."""

    kind: ClassVar[str] = "messenger"


KIND = MessengerAdapter.kind

adapter = registry.register(MessengerAdapter())
