"""The catalogue and orders: products the business sells, CSV import/export, and orders.

Prices are integers in the currency's minor unit (cents, or whole yen). An order's prices and
totals always come from the catalogue, never from what a customer or a model wrote.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlmodel import Session

from backend.auth.permissions import Actor, Permission
from backend.commerce import repository as repo
from backend.commerce.schemas import (
    CatalogueImport,
    CommerceError,
    OrderItemView,
    OrderPage,
    OrderView,
    ProductView,
)
from backend.core.images import ImageRejected, data_file, remove_after_commit, store_image
from backend.models.base import utcnow
from backend.models.commerce import Order, OrderItem, OrderStatus, Product, ProductKind
from backend.models.payments import PaymentLink, PaymentLinkStatus
from backend.payments.base import currency_exponent

__all__ = [
    "CommerceError",
    "cancel_payment_link",
    "count_products",
    "create_order",
    "create_payment_link",
    "create_product",
    "delete_product",
    "export_products_csv",
    "format_money",
    "get_order",
    "get_product",
    "import_products_csv",
    "list_orders",
    "list_products",
    "minor_unit",
    "orders_of_contact",
    "parse_price",
    "set_product_active",
    "set_product_image",
    "set_status",
    "update_product",
]

MAX_NAME = 200
MAX_DESCRIPTION = 5000
MAX_SKU = 64
MAX_QUANTITY = 1000
MAX_PRICE_CENTS = 10**12
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_CSV_BYTES = 5 * 1024 * 1024
CSV_COLUMNS = ("name", "description", "price", "currency", "sku", "stock", "active", "kind")

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_TRUE = {"1", "true", "yes", "y", "active", "on", ""}
_FALSE = {"0", "false", "no", "n", "inactive", "off"}

# Image types by their first bytes: the file name alone is not trusted.
# Who may move an order to which status by hand; paid/needs review/failed also come from
# payment webhooks.
_MANUAL_MOVES: dict[str, set[str]] = {
    OrderStatus.CANCELLED: {
        OrderStatus.PENDING,
        OrderStatus.AWAITING_PAYMENT,
        OrderStatus.NEEDS_REVIEW,
        OrderStatus.FAILED,
    },
    OrderStatus.REFUNDED: {OrderStatus.PAID, OrderStatus.NEEDS_REVIEW},
    OrderStatus.PAID: {OrderStatus.PENDING, OrderStatus.AWAITING_PAYMENT, OrderStatus.NEEDS_REVIEW},
}

_PRODUCT_GONE = "This product no longer exists; reload the page."
_ORDER_GONE = "This order no longer exists; reload the page."


# --- money -----------------------------------------------------------------------------------


def _currency(value: str | None, *, field: str = "currency") -> str:
    code = (value or "").strip().upper()
    if not _CURRENCY.match(code):
        raise CommerceError(
            f"{value!r} is not a currency code; use the 3-letter ISO 4217 code, e.g. USD, EUR, "
            "KES or NGN.",
            field=field,
        )
    return code


def minor_unit(currency: str) -> int:
    """How many decimals the currency has (ISO 4217): 0 for JPY, 3 for KWD, else 2.

    The same table as the payment providers use, so a catalogue price and the amount a
    provider charges never disagree.
    """
    return currency_exponent(currency)


def format_money(amount_cents: int, currency: str) -> str:
    """An amount in minor units shown in major units with its code, e.g. "12.50 USD"."""
    exponent = minor_unit(currency)
    major = Decimal(amount_cents).scaleb(-exponent)
    return f"{major:,.{exponent}f} {currency.upper()}"


def parse_price(value: str | int | Decimal, currency: str, *, field: str = "price") -> int:
    """A price typed in major units ("12.50") as an integer in the currency's minor unit."""
    text = str(value).strip().replace(",", "") if value is not None else ""
    exponent = minor_unit(currency)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise CommerceError(
            f"{value!r} is not a price; type a number in {currency}, e.g. 12.50.", field=field
        )
    if amount < 0:
        raise CommerceError("A price cannot be negative; type 0 or more.", field=field)
    cents = amount.scaleb(exponent)
    if cents != cents.to_integral_value():
        raise CommerceError(
            f"{currency} has {exponent} decimal places; round {text} to {exponent} decimals.",
            field=field,
        )
    if cents > MAX_PRICE_CENTS:
        raise CommerceError("This price is too large; check for a typo.", field=field)
    return int(cents)


