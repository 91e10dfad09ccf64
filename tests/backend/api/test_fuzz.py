"""Fuzzing the public surface in-process: no 500s, and nothing stored without a valid signature.

- `/api/v1`: schemathesis generates requests from the served OpenAPI document, with a valid
  API key and with none; every answer must not be a server error and must match the schema.
- `/webhooks/{kind}/{id}` and the widget API: hypothesis posts random and mutated bodies and
  headers; the answer is never a 5xx and no row is stored unless the request was authentic.

Runs are deterministic (`derandomize=True`) and small (max_examples), to stay well under a
minute.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from backend.api import create_app
from backend.channels import meta
from backend.core import config as settings_module
from backend.core.db import get_engine, session_scope
from backend.models import Contact, Conversation, InboundEvent, Lead, Message
from backend.models.channels import WebhookDelivery
from backend.security import service as security
from tests.backend.channels.helpers import (
    APP_SECRET,
    TELEGRAM,
    make_channel,
    payload,
    rows,
)
from tests.factories import (
    make_business,
    make_contact,
    make_conversation,
    make_message,
    make_user,
)
from tests.factories import (
    make_channel as make_widget_channel,
)

app = create_app()
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)

FUZZ = settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CHECKS = [not_a_server_error, response_schema_conformance]
STORED = (InboundEvent, WebhookDelivery, Message, Conversation, Contact, Lead)


@pytest.fixture(scope="module", autouse=True)
def _empty_tables_after_module() -> Iterator[None]:
    """Like the `committed` fixture, once for the module: hundreds of cases share its rows."""
    yield
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with get_engine().begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def _counts() -> dict[str, int]:
    return {model.__name__: len(rows(model)) for model in STORED}


# --- /api/v1 (schemathesis) --------------------------------------------------------------------


@pytest.fixture(scope="module")
def api_key() -> str:
    """A key with every scope, in a business with a conversation to read and write to."""
    with session_scope() as session:
        business = make_business(session)
        user = make_user(session, business=business)
        channel = make_widget_channel(session, business=business)
        contact = make_contact(session, business=business, name="Amina")
        conversation = make_conversation(session, business=business, contact=contact)
        conversation.channel_integration_id = channel.id
        session.add(conversation)
        make_message(session, conversation=conversation, text="Do you deliver?")
        created = security.create_api_key_for_business(
            session, business_id=business.id, name="fuzz", scopes=list(security.SCOPES),
            created_by_user_id=user.id,
        )  # fmt: skip
        return created.key


@schema.parametrize()
@FUZZ
def test_api_v1_with_a_valid_key(case, api_key):
    case.call_and_validate(headers={"Authorization": f"Bearer {api_key}"}, checks=CHECKS)


def test_an_id_beyond_int32_is_not_a_server_error(api_key):
    with TestClient(app, raise_server_exceptions=False) as c:
        auth = {"Authorization": f"Bearer {api_key}"}
        for path in (
            "/api/v1/conversations/2147483648",
            "/api/v1/conversations/2147483648/messages",
        ):
            assert c.get(path, headers=auth).status_code == 404
        response = c.get("/api/v1/conversations/1/messages?before_id=2147483648", headers=auth)
        assert response.status_code == 400  # found by the fuzzer: it used to be a 500


@schema.parametrize()
@FUZZ
def test_api_v1_without_a_key(case):
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    response = case.call()
    case.validate_response(response, checks=CHECKS)
    # Without a key nothing is answered with data: bad input (4xx) or 401, never 2xx.
    assert 400 <= response.status_code < 500 or case.path.endswith("openapi.json"), (
        response.status_code
    )


# --- channel webhooks (hypothesis) ------------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


_ASCII = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _ASCII,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_ASCII, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def _mutated(draw, valid: bytes) -> bytes:
    """A valid payload with a few bytes flipped, cut short or extended."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data) + draw(st.binary(max_size=8))


def _bodies(valid: bytes) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=512),
        _JSON.map(lambda v: json.dumps(v).encode()),
        _mutated(valid),
    )


_META_SIGNATURE = st.one_of(
    st.just(None),
    _ASCII,
    st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: f"sha256={h}"),
)
_META_VALID = {
    "whatsapp": payload("whatsapp", "text"),
    "messenger": payload("messenger", "text"),
    "instagram": payload("instagram", "text"),
}


@pytest.mark.parametrize("kind", ["whatsapp", "messenger", "instagram"])
def test_meta_webhooks_never_fail_or_store_unsigned_bodies(client, kind):
    cfg = make_channel(kind)
    url = f"/webhooks/{kind}/{cfg.integration_id}"
    valid = _META_VALID[kind]
    before = _counts()

    @FUZZ
    @given(body=_bodies(valid), signature=_META_SIGNATURE, content_type=_ASCII)
    def post(body, signature, content_type):
        headers = {"Content-Type": content_type}
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        response = client.post(url, content=body, headers=headers)
        assert response.status_code in (401, 403), response.text
        # A valid signature over the original body does not cover a changed one.
        if body != valid:
            response = client.post(
                url, content=body, headers={"X-Hub-Signature-256": meta.sign(valid, APP_SECRET)}
            )
            assert response.status_code == 403, response.text

    post()
    assert _counts() == before


