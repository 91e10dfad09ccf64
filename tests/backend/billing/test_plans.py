"""The plans defined in code: limits, prices, order, and their Stripe prices."""

from __future__ import annotations

import pytest

from backend.billing import plans
from tests.backend.billing.conftest import PRICE_BUSINESS, PRICE_PRO


def test_free_plan_has_the_documented_limits():
    assert (plans.FREE.conversations, plans.FREE.members, plans.FREE.channels) == (100, 2, 1)
    assert plans.FREE.paid is False


def test_plans_grow_from_free_to_business():
    free, pro, business = plans.PLANS
    assert [p.key for p in plans.PLANS] == ["free", "pro", "business"]
    for what in plans.LIMITS:
        small, middle, big = free.limit(what), pro.limit(what), business.limit(what)
        assert small < middle
        assert big is None or middle < big
    assert all(p.price for p in plans.PLANS)


def test_unlimited_plan_has_no_limits():
    assert all(plans.UNLIMITED.limit(what) is None for what in plans.LIMITS)


def test_next_plan_is_the_upgrade_path():
    assert plans.next_plan(plans.FREE) is plans.PRO
    assert plans.next_plan(plans.PRO) is plans.BUSINESS
    assert plans.next_plan(plans.BUSINESS) is None


@pytest.mark.usefixtures("stripe_fake")
def test_prices_map_to_plans_both_ways():
    assert plans.price_id(plans.PRO) == PRICE_PRO
    assert plans.plan_for_price(PRICE_BUSINESS) is plans.BUSINESS
    assert plans.plan_for_price("price_someone_else") is None
    assert plans.plan_for_price(None) is None
    assert plans.price_id(plans.FREE) is None


@pytest.mark.usefixtures("billing_off")
def test_billing_is_off_without_a_secret_key():
    assert plans.billing_enabled() is False