# --- products --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ProductFields:
    name: str
    description: str | None
    kind: str
    price_cents: int
    currency: str
    sku: str | None
    stock: int | None
    is_active: bool


def _line(value: str | None) -> str:
    return " ".join((value or "").split())


def _stock(value: str | int | None, *, field: str = "stock") -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        stock = int(str(value).strip())
    except ValueError:
        raise CommerceError(
            f"{value!r} is not a stock count; type a whole number, or leave it empty to not "
            "track stock.",
            field=field,
        ) from None
    if stock < 0:
        raise CommerceError("Stock cannot be negative; type 0 when sold out.", field=field)
    return stock


def _fields(
    *,
    name: str,
    price: str | int | Decimal,
    currency: str,
    description: str | None,
    kind: str,
    sku: str | None,
    stock: str | int | None,
    is_active: bool,
) -> _ProductFields:
    name = _line(name)
    if not name:
        raise CommerceError("Enter the product's name, e.g. 'Jollof rice (large)'.", field="name")
    if len(name) > MAX_NAME:
        raise CommerceError(f"Keep the name under {MAX_NAME} characters.", field="name")
    description = (description or "").strip() or None
    if description and len(description) > MAX_DESCRIPTION:
        raise CommerceError(
            f"Keep the description under {MAX_DESCRIPTION} characters.", field="description"
        )
    kind = (kind or ProductKind.PRODUCT).strip().lower()
    if kind not in set(ProductKind):
        raise CommerceError(f"{kind!r} is not a kind; use 'product' or 'service'.", field="kind")
    code = _currency(currency)
    sku = _line(sku) or None
    if sku and len(sku) > MAX_SKU:
        raise CommerceError(f"Keep the SKU under {MAX_SKU} characters.", field="sku")
    return _ProductFields(
        name=name,
        description=description,
        kind=kind,
        price_cents=parse_price(price, code),
        currency=code,
        sku=sku,
        stock=_stock(stock),
        is_active=bool(is_active),
    )


def _product_view(product: Product) -> ProductView:
    return ProductView(
        id=product.id,
        name=product.name,
        description=product.description or "",
        kind=product.kind,
        price_cents=product.price_cents,
        currency=product.currency,
        price_display=format_money(product.price_cents, product.currency),
        sku=product.sku,
        stock=product.stock,
        is_active=product.is_active,
        image_path=product.image_path,
        updated_at=product.updated_at,
    )


def _get_product(session: Session, *, actor: Actor, product_id: int) -> Product:
    product = repo.get_product(session, business_id=actor.business_id, product_id=product_id)
    if product is None:
        raise CommerceError(_PRODUCT_GONE)
    return product


def _check_sku(session: Session, *, business_id: int, sku: str | None, product_id: int | None):
    if not sku:
        return
    other = repo.find_product_by_sku(session, business_id=business_id, sku=sku)
    if other is not None and other.id != product_id:
        raise CommerceError(
            f"SKU {sku!r} already belongs to {other.name!r}; use another SKU or edit that product.",
            field="sku",
        )


def _apply(product: Product, fields: _ProductFields) -> None:
    product.name, product.description, product.kind = fields.name, fields.description, fields.kind
    product.price_cents, product.currency = fields.price_cents, fields.currency
    product.sku, product.stock, product.is_active = fields.sku, fields.stock, fields.is_active


def _sync_knowledge(session: Session, product: Product, *, old_name: str | None = None) -> None:
    # Imported lazily: the knowledge service pulls in the embedder.
    from backend.commerce import knowledge

    knowledge.sync_product(session, product=product, old_name=old_name)


