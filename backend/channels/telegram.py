"""Telegram bots: webhook updates in, messages out with python-telegram-bot.

Credentials: `bot_token`, and `webhook_secret` (random, made by BizBot and handed to Telegram
with `setWebhook`; every update carries it in `X-Telegram-Bot-Api-Secret-Token`).
A contact is known by their chat id (their user id, in the private chats bots have).
The library is asynchronous; its calls run on one event loop thread of this process, so
they work the same from an RQ job, a web request or a dashboard event handler.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import threading
import warnings
from collections.abc import Coroutine, Mapping
from datetime import timedelta
from typing import Any, ClassVar, TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from backend.channels import meta, registry
from backend.channels.base import (
    BadPayload,
    ChannelConfig,
    ChannelEvent,
    ConnectionInfo,
    Edit,
    InvalidSignature,
    MediaError,
    MediaFile,
    MessageIn,
    MissingSignature,
    OutboundMessage,
    Reaction,
    SendResult,
    Unsupported,
)
from backend.core.config import settings

KIND = "telegram"
SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 (a header name)
# message_reaction is only sent when asked for here (Bot API: not in the default list).
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "message_reaction")
MAX_TEXT = 4096
# Telegram lets bots download files up to 20 MB.
BOT_DOWNLOAD_LIMIT = 20_000_000
T = TypeVar("T")


# --- one event loop for the library ------------------------------------------------------------


class _Loop:
    """A daemon thread running an asyncio loop; `run` waits for a coroutine's result."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="telegram-loop", daemon=True).start()
                self._loop = loop
            return self._loop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._start())
        return future.result(timeout=settings.channel_http_timeout * 3)


_loop = _Loop()


def _request() -> HTTPXRequest:
    timeout = settings.channel_http_timeout
    return HTTPXRequest(
        connection_pool_size=4,
        read_timeout=timeout,
        write_timeout=timeout,
        connect_timeout=timeout,
        media_write_timeout=timeout * 3,
    )


async def _with_bot(token: str, work) -> Any:
    base = settings.telegram_api_base_url.rstrip("/")
    requests = (_request(), _request())
    bot = Bot(
        token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=requests[0],
        get_updates_request=requests[1],
    )
    # Not `async with bot`: its getMe on start would cost a call and echo the token in errors.
    try:
        return await work(bot)
    finally:
        await asyncio.gather(*(r.shutdown() for r in requests))


def _call(cfg: ChannelConfig, work) -> Any:
    token = str(cfg.credentials.get("bot_token") or "")
    if not token:
        raise InvalidToken("No bot token saved for this channel.")
    return _loop.run(_with_bot(token, work))


