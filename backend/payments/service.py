"""Getting paid: provider accounts, payment links, starting payments and provider webhooks.

Plain functions taking a session and keyword arguments; they never commit (the request, job or
CLI that opened the session does). Amounts and currencies always come from the order.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from backend import events
from backend.conversations import service as conversations
from backend.core.config import settings
from backend.core.crypto import decrypt, encrypt
from backend.core.queue import enqueue_after_commit
from backend.models.base import utcnow
from backend.models.commerce import Order, OrderStatus
from backend.models.payments import (
    Payment,
    PaymentLink,
    PaymentLinkStatus,
    PaymentProviderSetting,
)
from backend.models.payments import PaymentStatus as PaymentState
from backend.payments import registry
from backend.payments import repository as repo
from backend.payments.base import (
    ConnectionInfo,
    PaymentEvent,
    PaymentProvider,
    PaymentRequest,
    PaymentStatus,
    ProviderConfig,
    ProviderError,
    PushPrompt,
    Redirect,
    format_amount,
)
from backend.payments.registry import UnknownProvider
from backend.payments.schemas import (
    LinkItem,
    LinkPage,
    PaymentError,
    PaymentLinkView,
    ProviderChoice,
    ProviderView,
)

log = logging.getLogger(__name__)

DEFAULT_LINK_LIFETIME = timedelta(hours=24)
# How long the /pay page says "waiting for confirmation" after a payment was started.
PENDING_SHOWN_FOR = timedelta(minutes=30)
# Orders in these states can still be paid through a link.
PAYABLE = (OrderStatus.PENDING, OrderStatus.AWAITING_PAYMENT)
STATUSES = {s.value for s in PaymentState}
PAID_MESSAGE = "Payment received for order #{number}: {amount}. Thank you!"
# By name, so the chat pipeline (which starts payments) never imports the notifications domain.
NOTIFY_PAID = "backend.payments.tasks.notify_payment_received"


# --- provider accounts ----------------------------------------------------------------------


def _adapter(kind: str) -> PaymentProvider:
    try:
        return registry.get_provider(kind)
    except UnknownProvider as exc:
        raise PaymentError(f"{exc}; pick one of those kinds.", code="unknown_kind") from None
    except ImportError as exc:  # A built-in kind whose module is missing from this install.
        msg = f"the {kind} adapter is not installed ({exc}); pick another provider."
        raise PaymentError(msg, code="unknown_kind") from None


def _credentials(setting: PaymentProviderSetting) -> dict[str, Any]:
    if not setting.credentials_encrypted:
        return {}
    return json.loads(decrypt(setting.credentials_encrypted))


def _clean_currencies(currencies: list[str] | None) -> list[str]:
    cleaned = []
    for code in currencies or []:
        code = str(code).strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise PaymentError(
                f"{code!r} is not a currency code: use ISO 4217 codes such as USD, NGN or KES.",
                code="bad_currency",
            )
        if code not in cleaned:
            cleaned.append(code)
    return cleaned


def _missing(adapter: PaymentProvider, credentials: Mapping[str, Any]) -> list[str]:
    return [key for key in adapter.credential_fields if not str(credentials.get(key) or "").strip()]


def _check_credentials(adapter: PaymentProvider, credentials: Mapping[str, Any]) -> None:
    missing = _missing(adapter, credentials)
    if missing:
        raise PaymentError(
            f"{adapter.label} needs the credential key(s) {', '.join(missing)}: add them "
            f"(required: {', '.join(adapter.credential_fields)}).",
            code="missing_credentials",
        )


def split_settings(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Sort one flat JSON object (the CLI's --config) into credentials, config and currencies."""
    adapter = _adapter(kind)
    secret_keys = {*adapter.credential_fields, *getattr(adapter, "optional_credential_fields", ())}
    out: dict[str, Any] = {"credentials": {}, "config": {}}
    for key, value in values.items():
        if key == "currencies":
            out["currencies"] = value if isinstance(value, list) else str(value).split(",")
        elif key in ("test_mode", "is_test_mode"):
            out["is_test_mode"] = bool(value)
        elif key in secret_keys:
            out["credentials"][key] = value
        else:
            out["config"][key] = value
    return out


