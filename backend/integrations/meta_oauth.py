"""Connect WhatsApp, Messenger or Instagram with Facebook Login instead of pasting tokens.

When the installation has a Meta app (META_APP_ID, META_APP_SECRET), the owner is sent to
Meta's OAuth dialog with a signed `state`; Meta sends them back to the callback with a `code`,
which BizBot exchanges for a user token (`GET /oauth/access_token`), then for a long-lived one
(`grant_type=fb_exchange_token`). With it BizBot finds what to connect — the WhatsApp Business
Account the owner granted (`/debug_token` granular scopes) and its phone number, or the Page
(`/me/accounts`, with its Page token and linked Instagram account) — and saves the channel as
the setup form would, credentials encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from backend.auth.permissions import Actor, Permission
from backend.channels import meta
from backend.core.config import settings

__all__ = [
    "CALLBACK_PATH",
    "KINDS",
    "MetaAccount",
    "MetaOAuthError",
    "OAuthState",
    "available",
    "callback_url",
    "dialog_url",
    "fetch_account",
    "read_state",
]

CALLBACK_PATH = "/api/integrations/meta/callback"
KINDS = ("whatsapp", "messenger", "instagram")
# The owner has this long between leaving for Facebook and coming back.
STATE_MAX_AGE = 15 * 60
_SALT = "bizbot.meta-oauth"
# Permissions each channel needs (Meta's names), asked for in the dialog.
SCOPES = {
    "whatsapp": (
        "whatsapp_business_management",
        "whatsapp_business_messaging",
        "business_management",
    ),
    "messenger": ("pages_show_list", "pages_messaging", "pages_manage_metadata"),
    "instagram": (
        "instagram_basic",
        "instagram_manage_messages",
        "pages_show_list",
        "pages_manage_metadata",
        "business_management",
    ),
}
_LABELS = {"whatsapp": "WhatsApp", "messenger": "Messenger", "instagram": "Instagram"}


class MetaOAuthError(Exception):
    """The connection could not be made; the message is what the owner reads (Meta's own words
    where Meta gave them)."""


@dataclass(frozen=True)
class OAuthState:
    """Who started the connection, and for which channel (signed into `state`)."""

    business_id: int
    user_id: int
    kind: str


@dataclass(frozen=True)
class MetaAccount:
    """What the exchange found: the channel's setup-form values, and what else there was."""

    kind: str
    values: dict[str, str]  # the CHANNEL_FIELDS of the kind (secrets included)
    name: str  # the number's or Page's name, for the result message
    others: int = 0  # further numbers or Pages the owner could have meant


def available() -> bool:
    """Whether the installation has a Meta app to connect with."""
    return bool(settings.meta_app_id and settings.meta_app_secret)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.effective_secret_key, salt=_SALT)


def callback_url() -> str:
    """The redirect URI registered in the Meta app (Facebook Login → Valid OAuth redirect URIs)."""
    return f"{settings.public_url}{CALLBACK_PATH}"


def dialog_url(*, actor: Actor, kind: str) -> str:
    """The Facebook Login dialog for `kind`, with a signed state naming the actor."""
    actor.require(Permission.INTEGRATIONS_MANAGE)
    if kind not in KINDS:
        raise MetaOAuthError(f"Facebook Login connects {', '.join(KINDS)}, not {kind!r}.")
    if not available():
        raise MetaOAuthError(
            "This BizBot has no Meta app: set META_APP_ID and META_APP_SECRET, or fill in the "
            "form by hand."
        )
    state = _serializer().dumps({"b": actor.business_id, "u": actor.user_id, "k": kind})
    query = urlencode(
        {
            "client_id": settings.meta_app_id,
            "redirect_uri": callback_url(),
            "state": state,
            "response_type": "code",
            "scope": ",".join(SCOPES[kind]),
        }
    )
    version = settings.graph_api_version.lstrip("v")
    return f"{settings.meta_oauth_dialog_url.rstrip('/')}/v{version}/dialog/oauth?{query}"


def read_state(state: str | None) -> OAuthState:
    """The state Meta handed back, checked (signature, age); MetaOAuthError when it is not ours."""
    try:
        data = _serializer().loads(state or "", max_age=STATE_MAX_AGE)
    except SignatureExpired:
        raise MetaOAuthError(
            "The Facebook login took longer than 15 minutes; click Connect with Facebook again."
        ) from None
    except BadSignature:
        raise MetaOAuthError(
            "This Facebook login was not started from your BizBot (its state does not match); "
            "click Connect with Facebook again."
        ) from None
    if not isinstance(data, dict) or data.get("k") not in KINDS:
        raise MetaOAuthError("This Facebook login's state is malformed; start again.")
    return OAuthState(business_id=int(data["b"]), user_id=int(data["u"]), kind=str(data["k"]))


# --- the exchange ------------------------------------------------------------------------------


def _get(client: httpx.Client, path: str, params: dict[str, Any], what: str) -> dict[str, Any]:
    try:
        response = client.get(path, params=params)
    except httpx.HTTPError as exc:
        raise MetaOAuthError(f"Could not reach Meta's Graph API to {what}: {exc}") from exc
    if response.status_code >= 400:
        raise MetaOAuthError(f"Meta refused to {what}: {meta.graph_error(response)[0]}")
    try:
        data = response.json()
    except ValueError:
        raise MetaOAuthError(f"Meta's answer to {what} was not JSON.") from None
    if not isinstance(data, dict):
        raise MetaOAuthError(f"Meta's answer to {what} was not an object.")
    return data