def retry_after_seconds(exc: RetryAfter) -> float:
    """Telegram's `retry_after` in seconds, whichever form the library gives it in."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# --- Markdown ----------------------------------------------------------------------------------

_SPECIAL = re.compile(r"([_*\[\]()~`>#+\-=|{}.!\\])")
_TOKENS = re.compile(
    r"(?P<code>`[^`\n]+`)|(?P<bold>\*\*[^*\n]+\*\*)|(?P<link>\[[^\]\n]+\]\((?:[^()\s]|\([^()\s]*\))+\))"
    r"|(?P<italic>(?<![\w*])\*(?!\s)[^*\n]+?(?<!\s)\*(?![\w*])"
    r"|(?<![\w_])_(?!\s)[^_\n]+?(?<!\s)_(?![\w_]))"
)


def _escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def to_markdown_v2(text: str) -> str:
    """Plain text with light Markdown (**bold**, *italic*, `code`, [links](url)) as Telegram
    MarkdownV2: the formatting kept, every other special character escaped."""
    out: list[str] = []
    pos = 0
    for match in _TOKENS.finditer(text):
        out.append(_escape(text[pos : match.start()]))
        token = match.group(0)
        if match.group("code"):
            out.append("`" + token[1:-1].replace("\\", "\\\\").replace("`", "\\`") + "`")
        elif match.group("bold"):
            out.append("*" + _escape(token[2:-2]) + "*")
        elif match.group("link"):
            label, url = token[1:].split("](", 1)
            url = url[:-1].replace("\\", "\\\\").replace(")", "\\)")
            out.append(f"[{_escape(label)}]({url})")
        else:
            out.append("_" + _escape(token[1:-1]) + "_")
        pos = match.end()
    out.append(_escape(text[pos:]))
    return "".join(out)


# --- parsing -----------------------------------------------------------------------------------


def _name(user: Mapping[str, Any]) -> str | None:
    name = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p)
    return name or (f"@{user['username']}" if user.get("username") else None)


def _file(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": kind,
        "file_id": data.get("file_id"),
        "file_size": data.get("file_size"),
        "mime_type": data.get("mime_type") or ("image/jpeg" if kind == "image" else None),
        "filename": data.get("file_name"),
        "status": "pending" if data.get("file_id") else "failed",
    }


def _content(message: Mapping[str, Any]) -> tuple[str, str, list[dict[str, Any]]] | None:
    caption = str(message.get("caption") or "")
    if isinstance(message.get("text"), str):
        text = message["text"]
        if text.startswith("/start"):
            payload = text[len("/start") :].strip()
            return "command", text, [{"type": "start", "payload": payload or None}]
        return "text", text, []
    if isinstance(message.get("photo"), list) and message["photo"]:
        largest = max(
            (p for p in message["photo"] if isinstance(p, dict)),
            key=lambda p: (p.get("file_size") or 0, p.get("width") or 0),
        )
        return "image", caption, [_file("image", largest)]
    for key, kind, content_type in (
        ("document", "document", "document"),
        ("voice", "audio", "audio"),
        ("audio", "audio", "audio"),
        ("video", "video", "document"),
        ("video_note", "video", "document"),
    ):
        if isinstance(message.get(key), dict):
            return content_type, caption, [_file(kind, message[key])]
    if isinstance(message.get("location"), dict):
        loc = message["location"]
        lat, lon = loc.get("latitude"), loc.get("longitude")
        return (
            "location",
            f"Location: {lat}, {lon}",
            [{"type": "location", "latitude": lat, "longitude": lon}],
        )
    if isinstance(message.get("contact"), dict):
        contact = message["contact"]
        name = " ".join(p for p in (contact.get("first_name"), contact.get("last_name")) if p)
        phone = contact.get("phone_number") or ""
        return (
            "contacts",
            f"Contact: {name} {phone}".strip(),
            [
                {
                    "type": "contact",
                    "name": name,
                    "phones": [phone] if phone else [],
                    "user_id": contact.get("user_id"),
                }
            ],
        )
    return None


def _chat(message: Mapping[str, Any]) -> tuple[str, str]:
    chat = message.get("chat")
    if not isinstance(chat, dict) or chat.get("id") is None:
        raise BadPayload("a Telegram message needs `chat.id`")
    return str(chat["id"]), str(chat.get("type") or "private")


def _button_label(message: Mapping[str, Any], data: str) -> str:
    """The text of the inline button whose callback_data was pressed (else the data)."""
    markup = message.get("reply_markup") or {}
    for row in markup.get("inline_keyboard") or []:
        for button in row or []:
            if isinstance(button, dict) and button.get("callback_data") == data:
                return str(button.get("text") or data)
    return data


def _reaction_text(reactions: Any) -> str:
    """The emoji of a ReactionType list ("" when it is empty: the reaction was taken back)."""
    found = []
    for item in reactions if isinstance(reactions, list) else []:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "emoji" and item.get("emoji"):
            found.append(str(item["emoji"]))
        elif item.get("type") == "paid":
            found.append("⭐")
        elif item.get("type") == "custom_emoji":
            found.append("✨")  # a custom emoji has no character of its own
    return "".join(found)


def _reaction(external_id: str, update: dict[str, Any]) -> Reaction | None:
    """A user's reaction in a private chat (anonymous and group reactions: None, unsupported)."""
    data = update["message_reaction"]
    chat = data.get("chat") if isinstance(data.get("chat"), dict) else {}
    user = data.get("user") if isinstance(data.get("user"), dict) else None
    if chat.get("type") != "private" or user is None or data.get("message_id") is None:
        return None
    chat_id = str(chat.get("id") or user.get("id") or "")
    return Reaction(
        external_id=external_id,
        message_external_id=f"{chat_id}:{data.get('message_id')}",
        sender_id=chat_id,
        emoji=_reaction_text(data.get("new_reaction")),
        timestamp=meta.from_timestamp(data.get("date")),
        raw=update,
    )