def add_provider(
    session: Session,
    *,
    business_id: int,
    kind: str,
    credentials: dict,
    config: dict | None = None,
    currencies: list[str] | None = None,
    is_test_mode: bool = True,
) -> int:
    """Connect a provider account (or replace the business's one of that kind); returns its id.

    It stays off until `test_connection` succeeds.
    """
    adapter = _adapter(kind)
    if repo.get_business(session, business_id=business_id) is None:
        raise PaymentError(
            f"No business {business_id}: check the id.", status=404, code="unknown_business"
        )
    credentials = {k: v for k, v in (credentials or {}).items() if v not in (None, "")}
    _check_credentials(adapter, credentials)
    setting = repo.get_setting_of_kind(session, business_id=business_id, kind=kind)
    if setting is None:
        setting = PaymentProviderSetting(business_id=business_id, kind=kind)
    setting.credentials_encrypted = encrypt(json.dumps(credentials))
    setting.config = dict(config or {})
    setting.currencies = _clean_currencies(currencies)
    setting.is_test_mode = is_test_mode
    setting.is_enabled = False
    session.add(setting)
    session.flush()
    return setting.id


def _setting(session: Session, *, business_id: int, provider_id: int) -> PaymentProviderSetting:
    setting = repo.get_setting(session, business_id=business_id, provider_id=provider_id)
    if setting is None:
        raise PaymentError(
            f"No payment provider {provider_id} in this business: list them with list_providers.",
            status=404,
            code="unknown_provider",
        )
    return setting


def _view(setting: PaymentProviderSetting) -> ProviderView:
    adapter = _adapter(setting.kind)
    try:
        credentials = _credentials(setting)
    except ValueError:  # SECRET_KEY changed: show every key as missing, so they are re-entered.
        credentials = {}
    cfg = provider_config(setting, credentials=credentials)
    return ProviderView(
        id=setting.id,
        kind=setting.kind,
        label=adapter.label,
        is_enabled=setting.is_enabled,
        is_test_mode=setting.is_test_mode,
        currencies=list(setting.currencies or []),
        config=dict(setting.config or {}),
        credentials_set=sorted(k for k, v in credentials.items() if v not in (None, "")),
        missing=_missing(adapter, credentials),
        push=bool(adapter.push),
        webhook_url=cfg.webhook_url,
    )


def list_providers(session: Session, *, business_id: int) -> list[ProviderView]:
    """The business's provider accounts, without their secrets."""
    return [_view(s) for s in repo.list_settings(session, business_id=business_id)]


def update_provider(
    session: Session,
    *,
    business_id: int,
    provider_id: int,
    credentials: dict | None = None,
    config: dict | None = None,
    currencies: list[str] | None = None,
    is_test_mode: bool | None = None,
    is_enabled: bool | None = None,
) -> ProviderView:
    """Change a provider account; given credentials replace those keys (empty values are kept).

    New credentials switch it off until the connection is tested again.
    """
    setting = _setting(session, business_id=business_id, provider_id=provider_id)
    adapter = _adapter(setting.kind)
    if credentials:
        merged = {**_credentials(setting)}
        merged.update({k: v for k, v in credentials.items() if v not in (None, "")})
        _check_credentials(adapter, merged)
        setting.credentials_encrypted = encrypt(json.dumps(merged))
        setting.is_enabled = False
    if config is not None:
        setting.config = dict(config)
    if currencies is not None:
        setting.currencies = _clean_currencies(currencies)
    if is_test_mode is not None:
        setting.is_test_mode = is_test_mode
    if is_enabled is not None:
        setting.is_enabled = is_enabled
    session.add(setting)
    session.flush()
    return _view(setting)


def remove_provider(session: Session, *, business_id: int, provider_id: int) -> None:
    """Disconnect a provider account (its past payments stay)."""
    session.delete(_setting(session, business_id=business_id, provider_id=provider_id))
    session.flush()


