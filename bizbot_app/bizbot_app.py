"""The Reflex app: BizBot's routes and pages, with the backend's HTTP routes mounted."""

from __future__ import annotations

import reflex as rx

from backend.api import asgi_app
from backend.api.headers import security_headers
from backend.core import logs
from backend.core.config import settings
from bizbot_app.pages.account import (
    access_denied_page,
    forgot_password_page,
    invite_page,
    reset_password_page,
    two_factor_setup_page,
    verify_email_page,
)
from bizbot_app.pages.ads import ads_page
from bizbot_app.pages.ai_rules import ai_rules_page
from bizbot_app.pages.billing import billing_page
from bizbot_app.pages.conversations import conversations_page
from bizbot_app.pages.handoff import handoff_page
from bizbot_app.pages.integrations import integrations_page
from bizbot_app.pages.knowledge import knowledge_page
from bizbot_app.pages.leads import leads_page
from bizbot_app.pages.login import login_page
from bizbot_app.pages.notifications import notifications_page
from bizbot_app.pages.overview import onboarding_page, overview_page
from bizbot_app.pages.privacy import privacy_page
from bizbot_app.pages.sales import sales_page
from bizbot_app.pages.sections import PLACEHOLDER_SLUGS, placeholder_page
from bizbot_app.pages.security import security_page
from bizbot_app.pages.settings import business_deleted_page, settings_page
from bizbot_app.pages.signup import signup_page
from bizbot_app.pages.system import system_page
from bizbot_app.pages.templates import templates_page
from bizbot_app.pages.users import users_page
from bizbot_app.pages.webhooks import webhooks_page
from bizbot_app.sections import BY_SLUG
from state.ads import AdsState
from state.ai_rules import AIRulesState
from state.auth import (
    AccessDeniedState,
    ForgotPasswordState,
    InviteState,
    LoginState,
    ResetPasswordState,
    SignupState,
    TwoFactorSetupState,
    VerifyEmailState,
)
from state.base import BaseState
from state.billing import BillingState
from state.conversations import ConversationsState
from state.handoff import HandoffState
from state.integrations import IntegrationsState
from state.knowledge import KnowledgeState
from state.leads import LeadsState
from state.live import LiveState
from state.notifications import NotificationsState
from state.overview import OnboardingState, OverviewState
from state.privacy import PrivacyState
from state.sales import SalesState
from state.security import SecurityState
from state.settings import SettingsState
from state.system import SystemState
from state.team import TeamState
from state.templates import TemplatesState
from state.webhooks import WebhooksState

settings.check_production()
# This process's ERROR lines reach the System page's "last errors", as the workers' do.
logs.capture_errors()

app = rx.App(
    api_transformer=[asgi_app, security_headers],
    stylesheets=["/bizbot.css"],
    head_components=[
        rx.el.meta(name="color-scheme", content="light"),
        rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
        # Installable on phones: agents keep the inbox on their home screen.
        rx.el.link(rel="manifest", href="/manifest.webmanifest"),
        rx.el.link(rel="apple-touch-icon", href="/apple-touch-icon.png"),
        rx.el.meta(name="theme-color", content="#12a594"),
    ],
)


def _title(slug: str) -> str:
    return f"{BY_SLUG[slug].title} · BizBot"


app.add_page(login_page, route="/login", title="Log in · BizBot", on_load=LoginState.load)
app.add_page(signup_page, route="/signup", title="Sign up · BizBot", on_load=SignupState.load)
# Pages emailed links open, and the two gates (IP allowlist, required two-factor sign-in).
app.add_page(forgot_password_page, route="/forgot-password", title="Forgot password · BizBot",
             on_load=ForgotPasswordState.load)  # fmt: skip
app.add_page(reset_password_page, route="/reset-password", title="New password · BizBot",
             on_load=ResetPasswordState.load)  # fmt: skip
app.add_page(verify_email_page, route="/verify-email", title="Confirm email · BizBot",
             on_load=VerifyEmailState.load)  # fmt: skip
