"""A local server speaking the Telegram Bot API (as python-telegram-bot calls it), for tests.

Requests arrive form-encoded (complex values JSON-encoded) or multipart with files, at
`/bot<token>/<method>`; files are served at `/file/bot<token>/<path>`. Production code runs
unchanged with `TELEGRAM_API_BASE_URL` pointed at `server.url`:

    with FakeTelegram() as tg:
        tg.add_bot("123:ABC", username="sunrise_bot")
        tg.rate_limit_next(retry_after=3)

sendMessage with `parse_mode=MarkdownV2` is checked like Telegram does: an unescaped reserved
character is a 400 "can't parse entities". Every call is kept in `calls`.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.graph_server import parse_multipart

_RESERVED = set("_*[]()~`>#+-=|{}.!")


def markdown_v2_problem(text: str) -> str | None:
    """Telegram's complaint about MarkdownV2 text, or None when it parses (a light check:
    reserved characters must be escaped unless they open or close an entity)."""
    i, stack = 0, []
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "]" and text[i + 1 : i + 2] == "(":
            # A link's URL: only ')' and '\\' are escaped there; it ends at the first bare ')'.
            i += 2
            while i < len(text) and text[i] != ")":
                i += 2 if text[i] == "\\" else 1
            if i >= len(text):
                return "Bad Request: can't parse entities: Can't find end of a URL"
            i += 1
            continue
        if ch == "`":  # code: nothing inside is parsed; it ends at the next bare backtick
            i += 1
            while i < len(text) and text[i] != "`":
                i += 2 if text[i] == "\\" else 1
            if i >= len(text):
                return "Bad Request: can't parse entities: Can't find end of Code entity"
            i += 1
            continue
        if ch in "*_~|[]":
            if ch in "*_~":
                if stack and stack[-1] == ch:
                    stack.pop()
                else:
                    stack.append(ch)
            i += 1
            continue
        if ch in _RESERVED:
            return (
                f"Bad Request: can't parse entities: Character '{ch}' is reserved and must be "
                "escaped with the preceding '\\'"
            )
        i += 1
    if stack:
        return f"Bad Request: can't parse entities: Can't find end of the entity starting at {i}"
    return None


@dataclass(frozen=True)
class Call:
    """One Bot API call."""

    token: str
    method: str
    params: dict[str, Any]


@dataclass
class _Bot:
    id: int
    username: str
    first_name: str
    webhook: dict[str, Any] = field(default_factory=dict)


class FakeTelegram:
    """The fake Bot API server; a context manager that starts and stops it."""

    def __init__(self) -> None:
        self.bots: dict[str, _Bot] = {}
        self.files: dict[str, tuple[bytes, str]] = {}  # file_id -> content, file_path
        self.calls: list[Call] = []
        self.rate_limits: deque[int] = deque()
        self.failures: deque[tuple[int, str]] = deque()
        self._ids = itertools.count(100)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL to use as TELEGRAM_API_BASE_URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add_bot(
        self, token: str, *, username: str = "sunrise_bot", first_name: str = "Sunrise Bakery"
    ) -> None:
        """A bot that answers to `token`."""
        self.bots[token] = _Bot(
            id=int(token.split(":")[0]), username=username, first_name=first_name
        )

    def add_file(self, file_id: str, content: bytes, file_path: str = "photos/file_1.jpg") -> None:
        """A file a bot can fetch with getFile."""
        self.files[file_id] = (content, file_path)

    def rate_limit_next(self, *, retry_after: int, times: int = 1) -> None:
        """Answer the next sending calls with 429 Too Many Requests."""
        self.rate_limits.extend([retry_after] * times)

    def fail_next(self, description: str, *, status: int = 400) -> None:
        """Answer the next sending call with an error (e.g. 403 bot was blocked by the user)."""
        self.failures.append((status, description))

    def sent(self, method: str | None = None) -> list[Call]:
        """Calls of a method (all sending methods when None), in order."""
        sending = {"sendMessage", "sendPhoto", "sendDocument", "sendAudio", "sendVideo"}
        return [c for c in self.calls if (c.method == method if method else c.method in sending)]

    def webhook(self, token: str) -> dict[str, Any]:
        """What setWebhook stored for the bot."""
        return self.bots[token].webhook

    def __enter__(self) -> FakeTelegram:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _reply(
                self,
                status: int,
                payload: Any,
                *,
                raw: bytes | None = None,
                ctype: str = "application/json",
            ) -> None:
                data = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _ok(self, result: Any) -> None:
                self._reply(200, {"ok": True, "result": result})

            def _fail(self, status: int, description: str, **extra: Any) -> None:
                self._reply(
                    status, {"ok": False, "error_code": status, "description": description, **extra}
                )

            def _params(self) -> dict[str, Any]:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                ctype = self.headers.get("content-type", "")
                if ctype.startswith("multipart/form-data"):
                    params = parse_multipart(raw, ctype)
                elif ctype.startswith("application/json"):
                    params = json.loads(raw or b"{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                for key in ("reply_markup", "allowed_updates"):
                    if isinstance(params.get(key), str):
                        params[key] = json.loads(params[key])
                return params

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                match = re.fullmatch(r"/file/bot([^/]+)/(.+)", path)
                if match and match.group(1) in fake.bots:
                    for content, file_path in fake.files.values():
                        if file_path == match.group(2):
                            return self._reply(200, None, raw=content, ctype="image/jpeg")
                    return self._fail(404, "Not Found")
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                return self._handle(query)

            def do_POST(self) -> None:
                self._handle(self._params())

            def _message(self, bot: _Bot, chat_id: Any, **content: Any) -> dict[str, Any]:
                return {
                    "message_id": next(fake._ids),
                    "date": int(time.time()),
                    "chat": {"id": int(chat_id), "type": "private"},
                    "from": {
                        "id": bot.id,
                        "is_bot": True,
                        "first_name": bot.first_name,
                        "username": bot.username,
                    },
                    **content,
                }

            def _handle(self, params: dict[str, Any]) -> None:
                match = re.fullmatch(r"/bot([^/]+)/(\w+)", urlsplit(self.path).path)
                if not match:
                    return self._fail(404, "Not Found")
                token, method = match.groups()
                fake.calls.append(Call(token, method, params))
                bot = fake.bots.get(token)
                if bot is None:
                    return self._fail(401, "Unauthorized")
                if method in ("sendMessage", "sendPhoto", "sendDocument", "sendAudio", "sendVideo"):
                    if fake.rate_limits:
                        wait = fake.rate_limits.popleft()
                        return self._fail(
                            429,
                            f"Too Many Requests: retry after {wait}",
                            parameters={"retry_after": wait},
                        )
                    if fake.failures:
                        status, description = fake.failures.popleft()
                        return self._fail(status, description)
                if method == "getMe":
                    return self._ok(
                        {
                            "id": bot.id,
                            "is_bot": True,
                            "first_name": bot.first_name,
                            "username": bot.username,
                            "can_join_groups": True,
                            "can_read_all_group_messages": False,
                            "supports_inline_queries": False,
                        }
                    )
                if method == "setWebhook":
                    if not str(params.get("url", "")).startswith(("http://", "https://")):
                        return self._fail(
                            400,
                            "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
                        )
                    bot.webhook = dict(params)
                    return self._ok(True)
                if method == "deleteWebhook":
                    bot.webhook = {}
                    return self._ok(True)
                if method == "sendMessage":
                    text = str(params.get("text") or "")
                    if not text:
                        return self._fail(400, "Bad Request: message text is empty")
                    if params.get("parse_mode") == "MarkdownV2":
                        problem = markdown_v2_problem(text)
                        if problem:
                            return self._fail(400, problem)
                    return self._ok(self._message(bot, params["chat_id"], text=text))
                if method == "sendPhoto":
                    return self._ok(
                        self._message(
                            bot,
                            params["chat_id"],
                            photo=[
                                {
                                    "file_id": "sent-photo",
                                    "file_unique_id": "u1",
                                    "width": 10,
                                    "height": 10,
                                }
                            ],
                        )
                    )
                if method in ("sendDocument", "sendAudio", "sendVideo"):
                    return self._ok(
                        self._message(
                            bot,
                            params["chat_id"],
                            document={"file_id": "sent-doc", "file_unique_id": "u2"},
                        )
                    )
                if method == "getFile":
                    file_id = str(params.get("file_id"))
                    if file_id not in fake.files:
                        return self._fail(400, "Bad Request: invalid file_id")
                    content, file_path = fake.files[file_id]
                    return self._ok(
                        {
                            "file_id": file_id,
                            "file_unique_id": f"u-{file_id}",
                            "file_size": len(content),
                            "file_path": file_path,
                        }
                    )
                if method == "answerCallbackQuery":
                    return self._ok(True)
                return self._fail(404, "Not Found: method not found")

        return Handler