def provider_config(
    setting: PaymentProviderSetting, *, credentials: Mapping[str, Any] | None = None
) -> ProviderConfig:
    """The adapter's view of a provider account, credentials decrypted."""
    adapter = _adapter(setting.kind)
    config = dict(setting.config or {})
    return ProviderConfig(
        provider_id=setting.id,
        business_id=setting.business_id,
        kind=setting.kind,
        credentials=dict(credentials if credentials is not None else _credentials(setting)),
        config=config,
        is_test_mode=setting.is_test_mode,
        base_url=str(config.get("base_url") or adapter.default_base_url).rstrip("/"),
        public_url=settings.public_url,
    )


def test_connection(session: Session, *, business_id: int, provider_id: int) -> ConnectionInfo:
    """Try the credentials with the provider; on success the provider is switched on."""
    setting = _setting(session, business_id=business_id, provider_id=provider_id)
    adapter = _adapter(setting.kind)
    try:
        info = adapter.connect(provider_config(setting))
    except ProviderError as exc:
        info = ConnectionInfo(ok=False, error=str(exc))
    if info.ok:
        setting.is_enabled = True
        session.add(setting)
        session.flush()
    return info


# --- payment links ------------------------------------------------------------------------


def link_url(token: str) -> str:
    """The address the customer opens: `{PUBLIC_URL}/pay/{token}`."""
    return f"{settings.public_url.rstrip('/')}/pay/{token}"


def _link_view(link: PaymentLink) -> PaymentLinkView:
    return PaymentLinkView(
        id=link.id,
        order_id=link.order_id,
        token=link.token,
        url=link_url(link.token),
        status=link.status,
        expires_at=link.expires_at,
    )


def create_payment_link(
    session: Session,
    *,
    business_id: int,
    order_id: int,
    expires_in: timedelta = DEFAULT_LINK_LIFETIME,
) -> PaymentLinkView:
    """A /pay link for the order (its open link when it has one); the order awaits payment."""
    order = repo.get_order(session, business_id=business_id, order_id=order_id, for_update=True)
    if order is None:
        raise PaymentError(
            f"No order {order_id} in this business: create the order first.",
            status=404,
            code="unknown_order",
        )
    if order.status not in PAYABLE:
        raise PaymentError(
            f"Order #{order.number} is {order.status.replace('_', ' ')}: only pending orders "
            "can get a payment link.",
            status=409,
            code="order_not_payable",
        )
    if order.total_cents <= 0:
        raise PaymentError(
            f"Order #{order.number} totals nothing: add items before asking for payment.",
            code="empty_order",
        )
    if expires_in <= timedelta(0):
        raise PaymentError("expires_in must be positive, e.g. 24 hours.", code="bad_expiry")
    now = utcnow()
    link = repo.active_link_for_order(session, business_id=business_id, order_id=order_id, now=now)
    if link is None:
        link = PaymentLink(
            business_id=business_id,
            order_id=order_id,
            token=secrets.token_urlsafe(24),
            expires_at=now + expires_in,
        )
        session.add(link)
    order.status = OrderStatus.AWAITING_PAYMENT
    session.add(order)
    session.flush()
    return _link_view(link)


def cancel_payment_link(session: Session, *, business_id: int, link_id: int) -> PaymentLinkView:
    """Stop a link from being paid; its order goes back to pending."""
    link = repo.get_link(session, business_id=business_id, link_id=link_id, for_update=True)
    if link is None:
        raise PaymentError(
            f"No payment link {link_id} in this business.", status=404, code="unknown_link"
        )
    if link.status == PaymentLinkStatus.PAID:
        raise PaymentError(
            "This link was already paid: refund the payment with the provider instead.",
            status=409,
            code="link_paid",
        )
    if link.status == PaymentLinkStatus.ACTIVE:
        link.status = PaymentLinkStatus.CANCELLED
        session.add(link)
        order = repo.get_order(session, business_id=business_id, order_id=link.order_id)
        if order is not None and order.status == OrderStatus.AWAITING_PAYMENT:
            order.status = OrderStatus.PENDING
            session.add(order)
        session.flush()
    return _link_view(link)


def _accepts(setting: PaymentProviderSetting, adapter: PaymentProvider, currency: str) -> bool:
    accepted = {c.upper() for c in (setting.currencies or adapter.currencies or ())}
    return not accepted or currency.upper() in accepted