def _long_lived_token(client: httpx.Client, code: str) -> str:
    app = {"client_id": settings.meta_app_id, "client_secret": settings.meta_app_secret}
    short = _get(
        client, "oauth/access_token", {**app, "redirect_uri": callback_url(), "code": code},
        "exchange the login code for a token",
    )  # fmt: skip
    if not short.get("access_token"):
        raise MetaOAuthError("Meta's token answer had no access_token.")
    long = _get(
        client, "oauth/access_token",
        {**app, "grant_type": "fb_exchange_token", "fb_exchange_token": short["access_token"]},
        "extend the token",
    )  # fmt: skip
    return str(long.get("access_token") or short["access_token"])


def _whatsapp(client: httpx.Client, token: str) -> MetaAccount:
    debug = _get(
        client, "debug_token",
        {"input_token": token,
         "access_token": f"{settings.meta_app_id}|{settings.meta_app_secret}"},
        "describe the token",
    ).get("data") or {}  # fmt: skip
    wabas: list[str] = []
    for grant in debug.get("granular_scopes") or []:
        if isinstance(grant, dict) and grant.get("scope") == "whatsapp_business_management":
            wabas += [str(t) for t in grant.get("target_ids") or [] if str(t) not in wabas]
    if not wabas:
        raise MetaOAuthError(
            "No WhatsApp Business Account was shared with BizBot: click Connect with Facebook "
            "again and choose your WhatsApp account when Facebook asks."
        )
    for waba in wabas:
        phones = _get(
            client, f"{waba}/phone_numbers",
            {"access_token": token, "fields": "id,display_phone_number,verified_name"},
            "list the account's phone numbers",
        ).get("data") or []  # fmt: skip
        phones = [p for p in phones if isinstance(p, dict) and p.get("id")]
        if phones:
            phone = phones[0]
            name = (
                f"{phone.get('verified_name') or 'WhatsApp'} ({phone.get('display_phone_number')})"
            )
            return MetaAccount(
                kind="whatsapp",
                values={"phone_number_id": str(phone["id"]), "waba_id": waba,
                        "access_token": token, "app_secret": str(settings.meta_app_secret)},
                name=name, others=len(phones) - 1 + len(wabas) - 1,
            )  # fmt: skip
    raise MetaOAuthError(
        "Your WhatsApp Business Account has no phone number yet: add one in WhatsApp Manager, "
        "then connect again."
    )


def _pages(client: httpx.Client, token: str) -> list[dict[str, Any]]:
    found = _get(
        client, "me/accounts",
        {"access_token": token,
         "fields": "id,name,access_token,instagram_business_account{id,username}"},
        "list your Facebook Pages",
    ).get("data") or []  # fmt: skip
    return [p for p in found if isinstance(p, dict) and p.get("id") and p.get("access_token")]


def _messenger(client: httpx.Client, token: str) -> MetaAccount:
    pages = _pages(client, token)
    if not pages:
        raise MetaOAuthError(
            "No Facebook Page was shared with BizBot: click Connect with Facebook again and "
            "choose the Page customers message."
        )
    page = pages[0]
    return MetaAccount(
        kind="messenger",
        values={"page_id": str(page["id"]), "page_access_token": str(page["access_token"]),
                "app_secret": str(settings.meta_app_secret)},
        name=str(page.get("name") or page["id"]), others=len(pages) - 1,
    )  # fmt: skip


def _instagram(client: httpx.Client, token: str) -> MetaAccount:
    linked = [
        p for p in _pages(client, token) if isinstance(p.get("instagram_business_account"), dict)
    ]
    if not linked:
        raise MetaOAuthError(
            "None of the Facebook Pages you shared has an Instagram professional account "
            "linked: link it in the Page's settings (Linked accounts), then connect again."
        )
    page = linked[0]
    account = page["instagram_business_account"]
    username = account.get("username")
    return MetaAccount(
        kind="instagram",
        values={"ig_account_id": str(account.get("id")),
                "page_access_token": str(page["access_token"]),
                "app_secret": str(settings.meta_app_secret)},
        name=f"@{username}" if username else str(account.get("id")), others=len(linked) - 1,
    )  # fmt: skip


def fetch_account(*, kind: str, code: str) -> MetaAccount:
    """Exchange the login code and find the number or Page to connect (network; no database)."""
    if kind not in KINDS:
        raise MetaOAuthError(f"Facebook Login connects {', '.join(KINDS)}, not {kind!r}.")
    if not code:
        raise MetaOAuthError("Facebook sent no login code back; click Connect with Facebook again.")
    with httpx.Client(base_url=meta.graph_url(), timeout=settings.channel_http_timeout) as client:
        token = _long_lived_token(client, code)
        return {"whatsapp": _whatsapp, "messenger": _messenger, "instagram": _instagram}[kind](
            client, token
        )


def label(kind: str) -> str:
    """The channel's name for people."""
    return _LABELS.get(kind, kind)
