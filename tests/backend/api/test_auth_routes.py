"""The ticket-for-cookie exchange and logout over HTTP."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from backend.api import create_app
from backend.auth import service as auth
from backend.core.config import settings
from backend.core.db import session_scope
from tests.factories import make_user


@pytest.fixture
def client():
    with TestClient(create_app(), follow_redirects=False) as c:
        yield c


@pytest.fixture
def ticket(committed):
    with session_scope() as session:
        user = make_user(session)
        return auth.LoginTicket(user_id=user.id, business_id=1)


def _business_of(ticket):
    with session_scope() as session:
        from backend.tenants import repository

        return repository.list_memberships_of_user(session, user_id=ticket.user_id)[0].business_id


def test_ticket_sets_an_httponly_cookie_and_goes_on(client, ticket):
    ticket = auth.LoginTicket(user_id=ticket.user_id, business_id=_business_of(ticket))
    code = auth.issue_login_ticket(ticket)
    resp = client.get("/api/auth/session", params={"ticket": code, "next": "/settings"})
    assert resp.status_code == 303
    assert resp.headers["location"] == "/settings"
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith(f"{auth.SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    token = resp.cookies[auth.SESSION_COOKIE]
    with session_scope() as session:
        assert auth.resolve_session(session, token=token).user_id == ticket.user_id

    again = client.get("/api/auth/session", params={"ticket": code})
    assert again.headers["location"] == "/login?expired=1"

    client.cookies.set(auth.SESSION_COOKIE, token)
    out = client.get("/api/auth/logout")
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    assert f'{auth.SESSION_COOKIE}=""' in out.headers["set-cookie"]
    with session_scope() as session:
        assert auth.resolve_session(session, token=token) is None


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "/\\evil", ""])
def test_next_never_leaves_the_site(client, ticket, target):
    ticket = auth.LoginTicket(user_id=ticket.user_id, business_id=_business_of(ticket))
    code = auth.issue_login_ticket(ticket)
    resp = client.get("/api/auth/session", params={"ticket": code, "next": target})
    assert resp.headers["location"] == "/"


def test_the_session_records_the_client_address_behind_a_trusted_proxy(client, ticket, monkeypatch):
    monkeypatch.setattr(settings, "trusted_proxy_hops", 1)
    ticket = auth.LoginTicket(user_id=ticket.user_id, business_id=_business_of(ticket))
    code = auth.issue_login_ticket(ticket)
    resp = client.get(
        "/api/auth/session",
        params={"ticket": code},
        headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.77"},
    )
    with session_scope() as session:
        [view] = auth.list_sessions(session, user_id=ticket.user_id, current_session_id=None)
    assert view.ip_address == "203.0.113.77"
    assert resp.status_code == 303
