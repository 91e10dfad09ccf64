"""Connect with Facebook: the OAuth code exchange against the fake Graph API, from the signed
state to the saved, encrypted and tested channel, and every way it can go wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from backend.api import create_app
from backend.auth import service as auth
from backend.auth.schemas import LoginTicket
from backend.core.config import settings
from backend.core.crypto import decrypt
from backend.core.db import session_scope
from backend.models import Business, ChannelIntegration, Role
from tests.backend.channels.helpers import fake_graph
from tests.factories import make_business, make_user
from tests.fakes.graph_server import FakeGraph

pytestmark = pytest.mark.usefixtures("committed")

APP_ID, APP_SECRET = "1234567890", "meta-app-secret-for-tests"
PUBLIC = "https://bizbot.example"
CALLBACK = f"{PUBLIC}/api/integrations/meta/callback"
WABA, PHONE = "102290129340398", "106540352242922"


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGraph]:
    with fake_graph(monkeypatch) as server:
        monkeypatch.setattr(settings, "meta_app_id", APP_ID)
        monkeypatch.setattr(settings, "meta_app_secret", APP_SECRET)
        monkeypatch.setattr(settings, "public_url", PUBLIC)
        server.add_meta_app(APP_ID, APP_SECRET, redirect_uri=CALLBACK)
        yield server


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as test_client:
        yield test_client


def sign_in(client: TestClient, business_id: int | None = None, role: Role = Role.OWNER) -> int:
    """A member signed in on `client` (a new business unless given); the business id."""
    with session_scope() as session:
        business = session.get(Business, business_id) if business_id else make_business(session)
        user = make_user(session, business=business, role=role)
        token = auth.start_session(
            session,
            ticket=LoginTicket(user_id=user.id, business_id=business.id),
            ip_address=None,
            user_agent=None,
        )
        business_id = business.id
    client.cookies.set(auth.SESSION_COOKIE, token)
    return business_id


def start(client: TestClient, kind: str) -> dict[str, str]:
    """Click "Connect with Facebook": the dialog's query parameters."""
    resp = client.get(f"/api/integrations/meta/start?kind={kind}")
    assert resp.status_code == 303
    location = urlsplit(resp.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        "https://www.facebook.com/v23.0/dialog/oauth"
    )
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def come_back(client: TestClient, **params: str) -> dict[str, str]:
    """Meta sends the browser to the callback: where BizBot sends it next (the page's query)."""
    resp = client.get("/api/integrations/meta/callback", params=params)
    assert resp.status_code == 303
    location = urlsplit(resp.headers["location"])
    assert location.path == "/integrations"
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def credentials(business_id: int, kind: str) -> dict[str, str]:
    with session_scope() as session:
        row = session.exec(
            select(ChannelIntegration).where(
                ChannelIntegration.business_id == business_id, ChannelIntegration.kind == kind
            )
        ).one()
        assert row.is_enabled
        return json.loads(decrypt(row.credentials_encrypted))


def test_whatsapp_is_connected_from_the_code_with_a_long_lived_token(graph, client):
    business_id = sign_in(client)
    dialog = start(client, "whatsapp")
    assert (dialog["client_id"], dialog["redirect_uri"], dialog["response_type"]) == (
        APP_ID,
        CALLBACK,
        "code",
    )
    assert "whatsapp_business_messaging" in dialog["scope"].split(",")
    token = graph.add_login("code-1", wabas={WABA: [PHONE]})
    graph.add_phone(PHONE, token=token)

    result = come_back(client, code="code-1", state=dialog["state"])
    assert result == {
        "meta": "connected",
        "kind": "whatsapp",
        "message": "WhatsApp connected: Sunrise Bakery (+254 700 000001).",
    }
    saved = credentials(business_id, "whatsapp")
    assert (saved["phone_number_id"], saved["waba_id"], saved["app_secret"]) == (
        PHONE,
        WABA,
        APP_SECRET,
    )
    assert saved["access_token"] == token  # the long-lived one, not the short one
    assert saved["verify_token"]
    assert graph.state.subscribed == [WABA]  # webhooks registered as with the form
    exchanges = [r.query for r in graph.requests if r.path.endswith("oauth/access_token")]
    assert exchanges[0]["code"] == "code-1"
    assert exchanges[1]["grant_type"] == "fb_exchange_token"

    # A code works once: the same link again shows Meta's own refusal.
    again = come_back(client, code="code-1", state=dialog["state"])
    assert again["meta"] == "error"
    assert "This authorization code has been used. (code 100, subcode 36009)" in again["message"]


