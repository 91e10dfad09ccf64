"""The Reflex app: BizBot's routes and pages, with the backend's HTTP routes mounted."""

from __future__ import annotations

import reflex as rx

from backend.api import asgi_app
from backend.core.config import settings
from bizbot_app.pages.integrations import integrations_page
from bizbot_app.pages.knowledge import knowledge_page
from bizbot_app.pages.login import login_page
from bizbot_app.pages.overview import onboarding_page, overview_page
from bizbot_app.pages.sections import PLACEHOLDER_SLUGS, placeholder_page
from bizbot_app.pages.settings import settings_page
from bizbot_app.pages.signup import signup_page
from bizbot_app.pages.users import users_page
from bizbot_app.sections import BY_SLUG
from state.auth import LoginState, SignupState
from state.base import BaseState
from state.integrations import IntegrationsState
from state.knowledge import KnowledgeState
from state.overview import OnboardingState, OverviewState
from state.team import SettingsState, TeamState

settings.check_production()

app = rx.App(
    api_transformer=asgi_app,
    head_components=[
        rx.el.meta(name="color-scheme", content="light"),
        rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
    ],
)


def _title(slug: str) -> str:
    return f"{BY_SLUG[slug].title} · BizBot"


app.add_page(login_page, route="/login", title="Log in · BizBot", on_load=LoginState.load)
app.add_page(signup_page, route="/signup", title="Sign up · BizBot", on_load=SignupState.load)
app.add_page(overview_page, route="/", title=_title("overview"), on_load=OverviewState.load)
app.add_page(
    onboarding_page, route="/onboarding", title=_title("onboarding"), on_load=OnboardingState.load
)
app.add_page(settings_page, route="/settings", title=_title("settings"), on_load=SettingsState.load)
app.add_page(users_page, route="/users", title=_title("users"), on_load=TeamState.load)
app.add_page(
    knowledge_page, route="/knowledge", title=_title("knowledge"), on_load=KnowledgeState.load
)
app.add_page(
    integrations_page,
    route="/integrations",
    title=_title("integrations"),
    on_load=IntegrationsState.load,
)
for _slug in PLACEHOLDER_SLUGS:
    app.add_page(
        placeholder_page(_slug),
        route=BY_SLUG[_slug].route,
        title=_title(_slug),
        on_load=BaseState.open_section(_slug),
    )
