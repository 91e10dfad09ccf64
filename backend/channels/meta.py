"""What WhatsApp, Messenger and Instagram share: Meta's webhook handshake and signature, the
Graph API's address and its errors.

The Graph API is reached at `GRAPH_API_BASE_URL` (Meta's by default); pywa builds its own
`https://graph.facebook.com` URLs, so its httpx client gets a transport that sends them there.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from backend.channels.base import BadPayload, InvalidSignature, MediaError, MissingSignature
from backend.core.config import settings

META_HOST = "graph.facebook.com"
SIGNATURE_HEADER = "x-hub-signature-256"
# Graph error codes that mean "try again later" (rate limits, temporary outages).
RETRYABLE_CODES = {1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131000, 131016, 131056, 133004}


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A request header by case-insensitive name."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def check_signature(headers: Mapping[str, str], body: bytes, app_secret: str | None) -> None:
    """`X-Hub-Signature-256: sha256=<hex>` must be the HMAC of the raw body with the app secret.

    Missing → MissingSignature (401); anything else that does not match → InvalidSignature (403).
    The comparison takes the same time however many characters match.
    """
    given = header(headers, SIGNATURE_HEADER)
    if not given:
        raise MissingSignature("X-Hub-Signature-256 header is missing")
    if not app_secret:
        raise InvalidSignature("this channel has no app secret saved, so no signature can match")
    expected = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.strip().lower().encode(), expected.encode()):
        raise InvalidSignature("X-Hub-Signature-256 does not match the body")


def sign(body: bytes, app_secret: str) -> str:
    """The X-Hub-Signature-256 value Meta sends for `body` (tests and replays use it)."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def answer_challenge(query: Mapping[str, str], verify_token: str | None) -> str:
    """Meta's subscription handshake: echo `hub.challenge` when `hub.verify_token` matches."""
    mode, token = query.get("hub.mode"), query.get("hub.verify_token")
    challenge = query.get("hub.challenge")
    if mode != "subscribe" or challenge is None:
        raise BadPayload("expected hub.mode=subscribe, hub.verify_token and hub.challenge")
    if not token:
        raise MissingSignature("hub.verify_token is missing")
    if not verify_token or not hmac.compare_digest(token.encode(), verify_token.encode()):
        raise InvalidSignature("hub.verify_token does not match this channel's verify token")
    return challenge


def load_object(body: bytes, *, expected_object: str) -> dict[str, Any]:
    """The JSON body as a dict with `object` == expected and a list of `entry`, or BadPayload."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload(f"the body is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadPayload("the body must be a JSON object")
    if data.get("object") != expected_object:
        raise BadPayload(f"expected object={expected_object!r}, got {data.get('object')!r}")
    entries = data.get("entry")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise BadPayload("`entry` must be a list of objects")
    return data


def from_timestamp(value: Any, *, millis: bool = False) -> datetime | None:
    """A provider timestamp (seconds, or milliseconds for Messenger) as an aware datetime."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(number / 1000 if millis else number, UTC)


def within(moment: datetime | None, window: timedelta, *, now: datetime | None = None) -> bool:
    """Whether `moment` is less than `window` ago."""
    if moment is None:
        return False
    now = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return now - moment < window


def ago(moment: datetime | None, *, now: datetime | None = None) -> str:
    """'3 days ago', '26 hours ago', or 'never' for a reply-window message."""
    if moment is None:
        return "never"
    now = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    hours = int((now - moment).total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24} days ago"
    return f"{hours} hours ago"


# --- the Graph API -----------------------------------------------------------------------------


def graph_url(path: str = "") -> str:
    """An absolute Graph API URL for `path` at the configured address and version."""
    version = settings.graph_api_version.lstrip("v")
    return f"{settings.graph_api_base_url.rstrip('/')}/v{version}/{path.lstrip('/')}"


class _Rebase(httpx.BaseTransport):
    """Sends requests for graph.facebook.com to GRAPH_API_BASE_URL instead."""

    def __init__(self, base_url: str) -> None:
        self._base = httpx.URL(base_url.rstrip("/") + "/")
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == META_HOST:
            prefix = self._base.path.rstrip("/")
            request.url = request.url.copy_with(
                scheme=self._base.scheme,
                host=self._base.host,
                port=self._base.port,
                path=prefix + request.url.path,
            )
            request.headers["host"] = self._base.netloc.decode()
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def pywa_session() -> httpx.Client:
    """A fresh httpx client for one pywa WhatsApp instance (pywa wants one per instance)."""
    base = settings.graph_api_base_url.rstrip("/")
    transport = None if base == f"https://{META_HOST}" else _Rebase(base)
    return httpx.Client(transport=transport, timeout=settings.channel_http_timeout)


def graph_client(access_token: str) -> httpx.Client:
    """An httpx client for the Graph API with the page's token (Messenger, Instagram)."""
    return httpx.Client(
        base_url=graph_url(),
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=settings.channel_http_timeout,
    )


def graph_error(response: httpx.Response) -> tuple[str, bool]:
    """The platform's own error text for a failed Graph call, and whether a retry may succeed."""
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    if not isinstance(error, dict) or not error:
        text = (response.text or "").strip()[:300] or response.reason_phrase
        return f"HTTP {response.status_code}: {text}", response.status_code >= 500
    code = error.get("code")
    message = str(error.get("message") or "unknown error")
    details = (
        (error.get("error_data") or {}).get("details")
        if isinstance(error.get("error_data"), dict)
        else None
    )
    text = f"{message} (code {code}" + (
        f", subcode {error['error_subcode']})" if error.get("error_subcode") else ")"
    )
    if details:
        text += f": {details}"
    retryable = (
        response.status_code >= 500 or code in RETRYABLE_CODES or bool(error.get("is_transient"))
    )
    return text, retryable


def read_limited(chunks: Iterator[bytes], *, max_bytes: int) -> bytes:
    """The whole download, or MediaError as soon as it grows past `max_bytes`."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise MediaError(f"the file is larger than the {max_bytes / 1_000_000:g} MB limit")
        parts.append(chunk)
    return b"".join(parts)


def fetch_url(
    url: str, *, max_bytes: int, headers: Mapping[str, str] | None = None
) -> tuple[bytes, str]:
    """Download a platform media URL with a size limit: the bytes and the Content-Type."""
    client = httpx.Client(timeout=settings.channel_http_timeout, follow_redirects=True)
    try:
        with client, client.stream("GET", url, headers=dict(headers or {})) as response:
            if response.status_code >= 400:
                retryable = response.status_code >= 500 or response.status_code == 429
                raise MediaError(
                    f"the platform answered HTTP {response.status_code} for the file",
                    retryable=retryable,
                )
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise MediaError(
                    f"the file is {int(declared) / 1_000_000:.1f} MB, over the "
                    f"{max_bytes / 1_000_000:g} MB limit"
                )
            content = read_limited(response.iter_bytes(), max_bytes=max_bytes)
            mime = response.headers.get("content-type", "application/octet-stream")
            return content, mime.split(";")[0].strip()
    except httpx.HTTPError as exc:
        raise MediaError(f"could not download the file: {exc}", retryable=True) from exc