def test_messenger_and_instagram_are_connected_from_the_shared_page(graph, client):
    business_id = sign_in(client)
    graph.add_page("1122334455", token="EAApage0001", name="Sunrise Bakery")
    graph.add_page(
        "17841400000000", token="EAAigpage0001", name="Sunrise", username="sunrisebakery"
    )
    graph.add_login(
        "code-m",
        pages=[{"id": "1122334455", "name": "Sunrise Bakery", "access_token": "EAApage0001"}],
    )
    result = come_back(client, code="code-m", state=start(client, "messenger")["state"])
    assert (result["meta"], result["message"]) == (
        "connected",
        "Messenger connected: Sunrise Bakery.",
    )
    saved = credentials(business_id, "messenger")
    assert (saved["page_id"], saved["page_access_token"]) == ("1122334455", "EAApage0001")

    graph.add_login(
        "code-i",
        pages=[
            {"id": "99", "name": "No Instagram", "access_token": "EAAother0001"},
            {"id": "98", "name": "Sunrise", "access_token": "EAAigpage0001",
             "instagram_business_account": {"id": "17841400000000", "username": "sunrisebakery"}},
        ],
    )  # fmt: skip
    result = come_back(client, code="code-i", state=start(client, "instagram")["state"])
    assert result["meta"] == "connected", result["message"]
    assert "@sunrisebakery" in result["message"]
    saved = credentials(business_id, "instagram")
    assert (saved["ig_account_id"], saved["page_access_token"]) == (
        "17841400000000",
        "EAAigpage0001",
    )


def test_a_login_is_bound_to_who_started_it_and_cannot_be_forged(graph, client):
    business_id = sign_in(client)
    state = start(client, "whatsapp")["state"]
    graph.add_login("code-2", wabas={WABA: [PHONE]})

    forged = come_back(client, code="code-2", state=state[:-4] + "AAAA")
    assert forged["meta"] == "error"
    assert "was not started from your BizBot" in forged["message"]

    sign_in(client, business_id, Role.ADMIN)  # someone else of the same business
    other = come_back(client, code="code-2", state=state)
    assert "Log in to BizBot as the person who clicked Connect with Facebook" in other["message"]
    sign_in(client)  # or of another business
    assert come_back(client, code="code-2", state=state)["meta"] == "error"
    with session_scope() as session:
        assert session.exec(select(ChannelIntegration)).all() == []
    assert graph.state.codes == {"code-2": "EAAshortcode-2"}  # never even exchanged


def test_a_cancelled_login_and_nothing_shared_say_what_to_do(graph, client):
    sign_in(client)
    state = start(client, "whatsapp")["state"]
    cancelled = come_back(
        client, state=state, error="access_denied", error_reason="user_denied",
        error_description="Permissions error",
    )  # fmt: skip
    assert cancelled == {
        "meta": "error",
        "kind": "whatsapp",
        "message": "Facebook Login was not completed: Permissions error",
    }
    graph.add_login("code-3")  # the owner shared no WhatsApp account
    empty = come_back(client, code="code-3", state=state)
    assert empty["message"].startswith("No WhatsApp Business Account was shared with BizBot")
    graph.add_login("code-4")
    no_page = come_back(client, code="code-4", state=start(client, "messenger")["state"])
    assert no_page["message"].startswith("No Facebook Page was shared with BizBot")


def test_without_a_meta_app_or_the_right_role_there_is_no_facebook_login(
    graph, client, monkeypatch
):
    business_id = sign_in(client, role=Role.AGENT)
    resp = client.get("/api/integrations/meta/start?kind=messenger")
    back = {k: v[0] for k, v in parse_qs(urlsplit(resp.headers["location"]).query).items()}
    assert back["meta"] == "error"
    assert back["message"].startswith("Your role (agent) does not allow integrations:manage")

    sign_in(client, business_id, Role.OWNER)
    monkeypatch.setattr(settings, "meta_app_secret", None)
    resp = client.get("/api/integrations/meta/start?kind=messenger")
    back = {k: v[0] for k, v in parse_qs(urlsplit(resp.headers["location"]).query).items()}
    assert "set META_APP_ID and META_APP_SECRET" in back["message"]

    client.cookies.clear()
    resp = client.get("/api/integrations/meta/start?kind=messenger")
    assert resp.headers["location"] == "/login?next=/integrations"
