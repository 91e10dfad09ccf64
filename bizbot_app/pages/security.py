"""`/security`: my 2FA and sessions; the business's API keys and audit log (owners, admins)."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from components.security import (
    api_keys_card,
    audit_card,
    business_rules_card,
    password_card,
    sessions_card,
    two_factor_card,
)
from state.security import SecurityState


def security_page() -> rx.Component:
    """2FA and sessions for everyone; API keys and audit for those who manage members."""
    body = rx.vstack(
        two_factor_card(
            enabled=SecurityState.tfa_enabled,
            recovery_left=SecurityState.tfa_recovery_left,
            enrolling=SecurityState.tfa_enrolling,
            qr=SecurityState.tfa_qr,
            secret=SecurityState.tfa_secret,
            recovery_codes=SecurityState.recovery_codes,
            error=SecurityState.tfa_error,
            on_start=SecurityState.start_two_factor,
            on_confirm=SecurityState.confirm_two_factor,
            on_disable=SecurityState.disable_two_factor,
        ),
        password_card(error=SecurityState.password_error, on_submit=SecurityState.change_password),
        sessions_card(
            sessions=SecurityState.sessions,
            on_end=SecurityState.end_session,
            on_end_others=SecurityState.end_other_sessions,
        ),
        rx.cond(
            SecurityState.is_owner,
            business_rules_card(
                require_two_factor=SecurityState.require_two_factor,
                on_require=SecurityState.set_require_two_factor,
                policy_error=SecurityState.policy_error,
                allowlist=SecurityState.allowlist,
                allowlist_error=SecurityState.allowlist_error,
                on_save_allowlist=SecurityState.save_allowlist,
            ),
        ),
        rx.cond(
            SecurityState.can_manage,
            rx.fragment(
                api_keys_card(
                    keys=SecurityState.keys,
                    scopes=SecurityState.scopes,
                    new_key=SecurityState.new_key,
                    error=SecurityState.key_error,
                    on_create=SecurityState.create_key,
                    on_revoke=SecurityState.revoke_key,
                ),
                audit_card(
                    entries=SecurityState.audit,
                    on_filter=SecurityState.filter_audit,
                    on_search=SecurityState.search_audit,
                ),
            ),
        ),
        spacing="4",
        width="100%",
    )
    return section_page("security", body)