def parse_update(body: bytes) -> list[ChannelEvent]:
    """One webhook POST is one Update: its `update_id` is the dedup key."""
    try:
        update = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload(f"the body is not JSON ({exc})") from None
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        raise BadPayload("a Telegram update must be an object with an integer `update_id`")
    external_id = str(update["update_id"])
    if isinstance(update.get("message"), dict):
        message = update["message"]
        chat_id, chat_type = _chat(message)
        at = meta.from_timestamp(message.get("date"))
        ref = f"{chat_id}:{message.get('message_id')}"
        if chat_type != "private":
            return [
                Unsupported(
                    external_id=external_id,
                    timestamp=at,
                    raw=update,
                    description=f"message in a Telegram {chat_type} chat",
                )
            ]
        content = _content(message)
        if content is None:
            kinds = sorted(
                k
                for k in message
                if k not in ("message_id", "from", "chat", "date", "caption", "entities")
            )
            return [
                Unsupported(
                    external_id=external_id,
                    sender_id=chat_id,
                    timestamp=at,
                    raw=update,
                    description=f"Unsupported Telegram message ({', '.join(kinds[:3]) or 'empty'})",
                )
            ]
        content_type, text, attachments = content
        return [
            MessageIn(
                external_id=external_id,
                sender_id=chat_id,
                text=text,
                sender_name=_name(message.get("from") or {}),
                content_type=content_type,
                attachments=attachments,
                timestamp=at,
                raw=update,
                message_ref=ref,
            )
        ]
    if isinstance(update.get("edited_message"), dict):
        message = update["edited_message"]
        chat_id, chat_type = _chat(message)
        content = _content(message)
        return [
            Edit(
                external_id=external_id,
                message_external_id=f"{chat_id}:{message.get('message_id')}",
                sender_id=chat_id,
                text=content[1] if content else "",
                timestamp=meta.from_timestamp(message.get("edit_date") or message.get("date")),
                raw=update,
            )
        ]
    if isinstance(update.get("callback_query"), dict):
        query = update["callback_query"]
        message = query.get("message") if isinstance(query.get("message"), dict) else {}
        user = query.get("from") or {}
        chat_id = str((message.get("chat") or {}).get("id") or user.get("id") or "")
        if not chat_id:
            raise BadPayload("a callback query needs `from.id`")
        data = str(query.get("data") or "")
        label = _button_label(message, data)
        return [
            MessageIn(
                external_id=external_id,
                sender_id=chat_id,
                text=label,
                sender_name=_name(user),
                content_type="interactive",
                attachments=[
                    {
                        "type": "reply",
                        "id": data,
                        "title": label,
                        "callback_query_id": query.get("id"),
                    }
                ],
                raw=update,
            )
        ]
    if isinstance(update.get("message_reaction"), dict):
        reaction = _reaction(external_id, update)
        if reaction is not None:
            return [reaction]
    kinds = sorted(k for k in update if k != "update_id")
    sender = None
    for value in update.values():
        if isinstance(value, dict) and isinstance(value.get("from"), dict):
            sender = str(value["from"].get("id") or "") or None
            break
    return [
        Unsupported(
            external_id=external_id,
            sender_id=None if sender is None else sender,
            raw=update,
            description=f"Telegram {', '.join(kinds) or 'empty'} update",
        )
    ]


# --- the adapter -------------------------------------------------------------------------------


def _keyboard(options: list[str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(option[:64], callback_data=f"qr{i}")]
            for i, option in enumerate(options[:10])
        ]
    )


def _input_file(attachment: Mapping[str, Any]):
    if attachment.get("url"):
        return str(attachment["url"])
    if attachment.get("path"):
        from backend.channels import media

        try:
            return (media.root() / str(attachment["path"])).read_bytes()
        except OSError as exc:
            raise MediaError(f"the attachment's file is missing: {exc}") from exc
    raise MediaError("an attachment needs a url or a stored file path")


async def _send(bot: Bot, msg: OutboundMessage) -> str:
    chat_id = msg.recipient_id
    markup = _keyboard(msg.quick_replies) if msg.quick_replies else None
    sent = None
    files = [a for a in msg.attachments if a.get("type") in ("image", "document", "audio", "video")]
    caption = msg.text[:1024] if msg.text and len(msg.text) <= 1024 and files else None
    for i, attachment in enumerate(files):
        source = _input_file(attachment)
        extra = {"caption": caption} if caption and i == 0 else {}
        name = attachment.get("filename")
        if attachment["type"] == "image":
            sent = await bot.send_photo(chat_id, photo=source, **extra)
        elif attachment["type"] == "audio":
            sent = await bot.send_audio(chat_id, audio=source, filename=name, **extra)
        elif attachment["type"] == "video":
            sent = await bot.send_video(chat_id, video=source, filename=name, **extra)
        else:
            sent = await bot.send_document(chat_id, document=source, filename=name, **extra)
    if msg.text and not caption:
        text = msg.text[:MAX_TEXT]
        try:
            sent = await bot.send_message(
                chat_id, to_markdown_v2(text), parse_mode=ParseMode.MARKDOWN_V2, reply_markup=markup
            )
        except BadRequest as exc:
            if "parse entities" not in str(exc).lower():
                raise
            sent = await bot.send_message(chat_id, text, reply_markup=markup)  # plain, as typed
    if sent is None:
        raise MediaError("nothing to send: the message has no text or file")
    return f"{chat_id}:{sent.message_id}"


