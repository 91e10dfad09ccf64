"""A local server speaking the parts of Meta's Graph API BizBot uses, for tests.

WhatsApp Cloud API (phone numbers, messages, media upload and download, subscribed apps,
message templates), the Messenger/Instagram Send API (`me/messages`, pages, profiles,
subscribed apps) and a CDN for attachment URLs. Production code runs unchanged with
`GRAPH_API_BASE_URL` pointed at `server.url`:

    with FakeGraph() as graph:
        graph.add_phone("1001", token="wa-token", verified_name="Sunrise Bakery")
        graph.fail_next("messages", code=131047, message="Re-engagement message")

Every request is kept in `requests`; `sent()` lists the message bodies posted.
Errors use the Graph shape `{"error": {"message", "type", "code", "error_subcode", …}}`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit


def parse_multipart(raw: bytes, content_type: str) -> dict[str, Any]:
    """A multipart/form-data body: text fields as str, files as {filename, size, content_type}."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    parsed: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename:
            parsed[name] = {
                "filename": filename,
                "size": len(payload),
                "content_type": part.get_content_type(),
            }
        else:
            parsed[name] = payload.decode()
    return parsed


@dataclass(frozen=True)
class Recorded:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # parsed JSON, form fields, or None

    @property
    def token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth.removeprefix("Bearer ").strip() or self.query.get("access_token")


@dataclass
class _Failure:
    status: int
    error: dict[str, Any]


@dataclass
class GraphState:
    """What the fake knows: accounts by token, media, profiles, failures to inject."""

    phones: dict[str, dict[str, Any]] = field(default_factory=dict)  # phone id -> info
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> page/IG account
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> account info
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)  # PSID/IGSID -> profile
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # media id -> bytes, mime
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # CDN name -> bytes, mime
    templates: list[dict[str, Any]] = field(default_factory=list)
    subscribed: list[str] = field(default_factory=list)
    failures: dict[str, deque[_Failure]] = field(default_factory=dict)
    # Facebook Login: the app, login codes -> user, user tokens -> what the user shared.
    app: tuple[str, str] | None = None  # (app id, app secret)
    redirect_uri: str | None = None  # the one the dialog was opened with
    codes: dict[str, str] = field(default_factory=dict)  # unused code -> short-lived token
    long_lived: dict[str, str] = field(default_factory=dict)  # short token -> long token
    grants: dict[str, dict[str, Any]] = field(default_factory=dict)  # user token -> grants
    next_code: str | None = None  # what the fake login dialog hands back (None: cancelled)


