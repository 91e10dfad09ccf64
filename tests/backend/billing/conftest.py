"""Billing switched on against the fake Stripe, or left off (the self-hosted default)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.core.config import settings
from tests.fakes.stripe_server import FakeStripe

PRICE_PRO = "price_pro_test"
PRICE_BUSINESS = "price_business_test"


@pytest.fixture
def billing_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """No BILLING_STRIPE_* settings: billing is off, as on a fresh self-hosted install."""
    for name in ("secret_key", "webhook_secret", "price_pro", "price_business"):
        monkeypatch.setattr(settings, f"billing_stripe_{name}", None)


@pytest.fixture
def stripe_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    """The fake Stripe, and billing switched on and pointed at it."""
    with FakeStripe(secret_key="sk_test_billing", webhook_secret="whsec_billing") as fake:
        monkeypatch.setattr(settings, "billing_stripe_secret_key", fake.secret_key)
        monkeypatch.setattr(settings, "billing_stripe_webhook_secret", fake.webhook_secret)
        monkeypatch.setattr(settings, "billing_stripe_price_pro", PRICE_PRO)
        monkeypatch.setattr(settings, "billing_stripe_price_business", PRICE_BUSINESS)
        monkeypatch.setattr(settings, "billing_stripe_api_base", fake.url)
        yield fake