def test_telegram_webhook_never_fails_or_stores_without_its_secret(client):
    cfg = make_channel("telegram")
    url = f"/webhooks/telegram/{cfg.integration_id}"
    before = _counts()

    @FUZZ
    @given(
        body=_bodies(payload("telegram", "text")),
        token=st.one_of(st.just(None), _ASCII.filter(lambda t: t != TELEGRAM["webhook_secret"])),
    )
    def post(body, token):
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = token
        response = client.post(url, content=body, headers=headers)
        assert response.status_code in (401, 403), response.text

    post()
    assert _counts() == before


def test_signed_garbage_is_refused_without_a_500(client):
    """Authentic (correctly signed) bodies of any shape: 200 or 400, never 5xx."""
    cfg = make_channel("whatsapp")
    url = f"/webhooks/whatsapp/{cfg.integration_id}"

    @FUZZ
    @given(body=_bodies(_META_VALID["whatsapp"]))
    def post(body):
        headers = {"X-Hub-Signature-256": meta.sign(body, APP_SECRET)}
        response = client.post(url, content=body, headers=headers)
        assert response.status_code in (200, 400), response.text

    post()


@FUZZ
@given(
    kind=st.text(st.characters(min_codepoint=48, max_codepoint=122), min_size=1, max_size=12),
    integration=st.text(st.characters(min_codepoint=48, max_codepoint=122), max_size=14),
)
def test_unknown_webhook_targets_are_404_not_500(client, kind, integration):
    response = client.post(f"/webhooks/{kind}/{integration or '0'}", content=b"{}")
    assert response.status_code in (401, 403, 404, 405, 410), response.text


# --- the widget API (hypothesis) --------------------------------------------------------------

SITE = "https://shop.example.com"
WIDGET_ACTIONS = ("session", "messages", "handoff", "csat", "offline")


@pytest.fixture(scope="module")
def widget_key() -> str:
    from backend.channels import widget as widget_channel
    from backend.channels.service import create_integration

    with session_scope() as session:
        business = make_business(session)
        integration = create_integration(
            session, business_id=business.id, kind="widget", name="Website chat",
            config={**widget_channel.DEFAULTS, "allowed_origins": [SITE]},
            public_key=widget_channel.new_public_key(),
        )  # fmt: skip
        return integration.public_key


_WIDGET_BODY = st.one_of(
    st.binary(max_size=300),
    _JSON.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "visitor_token": _ASCII,
            "client_id": _ASCII,
            "text": _ASCII,
            "score": st.integers(-5, 10) | _ASCII,
            "email": _ASCII,
            "name": _ASCII,
        },
    ).map(lambda v: json.dumps(v).encode()),
)


def test_widget_api_never_fails_and_strangers_store_nothing(client, widget_key):
    before = _counts()

    @FUZZ
    @given(
        action=st.sampled_from(WIDGET_ACTIONS),
        body=_WIDGET_BODY,
        key=st.one_of(st.just("wk_not-a-real-key"), _ASCII.filter(lambda k: "/" not in k)),
        origin=st.one_of(st.just(None), st.just("https://evil.example"), _ASCII),
    )
    def post(action, body, key, origin):
        headers = {"Content-Type": "application/json"}
        if origin is not None:
            headers["Origin"] = origin
        response = client.post(f"/api/widget/{key or 'x'}/{action}", content=body, headers=headers)
        assert response.status_code < 500, response.text
        # The real key from a site that is not allowed: refused too.
        response = client.post(
            f"/api/widget/{widget_key}/{action}",
            content=body,
            headers={"Content-Type": "application/json", "Origin": "https://evil.example"},
        )
        assert response.status_code in (400, 403, 404, 429), response.text

    post()
    assert _counts() == before


def test_widget_api_with_its_key_never_fails(client, widget_key):
    @FUZZ
    @given(action=st.sampled_from(WIDGET_ACTIONS), body=_WIDGET_BODY)
    def post(action, body):
        response = client.post(
            f"/api/widget/{widget_key}/{action}",
            content=body,
            headers={"Content-Type": "application/json", "Origin": SITE},
        )
        assert response.status_code < 500, response.text

    post()


# --- per-integration webhook rate limit --------------------------------------------------------


def test_webhooks_are_rate_limited_per_integration(client, monkeypatch):
    monkeypatch.setattr(settings_module.settings, "webhook_rate_limit", "3/minute")
    flooded, other = make_channel("telegram"), make_channel("telegram")
    update = payload("telegram", "text")
    good = {"Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": TELEGRAM["webhook_secret"]}  # fmt: skip
    bad = {**good, "X-Telegram-Bot-Api-Secret-Token": "wrong"}
    for _ in range(3):
        url = f"/webhooks/telegram/{flooded.integration_id}"
        assert client.post(url, content=update, headers=bad).status_code == 403
    before = _counts()
    limited = client.post(f"/webhooks/telegram/{flooded.integration_id}", content=update,
                          headers=good)  # fmt: skip
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert _counts() == before  # even an authentic update is not stored while limited
    # Another integration (another tenant) is not affected.
    ok = client.post(f"/webhooks/telegram/{other.integration_id}", content=update, headers=good)
    assert ok.status_code == 200
    assert _counts()["InboundEvent"] == before["InboundEvent"] + 1
