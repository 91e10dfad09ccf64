"""Security headers on every response, framing allowed only for the widget's endpoints."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from backend.api import create_app
from backend.api.headers import SecurityHeaders


def _page(request):
    return PlainTextResponse("page")


def _own_policy(request):
    return PlainTextResponse("x", headers={"Referrer-Policy": "no-referrer"})


def _client(https: bool = False) -> TestClient:
    inner = Starlette(
        routes=[
            Route("/login", _page),
            Route("/api/widget/session", _page, methods=["GET"]),
            Route("/own", _own_policy),
        ]
    )
    return TestClient(SecurityHeaders(inner, https=https))


def test_pages_carry_the_headers_and_refuse_framing():
    response = _client().get("/login")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "connect-src 'self' ws: wss:" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in response.headers


def test_not_found_responses_carry_them_too():
    response = _client().get("/nothing-here")
    assert response.status_code == 404
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_widget_api_may_be_framed_by_other_sites():
    response = _client().get("/api/widget/session")
    assert "x-frame-options" not in response.headers
    assert "frame-ancestors 'none'" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_hsts_only_behind_https():
    assert "max-age=" in _client(https=True).get("/login").headers["strict-transport-security"]


def test_a_routes_own_header_wins():
    assert _client().get("/own").headers["referrer-policy"] == "no-referrer"


def test_the_real_api_app_wrapped_as_reflex_wraps_it():
    with TestClient(SecurityHeaders(create_app())) as client:
        openapi = client.get("/api/v1/openapi.json")
        assert openapi.headers["x-frame-options"] == "DENY"
        script = client.get("/widget.js")
        assert "x-frame-options" not in script.headers
        assert script.headers["x-content-type-options"] == "nosniff"