def _choices(session: Session, *, business_id: int, currency: str) -> list[ProviderChoice]:
    choices = []
    for setting in repo.list_settings(session, business_id=business_id):
        try:
            adapter = registry.get_provider(setting.kind)
        except (UnknownProvider, ImportError):
            continue
        if setting.is_enabled and _accepts(setting, adapter, currency):
            choices.append(
                ProviderChoice(
                    kind=setting.kind,
                    label=adapter.label,
                    push=bool(adapter.push),
                    needs_email=bool(getattr(adapter, "needs_email", False)),
                )
            )
    return choices


def _link_state(link: PaymentLink, order: Order, latest: Payment | None, now: datetime) -> str:
    if link.status == PaymentLinkStatus.PAID or order.status == OrderStatus.PAID:
        return "paid"
    if order.status == OrderStatus.NEEDS_REVIEW:
        return "review"
    if link.status == PaymentLinkStatus.CANCELLED or order.status == OrderStatus.CANCELLED:
        return "cancelled"
    if link.status == PaymentLinkStatus.EXPIRED or (link.expires_at and link.expires_at <= now):
        return "expired"
    if order.status not in PAYABLE:
        return "cancelled"
    if (
        latest is not None
        and latest.status == PaymentState.PENDING
        and latest.created_at > now - PENDING_SHOWN_FOR
    ):
        return "pending"
    return "open"


def get_link_page(session: Session, *, token: str) -> LinkPage | None:
    """What /pay/{token} shows, or None when no link has that token."""
    link = repo.find_link_by_token(session, token=token)
    if link is None:
        return None
    business_id = link.business_id
    order = repo.get_order(session, business_id=business_id, order_id=link.order_id)
    if order is None:
        return None
    business = repo.get_business(session, business_id=business_id)
    latest = repo.latest_payment_for_link(session, business_id=business_id, link_id=link.id)
    state = _link_state(link, order, latest, utcnow())
    currency = order.currency.upper()
    items = [
        LinkItem(
            name=item.name,
            quantity=item.quantity,
            unit_price=format_amount(item.unit_price_cents, currency),
            line_total=format_amount(item.line_total_cents, currency),
        )
        for item in repo.order_items(session, business_id=business_id, order_id=order.id)
    ]
    return LinkPage(
        token=link.token,
        business_name=business.name if business else "",
        order_number=order.number,
        order_status=order.status,
        state=state,
        currency=currency,
        total_cents=order.total_cents,
        total=format_amount(order.total_cents, currency),
        items=items,
        providers=_choices(session, business_id=business_id, currency=currency)
        if state in ("open", "pending")
        else [],
        expires_at=link.expires_at,
    )


def _refuse_closed(link: PaymentLink, order: Order) -> None:
    state = _link_state(link, order, None, utcnow())
    if state == "paid":
        raise PaymentError("This order is already paid. Thank you!", status=409, code="paid")
    if state in ("expired", "cancelled"):
        raise PaymentError(
            f"This payment link has {'expired' if state == 'expired' else 'been cancelled'}: "
            "ask the business for a new link.",
            status=410,
            code=state,
        )
    if state == "review":
        raise PaymentError(
            "A payment for this order is being checked by the business: wait for their reply.",
            status=409,
            code="review",
        )