def create_product(
    session: Session,
    *,
    actor: Actor,
    name: str,
    price: str | int | Decimal,
    currency: str,
    description: str | None = None,
    kind: str = ProductKind.PRODUCT,
    sku: str | None = None,
    stock: str | int | None = None,
    is_active: bool = True,
) -> ProductView:
    """Add a product or service; `price` is in major units as typed ("12.50")."""
    actor.require(Permission.SALES_MANAGE)
    fields = _fields(
        name=name,
        price=price,
        currency=currency,
        description=description,
        kind=kind,
        sku=sku,
        stock=stock,
        is_active=is_active,
    )
    _check_sku(session, business_id=actor.business_id, sku=fields.sku, product_id=None)
    product = Product(
        business_id=actor.business_id,
        name=fields.name,
        price_cents=fields.price_cents,
        currency=fields.currency,
    )
    _apply(product, fields)
    repo.save(session, product)
    _sync_knowledge(session, product)
    return _product_view(product)


def update_product(
    session: Session,
    *,
    actor: Actor,
    product_id: int,
    name: str,
    price: str | int | Decimal,
    currency: str,
    description: str | None = None,
    kind: str = ProductKind.PRODUCT,
    sku: str | None = None,
    stock: str | int | None = None,
    is_active: bool = True,
) -> ProductView:
    """Save the edit form of a product; past orders keep the name and price they had."""
    actor.require(Permission.SALES_MANAGE)
    product = _get_product(session, actor=actor, product_id=product_id)
    fields = _fields(
        name=name,
        price=price,
        currency=currency,
        description=description,
        kind=kind,
        sku=sku,
        stock=stock,
        is_active=is_active,
    )
    _check_sku(session, business_id=actor.business_id, sku=fields.sku, product_id=product.id)
    old_name = product.name
    _apply(product, fields)
    repo.save(session, product)
    _sync_knowledge(session, product, old_name=old_name)
    return _product_view(product)


def set_product_active(
    session: Session, *, actor: Actor, product_id: int, is_active: bool
) -> ProductView:
    """Offer a product again, or stop offering it (inactive products cannot be ordered)."""
    actor.require(Permission.SALES_MANAGE)
    product = _get_product(session, actor=actor, product_id=product_id)
    product.is_active = bool(is_active)
    repo.save(session, product)
    _sync_knowledge(session, product)
    return _product_view(product)


def delete_product(session: Session, *, actor: Actor, product_id: int) -> None:
    """Delete a product, and its image file once that commits; past orders keep their lines
    (name and price were copied)."""
    actor.require(Permission.SALES_MANAGE)
    product = _get_product(session, actor=actor, product_id=product_id)
    product.is_active = False
    _sync_knowledge(session, product)
    image_path = product.image_path
    repo.delete(session, product)
    # An image named by its content alone (stored before each upload got its own name) may be
    # another product's too: its file goes only once nothing of the business points at it.
    if image_path and not repo.image_in_use(
        session, business_id=actor.business_id, image_path=image_path
    ):
        remove_after_commit(session, image_path)


_IMAGE_EXTENSIONS = frozenset((".png", ".jpg", ".gif", ".webp"))


def image_file(image_path: str) -> Path:
    """Where a product image (as stored in `image_path`) lives on disk."""
    return data_file(image_path)


def set_product_image(
    session: Session, *, actor: Actor, product_id: int, filename: str, data: bytes
) -> ProductView:
    """Store an uploaded PNG, JPEG, GIF or WebP under data/products/ as the product's image."""
    actor.require(Permission.SALES_MANAGE)
    product = _get_product(session, actor=actor, product_id=product_id)
    previous = product.image_path
    # Images stored before each upload got its own name were named by their content alone, so
    # two products (or an ad, or the logo) may share one: such a file is replaced only when
    # nothing else of the business shows it.
    if (
        previous
        and "-" not in Path(previous).stem
        and repo.image_in_use(
            session, business_id=actor.business_id, image_path=previous, except_product=product.id
        )
    ):
        previous = None
    try:
        relative = store_image(
            session, folder=f"products/{int(actor.business_id)}", data=data,
            allowed=_IMAGE_EXTENSIONS, max_bytes=MAX_IMAGE_BYTES, replaces=previous,
        )  # fmt: skip
    except ImageRejected as rejected:
        raise CommerceError(_image_refusal(rejected.reason, filename), field="image") from None
    product.image_path = relative
    repo.save(session, product)
    return _product_view(product)


