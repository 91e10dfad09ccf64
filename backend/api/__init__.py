"""The HTTP routes BizBot serves beside the Reflex app (mounted by `api_transformer`)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

import backend.live  # noqa: F401  (events published by API routes reach open pages)
from backend.api.auth_routes import close_session, open_session
from backend.api.billing import routes as billing_routes
from backend.api.health import health
from backend.api.media import routes as media_routes
from backend.api.meta_oauth import routes as meta_oauth_routes
from backend.api.metrics import WebhookMetrics, metrics
from backend.api.payments import routes as payment_routes
from backend.api.v1 import routes as v1_routes
from backend.api.webhooks import routes as webhook_routes
from backend.api.widget import routes as widget_routes


def create_app() -> Starlette:
    """The Starlette app Reflex mounts its own routes under."""
    return Starlette(
        middleware=[Middleware(WebhookMetrics)],
        routes=[
            Route("/api/health", health, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/api/auth/session", open_session, methods=["GET"]),
            Route("/api/auth/logout", close_session, methods=["GET", "POST"]),
            *widget_routes,
            *payment_routes,
            *billing_routes,
            *webhook_routes,
            *media_routes,
            *meta_oauth_routes,
            *v1_routes,
        ],
    )


asgi_app = create_app()