class FakeGraph:
    """The fake Graph API server; a context manager that starts and stops it."""

    version = "v23.0"

    def __init__(self) -> None:
        self.state = GraphState()
        self.requests: list[Recorded] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- set-up ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL to use as GRAPH_API_BASE_URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add_phone(
        self,
        phone_id: str,
        *,
        token: str,
        verified_name: str = "Sunrise Bakery",
        display_phone_number: str = "+254 700 000001",
    ) -> None:
        """A WhatsApp business phone number reachable with `token`."""
        self.state.phones[phone_id] = {
            "id": phone_id,
            "token": token,
            "verified_name": verified_name,
            "display_phone_number": display_phone_number,
            "quality_rating": "GREEN",
        }

    def add_page(self, account_id: str, *, token: str, name: str, username: str | None = None):
        """A Facebook Page (or Instagram account) whose page access token is `token`."""
        info = {"id": account_id, "name": name, **({"username": username} if username else {})}
        self.state.pages[token] = info
        self.state.accounts[account_id] = info

    def add_meta_app(self, app_id: str, app_secret: str, *, redirect_uri: str) -> None:
        """The installation's Meta app, with its valid OAuth redirect URI."""
        self.state.app = (app_id, app_secret)
        self.state.redirect_uri = redirect_uri

    def add_login(
        self,
        code: str,
        *,
        wabas: dict[str, list[str]] | None = None,
        pages: list[dict[str, Any]] | None = None,
    ) -> str:
        """A login code Facebook Login hands back; the user shared these WhatsApp Business
        Accounts (id -> phone number ids) and Pages ({"id", "name", "access_token",
        "instagram_business_account"?}). Returns the long-lived user token it exchanges to."""
        short, long = f"EAAshort{code}", f"EAAlong{code}"
        self.state.codes[code] = short
        self.state.long_lived[short] = long
        grant = {"wabas": dict(wabas or {}), "pages": list(pages or [])}
        self.state.grants[short] = self.state.grants[long] = grant
        return long

    def add_profile(self, user_id: str, **fields: Any) -> None:
        """A customer's profile as the Graph API returns it for their PSID / IGSID."""
        self.state.profiles[user_id] = {"id": user_id, **fields}

    def add_media(self, media_id: str, content: bytes, mime_type: str) -> None:
        """A WhatsApp media id whose file can be downloaded."""
        self.state.media[media_id] = (content, mime_type)

    def add_file(self, name: str, content: bytes, mime_type: str) -> str:
        """A file on the fake CDN; returns its URL (for Messenger attachment payloads)."""
        self.state.files[name] = (content, mime_type)
        return f"{self.url}/cdn/{name}"

    def fail_next(
        self,
        endpoint: str,
        *,
        code: int,
        message: str,
        status: int = 400,
        subcode: int | None = None,
        details: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls whose path ends with `endpoint` with a Graph error."""
        error: dict[str, Any] = {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "AbCdEf123",
        }
        if subcode is not None:
            error["error_subcode"] = subcode
        if details is not None:
            error["error_data"] = {"details": details}
        queue = self.state.failures.setdefault(endpoint, deque())
        for _ in range(times):
            queue.append(_Failure(status, error))

    def template(self, template_id: str) -> dict[str, Any] | None:
        """A submitted message template by its id."""
        return next((t for t in self.state.templates if t["id"] == template_id), None)

    def template_named(self, name: str, language: str) -> dict[str, Any] | None:
        """A submitted message template by name and language."""
        return next(
            (t for t in self.state.templates if (t["name"], t["language"]) == (name, language)),
            None,
        )

    def review_template(
        self,
        name: str,
        language: str,
        *,
        status: str = "APPROVED",
        reason: str | None = None,
        category: str | None = None,
    ) -> dict[str, Any]:
        """Meta's review: the template's new status (and `rejected_reason`, category)."""
        template = self.template_named(name, language)
        if template is None:
            raise KeyError(f"no template {name} ({language}) was submitted")
        template["status"] = status
        template["rejected_reason"] = reason or "NONE"
        if category:
            template["category"] = category
        return template

    def sent(self, endpoint: str = "messages") -> list[Any]:
        """Bodies of the POSTs to paths ending with `endpoint`, in order."""
        return [r.body for r in self.requests if r.method == "POST" and r.path.endswith(endpoint)]

    # --- life cycle --------------------------------------------------------------------------

    def __enter__(self) -> FakeGraph:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- the HTTP side -----------------------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}{next(self._ids)}"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _body(self) -> Any:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                ctype = self.headers.get("content-type", "")
                if ctype.startswith("application/json"):
                    return json.loads(raw or b"null")
                if ctype.startswith("multipart/form-data"):
                    return parse_multipart(raw, ctype)
                if ctype.startswith("application/x-www-form-urlencoded"):
                    return {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                return raw.decode(errors="replace") or None

            def _send(
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

            def _error(self, status: int, message: str, code: int) -> None:
                self._send(
                    status,
                    {
                        "error": {
                            "message": message,
                            "type": "OAuthException",
                            "code": code,
                            "fbtrace_id": "AbCdEf123",
                        }
                    },
                )

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                headers = {k.lower(): v for k, v in self.headers.items()}
                body = self._body() if method == "POST" else None
                record = Recorded(method, parts.path, query, headers, body)
                fake.requests.append(record)
                path = parts.path
                for endpoint, queue in fake.state.failures.items():
                    if path.endswith(endpoint) and queue:
                        failure = queue.popleft()
                        return self._send(failure.status, {"error": failure.error})
                if path.startswith("/cdn/"):
                    return self._cdn(path[len("/cdn/") :])
                if path.startswith("/media-files/"):
                    return self._media_file(path[len("/media-files/") :], record)
                prefix = f"/{fake.version}/"
                if not path.startswith(prefix):
                    return self._error(400, f"Unknown path components: {path}", 2500)
                segments = path[len(prefix) :].strip("/").split("/")
                if segments == ["dialog", "oauth"] and method == "GET":
                    return self._dialog(record.query)
                if segments == ["oauth", "access_token"] and method == "GET":
                    return self._oauth_token(record.query)
                if segments == ["debug_token"] and method == "GET":
                    return self._debug_token(record.query)
                token = record.token
                if not token:
                    return self._error(
                        400,
                        "An active access token must be used to query "
                        "information about the current user.",
                        2500,
                    )
                return self._route(method, segments, record, token)

            def _dialog(self, query: dict[str, str]) -> None:
                # Facebook Login's dialog, as if the user logged in and approved at once (or
                # cancelled, when no code is waiting): back to the app's redirect URI.
                state = fake.state
                redirect = query.get("redirect_uri", "")
                if state.app is None or query.get("client_id") != state.app[0]:
                    return self._send(400, None, raw=b"Invalid App ID", ctype="text/plain")
                if state.redirect_uri is not None and redirect != state.redirect_uri:
                    return self._send(400, None, raw=b"URL blocked", ctype="text/plain")
                code, state.next_code = state.next_code, None
                params = (
                    {"code": code, "state": query.get("state", "")}
                    if code
                    else {"error": "access_denied", "error_reason": "user_denied",
                          "error_description": "Permissions error",
                          "state": query.get("state", "")}
                )  # fmt: skip
                self.send_response(302)
                self.send_header("Location", f"{redirect}?{urlencode(params)}")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _oauth_token(self, query: dict[str, str]) -> None:
                # https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow
                state = fake.state
                if state.app is None or query.get("client_id") != state.app[0]:
                    return self._error(
                        400, "Error validating application. Invalid application ID.", 101
                    )
                if query.get("client_secret") != state.app[1]:
                    return self._error(400, "Error validating client secret.", 1)
                if query.get("grant_type") == "fb_exchange_token":
                    long = state.long_lived.get(query.get("fb_exchange_token", ""))
                    if long is None:
                        return self._error(
                            400, "Invalid OAuth access token - Cannot parse access token", 190
                        )
                    return self._send(
                        200, {"access_token": long, "token_type": "bearer", "expires_in": 5183944}
                    )
                if query.get("redirect_uri") != state.redirect_uri:
                    return self._send(400, {"error": {
                        "message": "Error validating verification code. Please make sure your "
                                   "redirect_uri is identical to the one you used in the OAuth "
                                   "dialog request",
                        "type": "OAuthException", "code": 100, "error_subcode": 36008,
                        "fbtrace_id": "AbCdEf123"}})  # fmt: skip
                short = state.codes.pop(query.get("code", ""), None)
                if short is None:
                    return self._send(400, {"error": {
                        "message": "This authorization code has been used.",
                        "type": "OAuthException", "code": 100, "error_subcode": 36009,
                        "fbtrace_id": "AbCdEf123"}})  # fmt: skip
                return self._send(
                    200, {"access_token": short, "token_type": "bearer", "expires_in": 5183}
                )

            def _debug_token(self, query: dict[str, str]) -> None:
                state = fake.state
                if state.app is None or query.get("access_token") != "|".join(state.app):
                    return self._error(400, "Invalid OAuth access token signature.", 190)
                grant = state.grants.get(query.get("input_token", ""))
                if grant is None:
                    return self._send(200, {"data": {"is_valid": False, "error": {
                        "code": 190, "message": "Invalid OAuth access token."}}})  # fmt: skip
                wabas = list(grant["wabas"])
                scopes = [
                    {"scope": "whatsapp_business_management", "target_ids": wabas},
                    {"scope": "whatsapp_business_messaging", "target_ids": wabas},
                ] if wabas else []  # fmt: skip
                return self._send(200, {"data": {
                    "app_id": state.app[0], "type": "USER", "application": "BizBot",
                    "is_valid": True, "scopes": ["whatsapp_business_management"],
                    "granular_scopes": scopes, "user_id": "10001"}})  # fmt: skip

            def _route(self, method: str, seg: list[str], record: Recorded, token: str) -> None:
                state = fake.state
                grant = state.grants.get(token)
                if grant is not None and seg == ["me", "accounts"] and method == "GET":
                    return self._send(200, {"data": grant["pages"], "paging": {}})
                if grant is not None and len(seg) == 2 and seg[1] == "phone_numbers":
                    phones = [
                        {k: v for k, v in state.phones[p].items() if k != "token"}
                        for p in grant["wabas"].get(seg[0], [])
                        if p in state.phones
                    ]
                    return self._send(200, {"data": phones, "paging": {}})
                if len(seg) == 2 and seg[1] == "messages" and seg[0] in state.phones:
                    if state.phones[seg[0]]["token"] != token:
                        return self._error(
                            401, "Invalid OAuth access token - Cannot parse access token", 190
                        )
                    body = record.body or {}
                    message_id = fake._next_id("wamid.HBgM")
                    return self._send(
                        200,
                        {
                            "messaging_product": "whatsapp",
                            "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                            "messages": [{"id": message_id}],
                        },
                    )
                if len(seg) == 2 and seg[1] == "media" and seg[0] in state.phones:
                    return self._send(200, {"id": fake._next_id("media-up-")})
                if len(seg) == 2 and seg[1] == "subscribed_apps":
                    state.subscribed.append(seg[0])
                    if method == "GET":
                        return self._send(
                            200,
                            {
                                "data": [
                                    {"whatsapp_business_api_data": {"id": "777", "name": "BizBot"}}
                                ]
                            },
                        )
                    return self._send(200, {"success": True})
                if len(seg) == 2 and seg[1] == "message_templates" and method == "POST":
                    return self._create_template(seg[0], record.body or {})
                if len(seg) == 2 and seg[1] == "message_templates" and method == "DELETE":
                    before = len(state.templates)
                    state.templates[:] = [
                        t for t in state.templates if t["name"] != record.query.get("name")
                    ]
                    return self._send(200, {"success": len(state.templates) < before})
                if len(seg) == 2 and seg[1] == "message_templates":
                    return self._send(200, {"data": state.templates, "paging": {}})
                if len(seg) == 1 and method == "POST" and fake.template(seg[0]) is not None:
                    template = fake.template(seg[0])
                    template.update(
                        components=(record.body or {}).get("components"), status="PENDING"
                    )
                    return self._send(200, {"success": True, "id": template["id"]})
                if seg == ["me", "messages"]:
                    if token not in state.pages:
                        return self._error(
                            400, "Invalid OAuth access token - Cannot parse access token", 190
                        )
                    body = record.body or {}
                    recipient = body.get("recipient")
                    if isinstance(recipient, str):
                        recipient = json.loads(recipient)
                    return self._send(
                        200,
                        {
                            "recipient_id": (recipient or {}).get("id"),
                            "message_id": fake._next_id("m_"),
                        },
                    )
                if seg == ["me"] and method == "GET":
                    if token not in state.pages:
                        return self._error(
                            400, "Invalid OAuth access token - Cannot parse access token", 190
                        )
                    return self._send(200, state.pages[token])
                if len(seg) == 1 and method == "GET":
                    return self._object(seg[0], record, token)
                return self._error(400, f"Unsupported {method} request to /{'/'.join(seg)}", 100)

            def _create_template(self, waba_id: str, body: dict[str, Any]) -> None:
                missing = [
                    k for k in ("name", "language", "category", "components") if not body.get(k)
                ]
                if missing:
                    return self._error(400, f"(#100) The parameter {missing[0]} is required.", 100)
                if fake.template_named(body["name"], body["language"]) is not None:
                    return self._error(
                        400,
                        "Message template already exists in this language (code 2388024)",
                        100,
                    )
                template = {
                    "id": fake._next_id("5944254792615"),
                    "waba_id": waba_id,
                    "name": body["name"],
                    "language": body["language"],
                    "category": body["category"],
                    "components": body["components"],
                    "status": "PENDING",
                }
                fake.state.templates.append(template)
                return self._send(
                    200,
                    {"id": template["id"], "status": "PENDING", "category": body["category"]},
                )

            def _object(self, object_id: str, record: Recorded, token: str) -> None:
                state = fake.state
                if object_id in state.phones:
                    phone = state.phones[object_id]
                    if phone["token"] != token:
                        return self._error(
                            401, "Invalid OAuth access token - Cannot parse access token", 190
                        )
                    return self._send(200, {k: v for k, v in phone.items() if k != "token"})
                if object_id in state.media:
                    content, mime = state.media[object_id]
                    return self._send(
                        200,
                        {
                            "url": f"{fake.url}/media-files/{object_id}",
                            "mime_type": mime,
                            "sha256": hashlib.sha256(content).hexdigest(),
                            "file_size": len(content),
                            "id": object_id,
                            "messaging_product": "whatsapp",
                        },
                    )
                if object_id in state.accounts:
                    if token not in state.pages:
                        return self._error(
                            400, "Invalid OAuth access token - Cannot parse access token", 190
                        )
                    return self._send(200, state.accounts[object_id])
                if object_id in state.profiles:
                    return self._send(200, state.profiles[object_id])
                return self._error(
                    400,
                    f"Unsupported get request. Object with ID '{object_id}' does not exist",
                    100,
                )

            def _media_file(self, media_id: str, record: Recorded) -> None:
                if not record.headers.get("authorization", "").startswith("Bearer "):
                    return self._send(401, None, raw=b"Unauthorized", ctype="text/plain")
                if media_id not in fake.state.media:
                    return self._send(404, None, raw=b"Not found", ctype="text/plain")
                content, mime = fake.state.media[media_id]
                return self._send(200, None, raw=content, ctype=mime)

            def _cdn(self, name: str) -> None:
                if name not in fake.state.files:
                    return self._send(404, None, raw=b"URL signature expired", ctype="text/plain")
                content, mime = fake.state.files[name]
                return self._send(200, None, raw=content, ctype=mime)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

        return Handler
