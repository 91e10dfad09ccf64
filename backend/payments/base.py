"""The payment provider contract: how a customer is handed to a provider and how we learn they paid.

Adapters use only `backend.core` and `backend.models` (ARCHITECTURE.md): they take plain
inputs (`PaymentRequest`, `ProviderConfig`) and return plain results, and do their HTTP with
`httpx` (or the provider's official SDK) against `cfg.base_url`, so tests point them at the
local fakes in `tests/fakes/` with nothing else changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Protocol

# ISO 4217 currencies whose minor unit is not 1/100 (everything else has two decimals).
ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
     "VUV", "XAF", "XOF", "XPF"}
)  # fmt: skip
THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})


def currency_exponent(currency: str) -> int:
    """How many decimals the currency's minor unit has (JPY 0, USD 2, KWD 3)."""
    code = currency.upper()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def minor_to_major(amount: int, currency: str) -> Decimal:
    """An amount in the minor unit (cents) as a Decimal in the major unit (12.50)."""
    return Decimal(amount).scaleb(-currency_exponent(currency))


def major_to_minor(value: Any, currency: str) -> int:
    """A provider's major-unit amount (12.5, "12.50") as an integer in the minor unit."""
    return int((Decimal(str(value)).scaleb(currency_exponent(currency))).to_integral_value())


def format_amount(amount: int, currency: str) -> str:
    """A minor-unit amount for people: "12.50 USD", "1500 UGX"."""
    exp = currency_exponent(currency)
    return f"{minor_to_major(amount, currency):.{exp}f} {currency.upper()}"


class InvalidSignature(Exception):
    """A webhook signature is missing or wrong for its raw body (HTTP 400, nothing stored)."""


class ProviderError(Exception):
    """The provider refused or failed a call; the message says what it answered and what to fix."""


class BadPayload(Exception):
    """An authentic webhook body BizBot cannot read (HTTP 400, nothing stored)."""


@dataclass(frozen=True)
class ProviderConfig:
    """One business's account with one provider, credentials decrypted.

    `base_url` is the provider's API root (its production/sandbox URL by default, a fake's URL
    in tests); `public_url` is where BizBot is reachable, for callback and return URLs.
    """

    provider_id: int
    business_id: int
    kind: str
    credentials: Mapping[str, Any] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    is_test_mode: bool = True
    base_url: str = ""
    public_url: str = ""

    @property
    def webhook_url(self) -> str:
        """Where this provider account's webhooks arrive."""
        return f"{self.public_url.rstrip('/')}/webhooks/payments/{self.kind}/{self.provider_id}"


@dataclass(frozen=True)
class PaymentRequest:
    """What a provider needs to take one payment; amounts are integers in the minor unit."""

    payment_id: int
    reference: str  # BizBot's own unique reference of this attempt (sent to the provider)
    amount: int
    currency: str  # ISO 4217, upper case
    description: str
    order_number: int
    return_url: str  # where the customer lands after paying (the /pay/{token} page)
    cancel_url: str
    payer_email: str | None = None
    payer_phone: str | None = None  # E.164 digits for mobile money
    payer_name: str | None = None


@dataclass(frozen=True)
class Redirect:
    """Send the customer to the provider's hosted checkout page."""

    url: str
    provider_reference: str  # the provider's id of this payment (session id, tx ref, order id …)
    raw: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "redirect"


@dataclass(frozen=True)
class PushPrompt:
    """A prompt was pushed to the customer's phone (mobile money): they confirm there."""

    provider_reference: str
    message: str  # what the customer is told, e.g. "Check your phone and enter your PIN"
    raw: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "push"


@dataclass(frozen=True)
class PaymentStatus:
    """What the provider says about one payment (from a webhook or from our own query).

    `status` is one of succeeded, pending, failed, refunded, cancelled. `amount`/`currency`
    are what the provider actually took, compared with the order before it turns paid.
    """

    status: str
    provider_reference: str
    amount: int | None = None
    currency: str | None = None
    reason: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    # BizBot's PaymentRequest.reference when the provider echoes it (checked against ours).
    reference: str | None = None


@dataclass(frozen=True)
class PaymentEvent:
    """A verified webhook about one payment.

    `event_id` is the provider's unique id of this delivery (the dedup key); `reference` is
    BizBot's `PaymentRequest.reference` when the provider echoes it, else None and
    `status.provider_reference` identifies the payment. `needs_confirmation` is True when the
    webhook alone is not proof (unsigned mobile-money callbacks, Paystack/Flutterwave verify):
    the service then calls `confirm` and trusts only that answer.
    """

    event_id: str
    status: PaymentStatus
    reference: str | None = None
    needs_confirmation: bool = False
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectionInfo:
    """What "test connection" shows: the account's name, or the exact error."""

    ok: bool
    display_name: str = ""
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class PaymentProvider(Protocol):
    """One payment provider; one module per provider in `backend/payments/`, one registry entry."""

    kind: ClassVar[str]  # "stripe", "paystack", "flutterwave", "mpesa", "paypal", "airtel" …
    label: ClassVar[str]  # "Stripe", "M-Pesa" …, shown on the /pay page
    currencies: ClassVar[frozenset[str]]  # what it can take (empty = any)
    push: ClassVar[bool]  # True for mobile money: the /pay page asks for a phone number
    default_base_url: ClassVar[str]
    credential_fields: ClassVar[tuple[str, ...]]  # required keys in ProviderConfig.credentials
    # Optional, read with getattr (older adapters may lack them):
    #   optional_credential_fields: ClassVar[tuple[str, ...]]  secret but not required keys
    #   needs_email: ClassVar[bool]  the /pay page asks the customer for an email address

    def start(self, req: PaymentRequest, cfg: ProviderConfig) -> Redirect | PushPrompt:
        """Create the payment with the provider; raises ProviderError with its answer."""
        ...

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, cfg: ProviderConfig
    ) -> PaymentEvent | None:
        """Check the signature on the raw body (InvalidSignature), then parse.

        `headers` keys are lower case. None for event types BizBot does not use (acknowledged
        with 200 and ignored); BadPayload for an authentic body that cannot be read.
        """
        ...

    def confirm(self, provider_reference: str, cfg: ProviderConfig) -> PaymentStatus:
        """Ask the provider for the payment's real status (verify / status query / capture)."""
        ...

    def connect(self, cfg: ProviderConfig) -> ConnectionInfo:
        """Test the credentials with a harmless call."""
        ...