app.add_page(invite_page, route="/invite", title="Invitation · BizBot", on_load=InviteState.load)
app.add_page(two_factor_setup_page, route="/two-factor-setup", title="Two-factor · BizBot",
             on_load=TwoFactorSetupState.load)  # fmt: skip
app.add_page(access_denied_page, route="/access-denied", title="Not allowed · BizBot",
             on_load=AccessDeniedState.load)  # fmt: skip


def _live(load) -> list:
    """A dashboard page's on_load: guard and read the page, then start the tab's live updates
    (the notifications bell on every page, and the page itself where it is live)."""
    return [load, LiveState.start]


app.add_page(business_deleted_page, route="/business-deleted", title="Business deleted · BizBot")
app.add_page(overview_page, route="/", title=_title("overview"), on_load=_live(OverviewState.load))
app.add_page(
    onboarding_page,
    route="/onboarding",
    title=_title("onboarding"),
    on_load=_live(OnboardingState.load),
)
app.add_page(
    settings_page, route="/settings", title=_title("settings"), on_load=_live(SettingsState.load)
)
app.add_page(users_page, route="/users", title=_title("users"), on_load=_live(TeamState.load))
app.add_page(
    knowledge_page,
    route="/knowledge",
    title=_title("knowledge"),
    on_load=_live(KnowledgeState.load),
)
app.add_page(
    integrations_page,
    route="/integrations",
    title=_title("integrations"),
    on_load=_live(IntegrationsState.load),
)
app.add_page(
    conversations_page,
    route="/conversations",
    title=_title("conversations"),
    on_load=_live(ConversationsState.load),
)
app.add_page(
    handoff_page, route="/handoff", title=_title("handoff"), on_load=_live(HandoffState.load)
)
app.add_page(
    notifications_page,
    route="/notifications",
    title=_title("notifications"),
    on_load=_live(NotificationsState.load),
)
app.add_page(
    security_page, route="/security", title=_title("security"), on_load=_live(SecurityState.load)
)
app.add_page(
    webhooks_page,
    route="/settings/webhooks",
    title="Webhooks · BizBot",
    on_load=_live(WebhooksState.load),
)
app.add_page(
    privacy_page,
    route="/settings/privacy",
    title="Privacy · BizBot",
    on_load=_live(PrivacyState.load),
)
app.add_page(sales_page, route="/sales", title=_title("sales"), on_load=_live(SalesState.load))
app.add_page(
    ai_rules_page, route="/ai-rules", title=_title("ai-rules"), on_load=_live(AIRulesState.load)
)
app.add_page(leads_page, route="/leads", title=_title("leads"), on_load=_live(LeadsState.load))
app.add_page(
    billing_page, route="/billing", title=_title("billing"), on_load=_live(BillingState.load)
)
app.add_page(
    templates_page,
    route="/templates",
    title=_title("templates"),
    on_load=_live(TemplatesState.load),
)
app.add_page(ads_page, route="/ads", title=_title("ads"), on_load=_live(AdsState.load))
app.add_page(system_page, route="/system", title="System · BizBot", on_load=_live(SystemState.load))
for _slug in PLACEHOLDER_SLUGS:
    if _slug == "ads":  # a real page now: bizbot_app/pages/ads.py
        continue
    if _slug == "templates":  # a real page now: bizbot_app/pages/templates.py
        continue
    if _slug == "billing":  # a real page now: bizbot_app/pages/billing.py
        continue
    if _slug == "sales":  # a real page now: bizbot_app/pages/sales.py
        continue
    if _slug == "leads":  # a real page now: bizbot_app/pages/leads.py
        continue
    if _slug == "ai-rules":  # a real page now: bizbot_app/pages/ai_rules.py
        continue
    app.add_page(
        placeholder_page(_slug),
        route=BY_SLUG[_slug].route,
        title=_title(_slug),
        on_load=_live(BaseState.open_section(_slug)),
    )