def start_payment(
    session: Session,
    *,
    token: str,
    kind: str,
    payer_phone: str | None = None,
    payer_email: str | None = None,
) -> Redirect | PushPrompt:
    """Start paying a link's order with one of the business's providers.

    Creates the Payment (amount and currency from the order), asks the provider to start it and
    returns where to send the customer (or that a prompt was pushed to their phone).
    """
    link = repo.find_link_by_token(session, token=token, for_update=True)
    if link is None:
        raise PaymentError("This payment link does not exist.", status=404, code="unknown_link")
    business_id = link.business_id
    order = repo.get_order(session, business_id=business_id, order_id=link.order_id)
    if order is None:
        raise PaymentError("This payment link does not exist.", status=404, code="unknown_link")
    _refuse_closed(link, order)
    setting = repo.get_setting_of_kind(session, business_id=business_id, kind=kind)
    adapter = _adapter(kind) if setting is not None else None
    if setting is None or adapter is None or not setting.is_enabled:
        raise PaymentError(
            f"{kind!r} is not a way to pay this business: pick one of the buttons on the page.",
            code="unknown_provider",
        )
    if not _accepts(setting, adapter, order.currency):
        raise PaymentError(
            f"{adapter.label} does not take {order.currency} here: pick another way to pay.",
            code="currency_not_accepted",
        )
    phone = "".join(ch for ch in (payer_phone or "") if ch.isdigit()) or None
    if adapter.push and (phone is None or not 7 <= len(phone) <= 15):
        raise PaymentError(
            "Enter your mobile money phone number with its country code, e.g. 254712345678.",
            code="bad_phone",
        )
    email = (payer_email or "").strip() or None
    if getattr(adapter, "needs_email", False) and (email is None or "@" not in email):
        raise PaymentError(
            f"{adapter.label} needs your email address for the receipt: enter it and try again.",
            code="bad_email",
        )
    payment = repo.add_payment(
        session,
        Payment(
            business_id=business_id,
            payment_link_id=link.id,
            order_id=order.id,
            provider=kind,
            status=PaymentState.CREATED,
            amount_cents=order.total_cents,
            currency=order.currency.upper(),
            reference=f"bizbot-{secrets.token_hex(10)}",
            payer_phone=phone,
            payer_email=email,
        ),
    )
    contact = (
        repo.get_contact(session, business_id=business_id, contact_id=order.contact_id)
        if order.contact_id
        else None
    )
    business = repo.get_business(session, business_id=business_id)
    page = link_url(link.token)
    req = PaymentRequest(
        payment_id=payment.id,
        reference=payment.reference,
        amount=payment.amount_cents,
        currency=payment.currency,
        description=f"Order #{order.number}" + (f" at {business.name}" if business else ""),
        order_number=order.number,
        return_url=f"{page}?status=return",
        cancel_url=f"{page}?status=cancelled",
        payer_email=email,
        payer_phone=phone,
        payer_name=contact.name if contact else None,
    )
    try:
        result = adapter.start(req, provider_config(setting))
    except ProviderError as exc:
        raise PaymentError(
            f"{adapter.label} could not start the payment: {exc}. Try again or pick another "
            "way to pay.",
            status=502,
            code="provider_error",
        ) from exc
    payment.provider_reference = result.provider_reference
    payment.status = PaymentState.PENDING
    payment.raw = {"start": result.raw}
    session.add(payment)
    session.flush()
    return result


# --- what providers tell us ---------------------------------------------------------------


def _tell_customer(session: Session, *, order: Order, amount: str) -> None:
    if order.conversation_id is None:
        return
    conversation = repo.get_conversation(
        session, business_id=order.business_id, conversation_id=order.conversation_id
    )
    if conversation is not None:
        conversations.add_outbound(
            session,
            conversation=conversation,
            text=PAID_MESSAGE.format(number=order.number, amount=amount),
            sender_type="system",
        )