class TelegramAdapter:
    """A Telegram bot as a channel."""

    kind: ClassVar[str] = KIND

    def challenge(self, query: Mapping[str, str], cfg: ChannelConfig) -> str:
        """Telegram has no GET handshake: setWebhook registers the URL."""
        raise BadPayload("Telegram webhooks are registered with setWebhook; there is no GET check")

    def verify(self, headers: Mapping[str, str], body: bytes, cfg: ChannelConfig) -> None:
        """X-Telegram-Bot-Api-Secret-Token must equal the secret given to setWebhook."""
        given = meta.header(headers, SECRET_HEADER)
        if not given:
            raise MissingSignature("X-Telegram-Bot-Api-Secret-Token header is missing")
        secret = str(cfg.credentials.get("webhook_secret") or "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            raise InvalidSignature("X-Telegram-Bot-Api-Secret-Token does not match")

    def parse(self, body: bytes, cfg: ChannelConfig) -> list[ChannelEvent]:
        """The update's message, edit or button press; anything else stored as unsupported."""
        return parse_update(body)

    def webhook_response(self, events: list[ChannelEvent]) -> dict[str, Any] | None:
        """Answer a button press in the webhook's reply, so the button stops spinning."""
        for event in events:
            for attachment in getattr(event, "attachments", []):
                if attachment.get("callback_query_id"):
                    return {
                        "method": "answerCallbackQuery",
                        "callback_query_id": attachment["callback_query_id"],
                    }
        return None

    def send(self, msg: OutboundMessage, cfg: ChannelConfig) -> SendResult:
        """Text as MarkdownV2 (escaped), an inline keyboard, photos and documents."""
        try:
            return SendResult(external_id=_call(cfg, lambda bot: _send(bot, msg)))
        except RetryAfter as exc:
            seconds = retry_after_seconds(exc)
            return SendResult(
                error=f"Telegram rate limit: {exc}", retryable=True, retry_after=seconds
            )
        except (Forbidden, InvalidToken, BadRequest) as exc:
            return SendResult(error=f"Telegram: {exc}", retryable=False)
        except (TimedOut, NetworkError) as exc:
            return SendResult(error=f"Telegram unreachable: {exc}", retryable=True)
        except TelegramError as exc:
            return SendResult(error=f"Telegram: {exc}", retryable=True)
        except MediaError as exc:
            return SendResult(error=str(exc), retryable=False)

    def connect(self, cfg: ChannelConfig) -> ConnectionInfo:
        """getMe: the bot's name and @username, or Telegram's exact error."""
        try:
            me = _call(cfg, lambda bot: bot.get_me())
        except TelegramError as exc:
            return ConnectionInfo(ok=False, error=f"Telegram: {exc}")
        return ConnectionInfo(ok=True, display_name=f"{me.first_name} (@{me.username})")

    def register(self, cfg: ChannelConfig, webhook_url: str) -> ConnectionInfo:
        """setWebhook with BizBot's URL and the secret token."""
        secret = cfg.credentials.get("webhook_secret")
        if not secret:
            return ConnectionInfo(ok=False, error="No webhook secret saved; save the bot again.")
        try:
            _call(
                cfg,
                lambda bot: bot.set_webhook(
                    webhook_url, secret_token=str(secret), allowed_updates=list(ALLOWED_UPDATES)
                ),
            )
        except TelegramError as exc:
            return ConnectionInfo(ok=False, error=f"Telegram setWebhook: {exc}")
        return ConnectionInfo(ok=True, display_name=webhook_url)

    def unregister(self, cfg: ChannelConfig) -> None:
        """deleteWebhook, so Telegram stops calling BizBot (best effort)."""
        _call(cfg, lambda bot: bot.delete_webhook())

    def download(
        self, attachment: Mapping[str, Any], cfg: ChannelConfig, *, max_bytes: int
    ) -> MediaFile:
        """getFile, then the file itself (bots may fetch up to 20 MB)."""
        file_id = attachment.get("file_id")
        if not file_id:
            raise MediaError("the attachment has no Telegram file id")
        limit = min(max_bytes, BOT_DOWNLOAD_LIMIT)
        declared = int(attachment.get("file_size") or 0)
        if declared > limit:
            raise MediaError(
                f"the file is {declared / 1_000_000:.1f} MB, over the "
                f"{limit / 1_000_000:g} MB limit"
            )
        try:
            tg_file = _call(cfg, lambda bot: bot.get_file(str(file_id)))
        except BadRequest as exc:
            raise MediaError(f"Telegram: {exc}") from exc
        except TelegramError as exc:
            raise MediaError(f"Telegram: {exc}", retryable=True) from exc
        content, mime = meta.fetch_url(str(tg_file.file_path), max_bytes=limit)
        if attachment.get("mime_type"):
            mime = str(attachment["mime_type"])
        return MediaFile(content=content, mime_type=mime, filename=attachment.get("filename"))


adapter = registry.register(TelegramAdapter())