def _image_refusal(reason: str, filename: str) -> str:
    if reason == "empty":
        return f"{filename or 'The file'} is empty; choose an image."
    if reason == "too_large":
        return (
            f"Images can be up to {MAX_IMAGE_BYTES // (1024 * 1024)} MB; shrink "
            f"{filename or 'the image'} and upload it again."
        )
    return f"{filename or 'This file'} is not a PNG, JPEG, GIF or WebP image; upload one of those."


def list_products(
    session: Session,
    *,
    actor: Actor,
    search: str = "",
    active_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[ProductView]:
    """The business's products matching `search` (name, SKU, description), by name."""
    actor.require(Permission.SALES_READ)
    rows = repo.list_products(
        session,
        business_id=actor.business_id,
        search=search,
        active_only=active_only,
        limit=max(0, min(limit, 500)),
        offset=max(0, offset),
    )
    return [_product_view(row) for row in rows]


def count_products(
    session: Session, *, actor: Actor, search: str = "", active_only: bool = False
) -> int:
    """How many products `list_products` can page through."""
    actor.require(Permission.SALES_READ)
    return repo.count_products(
        session, business_id=actor.business_id, search=search, active_only=active_only
    )


def get_product(session: Session, *, actor: Actor, product_id: int) -> ProductView:
    """One product of the business."""
    actor.require(Permission.SALES_READ)
    return _product_view(_get_product(session, actor=actor, product_id=product_id))


def active_products(session: Session, *, business_id: int) -> list[ProductView]:
    """Every product the business offers now (for the chat's buying flow)."""
    rows = repo.list_products(session, business_id=business_id, active_only=True, limit=1000)
    return [_product_view(row) for row in rows]


# --- CSV import / export ---------------------------------------------------------------------


def _bool_cell(value: str | None) -> bool:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CommerceError(f"active is {value!r}; use yes or no", field="active")


def _read_csv(data: bytes) -> list[dict[str, str]]:
    if not data or not data.strip():
        raise CommerceError(
            "The CSV file is empty; export the catalogue for a sample.", field="file"
        )
    if len(data) > MAX_CSV_BYTES:
        raise CommerceError("CSV files can be up to 5 MB; split the file.", field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CommerceError(
            "Save the CSV file as UTF-8 and upload it again.", field="file"
        ) from None
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    headers = [(h or "").strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in ("name", "price", "currency") if c not in headers]
    if missing:
        raise CommerceError(
            f"The header row lacks {', '.join(missing)}; the first row must name the columns "
            f"({', '.join(CSV_COLUMNS)}).",
            field="file",
        )
    reader.fieldnames = headers
    return [{k: (v or "") for k, v in row.items() if k} for row in reader]


def import_products_csv(session: Session, *, actor: Actor, data: bytes) -> CatalogueImport:
    """Import products from CSV (header row; upsert by SKU); bad rows are reported, not stored.

    Row numbers count the header as row 1, as spreadsheets show them.
    """
    actor.require(Permission.SALES_MANAGE)
    rows = _read_csv(data)
    created = updated = 0
    errors: list[str] = []
    seen_skus: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        if not any(v.strip() for v in row.values()):
            continue
        try:
            sku = _line(row.get("sku")) or None
            if sku and sku in seen_skus:
                raise CommerceError(f"SKU {sku!r} is also on row {seen_skus[sku]}")
            fields = _fields(
                name=row.get("name", ""),
                price=row.get("price", ""),
                currency=row.get("currency", ""),
                description=row.get("description"),
                kind=row.get("kind") or ProductKind.PRODUCT,
                sku=sku,
                stock=row.get("stock"),
                is_active=_bool_cell(row.get("active")),
            )
        except CommerceError as exc:
            errors.append(f"row {number}: {exc.message}")
            continue
        if sku:
            seen_skus[sku] = number
        existing = (
            repo.find_product_by_sku(session, business_id=actor.business_id, sku=fields.sku)
            if fields.sku
            else None
        )
        if existing is None:
            product = Product(
                business_id=actor.business_id,
                name=fields.name,
                price_cents=fields.price_cents,
                currency=fields.currency,
            )
            old_name = None
            created += 1
        else:
            product, old_name = existing, existing.name
            updated += 1
        _apply(product, fields)
        repo.save(session, product)
        _sync_knowledge(session, product, old_name=old_name)
    return CatalogueImport(created=created, updated=updated, failed=len(errors), errors=errors)


def _major(amount_cents: int, currency: str) -> str:
    exponent = minor_unit(currency)
    return f"{Decimal(amount_cents).scaleb(-exponent):.{exponent}f}"


def export_products_csv(session: Session, *, actor: Actor) -> str:
    """The whole catalogue as CSV, in the columns `import_products_csv` reads."""
    actor.require(Permission.SALES_READ)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    offset = 0
    while True:
        rows = repo.list_products(session, business_id=actor.business_id, limit=500, offset=offset)
        for p in rows:
            writer.writerow(
                [
                    p.name,
                    p.description or "",
                    _major(p.price_cents, p.currency),
                    p.currency,
                    p.sku or "",
                    "" if p.stock is None else p.stock,
                    "yes" if p.is_active else "no",
                    p.kind,
                ]
            )
        if len(rows) < 500:
            return out.getvalue()
        offset += 500


# --- orders ----------------------------------------------------------------------------------


def _order_views(session: Session, business_id: int, orders: list[Order]) -> list[OrderView]:
    items = repo.order_items(session, business_id=business_id, order_ids=[o.id for o in orders])
    by_order: dict[int, list[OrderItemView]] = {}
    for item in items:
        by_order.setdefault(item.order_id, []).append(
            OrderItemView(
                product_id=item.product_id,
                name=item.name,
                quantity=item.quantity,
                unit_price_cents=item.unit_price_cents,
                line_total_cents=item.line_total_cents,
            )
        )
    links = repo.latest_payment_links(
        session, business_id=business_id, order_ids=[o.id for o in orders]
    )
    names = repo.contact_names(
        session,
        business_id=business_id,
        contact_ids=sorted({o.contact_id for o in orders if o.contact_id}),
    )
    return [
        OrderView(
            id=o.id,
            number=o.number,
            status=o.status,
            currency=o.currency,
            subtotal_cents=o.subtotal_cents,
            total_cents=o.total_cents,
            total_display=format_money(o.total_cents, o.currency),
            contact_id=o.contact_id,
            contact_name=names.get(o.contact_id) if o.contact_id else None,
            conversation_id=o.conversation_id,
            items=by_order.get(o.id, []),
            created_at=o.created_at,
            notes=o.notes,
            payment_link_id=links[o.id].id if o.id in links else None,
            payment_link_url=_link_url(links[o.id].token) if o.id in links else None,
            payment_link_status=_link_status(links[o.id]) if o.id in links else None,
        )
        for o in orders
    ]


def order_view(session: Session, *, business_id: int, order_id: int) -> OrderView:
    """One order of the business with its lines, for system callers (chat, payments)."""
    order = repo.get_order(session, business_id=business_id, order_id=order_id)
    if order is None:
        raise CommerceError(_ORDER_GONE)
    return _order_views(session, business_id, [order])[0]


def _quantities(items: Iterable[tuple[int, int]]) -> dict[int, int]:
    wanted: dict[int, int] = {}
    for entry in items:
        try:
            product_id, quantity = entry
            product_id, quantity = int(product_id), int(quantity)
        except (TypeError, ValueError):
            raise CommerceError(
                "Each order line is a product and a whole quantity.", field="items"
            ) from None
        if quantity < 1:
            raise CommerceError("Order at least 1 of each product.", field="items")
        wanted[product_id] = wanted.get(product_id, 0) + quantity
        if wanted[product_id] > MAX_QUANTITY:
            raise CommerceError(
                f"At most {MAX_QUANTITY} of one product per order; split the order.",
                field="items",
            )
    if not wanted:
        raise CommerceError("Add at least one product to the order.", field="items")
    return wanted


def create_order(
    session: Session,
    *,
    business_id: int,
    items: list[tuple[int, int]],
    contact_id: int | None = None,
    conversation_id: int | None = None,
    actor: Actor | None = None,
    notes: str | None = None,
) -> OrderView:
    """Place an order for (product_id, quantity) pairs; prices come from the catalogue.

    Orders are numbered per business (#1, #2, …) under a lock on the business's row, and
    tracked stock is taken under a lock on each product, so concurrent orders never share a
    number or oversell. `actor` is given when a member places the order from the dashboard.
    """
    if actor is not None:
        actor.require(Permission.SALES_MANAGE)
        if actor.business_id != business_id:
            raise CommerceError("This order belongs to another business; reload the page.")
    wanted = _quantities(items)
    if contact_id is not None and not repo.contact_exists(
        session, business_id=business_id, contact_id=contact_id
    ):
        raise CommerceError("This contact no longer exists; reload the page.", field="contact")
    if conversation_id is not None and not repo.conversation_exists(
        session, business_id=business_id, conversation_id=conversation_id
    ):
        raise CommerceError(
            "This conversation no longer exists; reload the page.", field="conversation"
        )
    repo.lock_business(session, business_id=business_id)
    products = repo.lock_products(session, business_id=business_id, product_ids=wanted)
    currencies = set()
    for product_id, quantity in wanted.items():
        product = products.get(product_id)
        if product is None:
            raise CommerceError(
                "A product in this order is no longer in the catalogue; choose another.",
                field="items",
            )
        if not product.is_active:
            raise CommerceError(
                f"{product.name} is not on sale at the moment; choose another product.",
                field="items",
            )
        if product.stock is not None and product.stock < quantity:
            left = f"only {product.stock} left" if product.stock else "out of stock"
            raise CommerceError(f"{product.name} is {left}.", field="items")
        currencies.add(product.currency)
    if len(currencies) > 1:
        raise CommerceError(
            "One order is paid in one currency; order products priced in "
            f"{' and '.join(sorted(currencies))} separately.",
            field="items",
        )
    order = Order(
        business_id=business_id,
        contact_id=contact_id,
        conversation_id=conversation_id,
        number=repo.last_order_number(session, business_id=business_id) + 1,
        status=OrderStatus.PENDING,
        currency=currencies.pop(),
        notes=(notes or "").strip() or None,
    )
    repo.save(session, order)
    subtotal = 0
    for product_id, quantity in wanted.items():
        product = products[product_id]
        line_total = product.price_cents * quantity
        subtotal += line_total
        repo.save(
            session,
            OrderItem(
                business_id=business_id,
                order_id=order.id,
                product_id=product.id,
                name=product.name,
                unit_price_cents=product.price_cents,
                quantity=quantity,
                line_total_cents=line_total,
            ),
        )
        if product.stock is not None:
            product.stock -= quantity
            repo.save(session, product)
    order.subtotal_cents = order.total_cents = subtotal
    repo.save(session, order)
    return _order_views(session, business_id, [order])[0]


def _statuses(status: str | list[str] | None) -> list[str] | None:
    if not status:
        return None
    values = [status] if isinstance(status, str) else list(status)
    unknown = [s for s in values if s not in set(OrderStatus)]
    if unknown:
        raise CommerceError(
            f"Unknown order status {unknown[0]!r}; use one of {', '.join(OrderStatus)}.",
            field="status",
        )
    return values


def list_orders(
    session: Session,
    *,
    actor: Actor,
    status: str | list[str] | None = None,
    contact_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> OrderPage:
    """The business's orders, newest first, filtered by status and contact, one page."""
    actor.require(Permission.SALES_READ)
    statuses = _statuses(status)
    orders = repo.list_orders(
        session,
        business_id=actor.business_id,
        statuses=statuses,
        contact_id=contact_id,
        limit=max(0, min(limit, 200)),
        offset=max(0, offset),
    )
    total = repo.count_orders(
        session, business_id=actor.business_id, statuses=statuses, contact_id=contact_id
    )
    return OrderPage(orders=_order_views(session, actor.business_id, orders), total=total)


def get_order(session: Session, *, actor: Actor, order_id: int) -> OrderView:
    """One order with its lines."""
    actor.require(Permission.SALES_READ)
    return order_view(session, business_id=actor.business_id, order_id=order_id)


def orders_of_contact(
    session: Session, *, actor: Actor, contact_id: int, limit: int = 20
) -> list[OrderView]:
    """A contact's orders, newest first (for the inbox contact card)."""
    return list_orders(session, actor=actor, contact_id=contact_id, limit=limit).orders


def _link_url(token: str) -> str:
    # Imported here: payments imports conversations, which imports this domain's chat module.
    from backend.payments import service as payments

    return payments.link_url(token)


def _link_status(link: PaymentLink) -> str:
    if link.status == PaymentLinkStatus.ACTIVE and link.expires_at and link.expires_at <= utcnow():
        return PaymentLinkStatus.EXPIRED
    return link.status


def _cancel_links(session: Session, order: Order) -> None:
    from backend.payments import service as payments

    for link_id in repo.active_payment_link_ids(
        session, business_id=order.business_id, order_id=order.id
    ):
        payments.cancel_payment_link(session, business_id=order.business_id, link_id=link_id)


def cancel_payment_link(session: Session, *, actor: Actor, order_id: int) -> OrderView:
    """Stop the order's open payment link from being paid (the order goes back to pending)."""
    actor.require(Permission.SALES_MANAGE)
    order = repo.get_order(session, business_id=actor.business_id, order_id=order_id)
    if order is None:
        raise CommerceError(_ORDER_GONE)
    _cancel_links(session, order)
    return order_view(session, business_id=actor.business_id, order_id=order.id)


def create_payment_link(session: Session, *, actor: Actor, order_id: int) -> OrderView:
    """Give a pending order a payment link (its open one when it has one)."""
    from backend.payments import service as payments
    from backend.payments.schemas import PaymentError

    actor.require(Permission.SALES_MANAGE)
    try:
        payments.create_payment_link(session, business_id=actor.business_id, order_id=order_id)
    except PaymentError as exc:
        raise CommerceError(str(exc)) from exc
    return order_view(session, business_id=actor.business_id, order_id=order_id)


def set_status(session: Session, *, actor: Actor, order_id: int, status: str) -> OrderView:
    """Cancel an order, mark it refunded, or mark it paid by hand (e.g. cash on delivery).

    Cancelling puts tracked stock back and cancels the order's open payment links.
    """
    actor.require(Permission.SALES_MANAGE)
    order = repo.get_order(
        session, business_id=actor.business_id, order_id=order_id, for_update=True
    )
    if order is None:
        raise CommerceError(_ORDER_GONE)
    if status not in _MANUAL_MOVES:
        raise CommerceError(
            f"Orders can be set to {', '.join(_MANUAL_MOVES)} by hand, not {status!r}.",
            field="status",
        )
    if order.status == status:
        return _order_views(session, actor.business_id, [order])[0]
    if order.status not in _MANUAL_MOVES[status]:
        raise CommerceError(
            f"Order #{order.number} is {order.status.replace('_', ' ')}; it cannot become "
            f"{status.replace('_', ' ')}.",
            field="status",
        )
    if status == OrderStatus.CANCELLED:
        items = repo.order_items(session, business_id=actor.business_id, order_ids=[order.id])
        products = repo.lock_products(
            session,
            business_id=actor.business_id,
            product_ids=[i.product_id for i in items if i.product_id],
        )
        for item in items:
            product = products.get(item.product_id)
            if product is not None and product.stock is not None:
                product.stock += item.quantity
                repo.save(session, product)
        _cancel_links(session, order)
    order.status = status
    repo.save(session, order)
    return _order_views(session, actor.business_id, [order])[0]