def apply_status(session: Session, *, payment: Payment, status: PaymentStatus, source: str) -> str:
    """Record what the provider says about a payment; returns what changed.

    Success with the order's amount and currency pays the order exactly once (link used up,
    customer told in the chat, owners notified by a job after commit, `order.paid` published);
    a mismatch sends the order to review instead.
    """
    business_id = payment.business_id
    order = repo.get_order(
        session, business_id=business_id, order_id=payment.order_id, for_update=True
    )
    if status.reference and payment.reference and status.reference != payment.reference:
        log.warning("payment %s: provider answered about %s", payment.id, status.reference)
        return "ignored"
    now = utcnow()
    new_state = status.status if status.status in STATUSES else PaymentState.PENDING
    if payment.status == PaymentState.SUCCEEDED and new_state != PaymentState.REFUNDED:
        return "unchanged"  # already settled: a later, older or duplicate report changes nothing
    if new_state != PaymentState.SUCCEEDED:
        if new_state == payment.status:
            return "unchanged"
        refunded = payment.status == PaymentState.SUCCEEDED and new_state == PaymentState.REFUNDED
        payment.status = new_state
        payment.failure_reason = status.reason
        payment.raw = {**(payment.raw or {}), source: status.raw}
        session.add(payment)
        if refunded and order is not None and order.status == OrderStatus.PAID:
            order.status = OrderStatus.REFUNDED
            session.add(order)
        session.flush()
        return new_state
    payment.status = PaymentState.SUCCEEDED
    payment.confirmed_at = now
    payment.raw = {**(payment.raw or {}), source: status.raw}
    if order is None:
        session.add(payment)
        session.flush()
        return "succeeded"
    # A provider that does not repeat the amount (an M-Pesa status query) took what BizBot asked
    # for when it started this payment; that, too, must still be the order's total.
    taken = status.amount if status.amount is not None else payment.amount_cents
    currency = (status.currency or payment.currency).upper()
    mismatch = []
    if order.status not in (*PAYABLE, OrderStatus.NEEDS_REVIEW, OrderStatus.PAID):
        mismatch.append(f"the order was {order.status.replace('_', ' ')} when it was paid")
    elif currency != order.currency.upper():
        mismatch.append(f"currency {currency} instead of {order.currency.upper()}")
    elif taken != order.total_cents:
        mismatch.append(
            f"amount {format_amount(taken, currency)} instead of "
            f"{format_amount(order.total_cents, order.currency)}"
        )
    if mismatch:
        payment.failure_reason = "Does not match the order: " + "; ".join(mismatch)
        session.add(payment)
        if order.status != OrderStatus.PAID:
            order.status = OrderStatus.NEEDS_REVIEW
            session.add(order)
        session.flush()
        events.publish(session, "order.needs_review", business_id=business_id, order_id=order.id,
                       payment_id=payment.id, reason=payment.failure_reason)  # fmt: skip
        return "needs_review"
    session.add(payment)
    if order.status == OrderStatus.PAID:
        # Paid twice (two attempts both went through): keep it visible for a refund.
        payment.failure_reason = "The order was already paid by another payment: refund this one."
        session.add(payment)
        session.flush()
        events.publish(session, "order.needs_review", business_id=business_id, order_id=order.id,
                       payment_id=payment.id, reason=payment.failure_reason)  # fmt: skip
        return "paid_twice"
    order.status = OrderStatus.PAID
    session.add(order)
    if payment.payment_link_id is not None:
        link = repo.get_link(session, business_id=business_id, link_id=payment.payment_link_id)
        if link is not None:
            link.status = PaymentLinkStatus.PAID
            link.paid_at = now
            session.add(link)
    session.flush()
    amount = format_amount(order.total_cents, order.currency)
    _tell_customer(session, order=order, amount=amount)
    enqueue_after_commit(session, NOTIFY_PAID, business_id, payment.id)
    events.publish(session, "order.paid", business_id=business_id, order_id=order.id,
                   order_number=order.number, payment_id=payment.id, provider=payment.provider,
                   amount_cents=order.total_cents, currency=order.currency)  # fmt: skip
    return "paid"


def find_setting_for_webhook(session: Session, *, kind: str, provider_id: int) -> ProviderConfig:
    """The provider account a webhook URL names, or PaymentError 404."""
    setting = repo.find_setting_for_webhook(session, provider_id=provider_id)
    if setting is None or setting.kind != kind:
        raise PaymentError(
            f"No {kind} payment provider {provider_id}: copy the webhook URL from the "
            "Integrations page again.",
            status=404,
            code="unknown_provider",
        )
    return provider_config(setting)


