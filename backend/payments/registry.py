"""Which adapter serves which payment provider kind."""

from __future__ import annotations

import importlib

from backend.payments.base import PaymentProvider

# Provider modules in backend/payments/, imported the first time their kind is needed.
BUILT_IN = ("stripe", "paystack", "flutterwave", "mpesa", "paypal", "airtel", "binance")

_providers: dict[str, PaymentProvider] = {}


class UnknownProvider(LookupError):
    """No adapter is registered for a payment provider kind."""


def register(provider: PaymentProvider) -> PaymentProvider:
    """Make `provider` serve its `kind` (replacing any earlier one)."""
    _providers[provider.kind] = provider
    return provider


def get_provider(kind: str) -> PaymentProvider:
    """The adapter for `kind`, or UnknownProvider naming the kinds that exist."""
    if kind not in _providers and kind in BUILT_IN:
        importlib.import_module(f"backend.payments.{kind}_provider")
    try:
        return _providers[kind]
    except KeyError:
        known = ", ".join(kinds()) or "none yet"
        msg = f"no payment provider {kind!r} (known: {known})"
        raise UnknownProvider(msg) from None


def kinds() -> list[str]:
    """Every provider kind BizBot knows, in a stable order."""
    return [*BUILT_IN, *sorted(set(_providers) - set(BUILT_IN))]
