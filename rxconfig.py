"""Reflex configuration, read from BizBot's settings."""

import os

import reflex as rx

from backend.core.config import settings

os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")

config = rx.Config(
    app_name="bizbot_app",
    telemetry_enabled=False,
    frontend_port=settings.port,
    backend_port=settings.port,
    backend_host=settings.host,
    # The browser reaches the websocket where customers reach BizBot (PUBLIC_URL).
    api_url=settings.public_url,
    # The supervisor hands the live Redis URL over; Reflex keeps page state there.
    redis_url=os.environ.get("REFLEX_REDIS_URL") or None,
    # Client IPs (rate limits, audit log) from X-Forwarded-For only behind trusted proxies.
    trusted_proxy_hops=settings.trusted_proxy_hops,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="teal", gray_color="slate", radius="medium")
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