def handle_webhook(
    session: Session, *, kind: str, provider_id: int, headers: Mapping[str, str], body: bytes
) -> str:
    """Verify a provider's webhook on its raw body, store it once and act on it.

    Returns what happened: "ignored" (an event BizBot does not use), "replay" (stored before),
    "unknown_payment", "unconfirmed" (the provider's own answer is still pending: not kept, so
    a redelivery is acted on), or the outcome of `apply_status` ("paid", "needs_review", …). Raises
    InvalidSignature / BadPayload before anything is stored, PaymentError 404 for an unknown
    provider.
    """
    cfg = find_setting_for_webhook(session, kind=kind, provider_id=provider_id)
    adapter = _adapter(kind)
    lower = {str(k).lower(): v for k, v in headers.items()}
    event = adapter.verify_webhook(lower, body, cfg)  # nothing is written before this passes
    if event is None:
        return "ignored"
    stored = repo.add_webhook_event(
        session,
        business_id=cfg.business_id,
        provider=kind,
        external_id=str(event.event_id)[:255],
        payload=_payload(event),
    )
    if stored is None:
        return "replay"
    outcome = _act_on(session, cfg=cfg, adapter=adapter, event=event)
    if outcome == "unconfirmed":
        # The provider does not confirm it yet: forget the delivery, so a redelivery counts.
        repo.delete_webhook_event(session, event_id=stored)
    else:
        repo.mark_webhook_processed(session, event_id=stored, at=utcnow())
    return outcome


def _payload(event: PaymentEvent) -> dict[str, Any]:
    data = asdict(event)
    return json.loads(json.dumps(data, default=str))


def _act_on(
    session: Session, *, cfg: ProviderConfig, adapter: PaymentProvider, event: PaymentEvent
) -> str:
    payment = repo.find_payment(
        session,
        business_id=cfg.business_id,
        provider=cfg.kind,
        reference=event.reference or event.status.reference,
        provider_reference=event.status.provider_reference,
    )
    if payment is None:
        log.info("%s webhook %s names no payment of business %s", cfg.kind, event.event_id,
                 cfg.business_id)  # fmt: skip
        return "unknown_payment"
    status = event.status
    source = "webhook"
    if event.needs_confirmation:
        # The webhook alone is not proof: only the provider's own answer counts.
        status = adapter.confirm(status.provider_reference or payment.provider_reference, cfg)
        source = "confirmed"
        if status.status == PaymentState.PENDING:
            return "unconfirmed"
    return apply_status(session, payment=payment, status=status, source=source)


def paid_notice(session: Session, *, business_id: int, payment_id: int) -> dict[str, Any] | None:
    """What the owners are told about a succeeded payment (None if it is not one)."""
    payment = repo.get_payment(session, business_id=business_id, payment_id=payment_id)
    if payment is None or payment.status != PaymentState.SUCCEEDED:
        return None
    order = repo.get_order(session, business_id=business_id, order_id=payment.order_id)
    contact = (
        repo.get_contact(session, business_id=business_id, contact_id=order.contact_id)
        if order is not None and order.contact_id
        else None
    )
    amount = format_amount(payment.amount_cents, payment.currency)
    return {
        "amount": f"{amount} for order #{order.number}" if order else amount,
        "payer": (contact.name if contact else None) or payment.payer_email or payment.payer_phone,
    }


def confirm_payment(session: Session, *, business_id: int, payment_id: int) -> str:
    """Ask the provider about one pending payment and record its answer."""
    payment = repo.get_payment(
        session, business_id=business_id, payment_id=payment_id, for_update=True
    )
    if payment is None or payment.status != PaymentState.PENDING:
        return "unchanged"
    setting = repo.get_setting_of_kind(session, business_id=business_id, kind=payment.provider)
    if setting is None or not payment.provider_reference:
        return "unchanged"
    adapter = _adapter(payment.provider)
    status = adapter.confirm(payment.provider_reference, provider_config(setting))
    return apply_status(session, payment=payment, status=status, source="confirmed")


def expire_links(session: Session, *, now: datetime | None = None) -> int:
    """Turn links past their expiry to expired (all businesses); returns how many."""
    return repo.expire_links_for_sweep(session, now=now or utcnow())


def pending_push_payments(
    session: Session, *, now: datetime | None = None
) -> list[tuple[int, int]]:
    """(business_id, payment_id) of mobile-money payments pending for over a minute (< 1 day)."""
    now = now or utcnow()
    push_kinds = []
    for kind in registry.kinds():
        try:
            if registry.get_provider(kind).push:
                push_kinds.append(kind)
        except (UnknownProvider, ImportError):
            continue
    return repo.pending_payments_for_sweep(
        session,
        providers=push_kinds,
        created_before=now - timedelta(minutes=1),
        created_after=now - timedelta(days=1),
    )
