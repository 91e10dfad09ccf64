"""The Sales & Products page: the catalogue (add, edit, image, active, CSV) and the orders."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import Any

import reflex as rx

from backend.auth.permissions import Actor, Permission, PermissionDenied
from backend.commerce import service as commerce
from backend.commerce.schemas import CommerceError, OrderView, ProductView
from backend.core.db import session_scope
from backend.models.commerce import OrderStatus
from state.base import BaseState
from state.knowledge import relative_time

PAGE_SIZE = 50
IMAGE_UPLOAD_ID = "product-image-upload"
CSV_UPLOAD_ID = "product-csv-upload"
MAX_IMAGE_BYTES = commerce.MAX_IMAGE_BYTES
MAX_CSV_BYTES = commerce.MAX_CSV_BYTES
ACCEPTED_IMAGES: dict[str, list[str]] = {
    "image/png": [".png"],
    "image/jpeg": [".jpg", ".jpeg"],
    "image/gif": [".gif"],
    "image/webp": [".webp"],
}
ACCEPTED_CSV: dict[str, list[str]] = {"text/csv": [".csv"]}
STATUS_LABELS = {
    "pending": "Pending",
    "awaiting_payment": "Awaiting payment",
    "paid": "Paid",
    "needs_review": "Needs review",
    "failed": "Failed",
    "refunded": "Refunded",
    "cancelled": "Cancelled",
}
# What the owner may do to an order in each status (the service has the last word).
_ACTIONS = {
    "pending": ["link", "paid", "cancelled"],
    "awaiting_payment": ["paid", "cancelled"],
    "needs_review": ["paid", "refunded", "cancelled"],
    "failed": ["cancelled"],
    "paid": ["refunded"],
}
_PRODUCT_FIELDS = ("name", "price", "currency", "description", "kind", "sku", "stock")


@dataclass(frozen=True)
class ProductRow:
    """One product in the table, formatted for display and for the edit form."""

    id: int
    name: str
    description: str
    kind: str
    price: str  # "4.50 USD"
    price_input: str  # "4.50", as the form shows it
    currency: str
    sku: str
    stock: str  # "" when not tracked
    is_active: bool
    has_image: bool
    image_url: str  # changes with the image, so browsers never show a stale one


@dataclass(frozen=True)
class OrderRow:
    """One order in the table."""

    id: int
    number: int
    status: str
    status_label: str
    total: str
    contact: str
    summary: str  # "2 x Sourdough loaf, 1 x Cake"
    created: str
    link_url: str
    link_status: str


@dataclass(frozen=True)
class OrderLine:
    """One line of the order shown in the detail dialog."""

    name: str
    quantity: int
    unit_price: str
    line_total: str


def _major(cents: int, currency: str) -> str:
    exponent = commerce.minor_unit(currency)
    return f"{Decimal(cents).scaleb(-exponent):.{exponent}f}"


def product_row(view: ProductView) -> ProductRow:
    """A product as the table shows it."""
    return ProductRow(
        id=view.id,
        name=view.name,
        description=view.description,
        kind=view.kind,
        price=view.price_display,
        price_input=_major(view.price_cents, view.currency),
        currency=view.currency,
        sku=view.sku or "",
        stock="" if view.stock is None else str(view.stock),
        is_active=view.is_active,
        has_image=bool(view.image_path),
        image_url=(
            f"/api/media/products/{view.id}?v={zlib.crc32(view.image_path.encode()):x}"
            if view.image_path
            else ""
        ),
    )


def order_row(view: OrderView) -> OrderRow:
    """An order as the table shows it."""
    when = view.created_at if view.created_at.tzinfo else view.created_at.replace(tzinfo=UTC)
    return OrderRow(
        id=view.id,
        number=view.number,
        status=view.status,
        status_label=STATUS_LABELS.get(view.status, view.status),
        total=view.total_display,
        contact=view.contact_name or "—",
        summary=", ".join(f"{i.quantity} x {i.name}" for i in view.items),
        created=relative_time(when),
        link_url=view.payment_link_url or "",
        link_status=view.payment_link_status or "",
    )


def _lines(view: OrderView) -> list[OrderLine]:
    money = commerce.format_money
    return [
        OrderLine(
            name=i.name,
            quantity=i.quantity,
            unit_price=money(i.unit_price_cents, view.currency),
            line_total=money(i.line_total_cents, view.currency),
        )
        for i in view.items
    ]


def _message(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc)


class SalesState(BaseState):
    """The catalogue and the orders of the business."""

    tab: str = "products"
    loaded: bool = False
    can_manage: bool = False

    products: list[ProductRow] = []
    product_total: int = 0
    search: str = ""
    product_offset: int = 0

    product_open: bool = False
    product_id: int = 0
    product_form: dict[str, str] = {}
    product_errors: dict[str, str] = {}
    image_note: str = ""
    upload_percent: int = 0

    import_open: bool = False
    import_summary: str = ""
    import_errors: list[str] = []

    delete_open: bool = False
    delete_id: int = 0
    delete_name: str = ""

    orders: list[OrderRow] = []
    order_total: int = 0
    status_filter: str = "all"
    order_offset: int = 0

    order_open: bool = False
    order: OrderRow = OrderRow(0, 0, "", "", "", "", "", "", "", "")
    order_lines: list[OrderLine] = []
    order_actions: list[str] = []

    @rx.var
    def is_empty(self) -> bool:
        """No products at all (not merely no search match)."""
        return self.loaded and self.product_total == 0 and not self.search.strip()

    @rx.var
    def products_label(self) -> str:
        """`1-50 of 120` (with an en dash), or `No products`."""
        return _range(self.product_offset, self.product_total, "products")

    @rx.var
    def orders_label(self) -> str:
        """`1-50 of 120` (with an en dash), or `No orders`."""
        return _range(self.order_offset, self.order_total, "orders")

    @rx.var
    def products_prev(self) -> bool:
        """Whether there is a page of products before this one."""
        return self.product_offset > 0

    @rx.var
    def products_next(self) -> bool:
        """Whether there is a page of products after this one."""
        return self.product_offset + PAGE_SIZE < self.product_total

    @rx.var
    def orders_prev(self) -> bool:
        """Whether there is a page of orders before this one."""
        return self.order_offset > 0

    @rx.var
    def orders_next(self) -> bool:
        """Whether there is a page of orders after this one."""
        return self.order_offset + PAGE_SIZE < self.order_total

    # --- reading -----------------------------------------------------------------------------

    def _read_products(self, actor: Actor) -> None:
        with session_scope() as session:
            views = commerce.list_products(
                session,
                actor=actor,
                search=self.search.strip(),
                limit=PAGE_SIZE,
                offset=self.product_offset,
            )
            total = commerce.count_products(session, actor=actor, search=self.search.strip())
        self.products, self.product_total = [product_row(v) for v in views], total

    def _read_orders(self, actor: Actor) -> None:
        status = None if self.status_filter == "all" else self.status_filter
        with session_scope() as session:
            page = commerce.list_orders(
                session, actor=actor, status=status, limit=PAGE_SIZE, offset=self.order_offset
            )
        self.orders, self.order_total = [order_row(v) for v in page.orders], page.total

    def _reload(self, actor: Actor) -> None:
        self._read_products(actor)
        self._read_orders(actor)
        self.loaded = True

    def _actor(self) -> Actor | None:
        actor = self.current_actor()
        if actor is not None:
            self.can_manage = actor.can(Permission.SALES_MANAGE)
        return actor

    @rx.event
    def load(self):
        """Guard the page and read the first page of products and of orders."""
        actor = self._enter("sales")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        self.can_manage = actor.can(Permission.SALES_MANAGE)
        self.product_open = self.import_open = self.delete_open = self.order_open = False
        self._reload(actor)
        return None

    @rx.event
    def refresh(self):
        """Read products and orders again (e.g. to see an order that was just paid)."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        self._reload(actor)
        return None

    @rx.event
    def set_tab(self, tab: str):
        """Switch between Products and Orders, reading the tab afresh."""
        self.tab = tab
        return SalesState.refresh

    @rx.event
    def set_search(self, value: str):
        """Filter the products by name, SKU or description, from the first page."""
        self.search, self.product_offset = value, 0
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        self._read_products(actor)
        return None

    @rx.event
    def turn_products(self, step: int):
        """Show the next (1) or previous (-1) page of products."""
        self.product_offset = max(0, self.product_offset + step * PAGE_SIZE)
        return SalesState.refresh

    @rx.event
    def turn_orders(self, step: int):
        """Show the next (1) or previous (-1) page of orders."""
        self.order_offset = max(0, self.order_offset + step * PAGE_SIZE)
        return SalesState.refresh

    @rx.event
    def set_status_filter(self, value: str):
        """Show orders of one status (or all), from the first page."""
        self.status_filter, self.order_offset = value, 0
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        self._read_orders(actor)
        return None

    # --- the product form --------------------------------------------------------------------

    @rx.event
    def new_product(self):
        """Open the empty product form."""
        self.product_id, self.product_errors, self.image_note = 0, {}, ""
        self.product_form = {"currency": "USD", "kind": "product", "active": "on"}
        self.product_open = True

    @rx.event
    def edit_product(self, product_id: int):
        """Open the product form filled with the product."""
        row = next((p for p in self.products if p.id == product_id), None)
        if row is None:
            return rx.toast.error("This product no longer exists; reload the page.")
        self.product_id, self.product_errors = row.id, {}
        self.image_note = "An image is set." if row.has_image else ""
        self.product_form = {
            "name": row.name,
            "price": row.price_input,
            "currency": row.currency,
            "description": row.description,
            "kind": row.kind,
            "sku": row.sku,
            "stock": row.stock,
            "active": "on" if row.is_active else "",
        }
        self.product_open = True
        return None

    @rx.event
    def set_product_open(self, is_open: bool):
        """Open or close the product dialog."""
        self.product_open = is_open

    @rx.event
    def save_product(self, form: dict[str, Any]):
        """Add the product, or save the one being edited; errors name the field."""
        self.product_errors = {}
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        values = {k: str(form.get(k) or "").strip() for k in _PRODUCT_FIELDS}
        is_active = str(form.get("active") or "") in ("on", "true", "True")
        self.product_form = {**values, "active": "on" if is_active else ""}
        fields = {
            "name": values["name"],
            "price": values["price"],
            "currency": values["currency"],
            "description": values["description"] or None,
            "kind": values["kind"] or "product",
            "sku": values["sku"] or None,
            "stock": values["stock"] or None,
            "is_active": is_active,
        }
        try:
            with session_scope() as session:
                if self.product_id:
                    commerce.update_product(
                        session, actor=actor, product_id=self.product_id, **fields
                    )
                else:
                    commerce.create_product(session, actor=actor, **fields)
        except CommerceError as exc:
            field = exc.field if exc.field in _PRODUCT_FIELDS else "form"
            self.product_errors = {field: exc.message}
            return None
        except PermissionDenied as exc:
            self.product_errors = {"form": str(exc)}
            return None
        message = "Product saved." if self.product_id else f"{values['name']} added."
        self.product_open = False
        self._read_products(actor)
        return rx.toast.success(message)

    @rx.event
    async def receive_image(self, files: list[rx.UploadFile]):
        """Store the uploaded image as the product's image."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        if not files or not self.product_id:
            return None
        upload = files[0]
        if upload.size is not None and upload.size > MAX_IMAGE_BYTES:
            self.image_note = "This image is larger than 5 MB; shrink it and upload it again."
            return None
        data = await upload.read()
        try:
            with session_scope() as session:
                commerce.set_product_image(
                    session,
                    actor=actor,
                    product_id=self.product_id,
                    filename=upload.name or "image",
                    data=data,
                )
        except (CommerceError, PermissionDenied) as exc:
            self.image_note = _message(exc)
            return None
        self.image_note = f"Image {upload.name or ''} saved."
        self._read_products(actor)
        return None

    @rx.event
    def image_refused(self, refused: list[dict[str, Any]]):
        """Say why the browser refused the image (type or size)."""
        self.image_note = "Choose a PNG, JPEG, GIF or WebP image of up to 5 MB."

    @rx.event
    def toggle_active(self, product_id: int, is_active: bool):
        """Offer the product, or stop offering it."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                view = commerce.set_product_active(
                    session, actor=actor, product_id=product_id, is_active=is_active
                )
        except (CommerceError, PermissionDenied) as exc:
            return rx.toast.error(_message(exc))
        self._read_products(actor)
        state = "on sale" if view.is_active else "no longer offered"
        return rx.toast.success(f"{view.name} is {state}.")

    @rx.event
    def ask_delete(self, product_id: int, name: str):
        """Ask the owner to confirm deleting a product."""
        self.delete_id, self.delete_name, self.delete_open = product_id, name, True

    @rx.event
    def set_delete_open(self, is_open: bool):
        """Open or close the delete confirmation."""
        self.delete_open = is_open

    @rx.event
    def confirm_delete(self):
        """Delete the product the owner confirmed."""
        self.delete_open = False
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                commerce.delete_product(session, actor=actor, product_id=self.delete_id)
        except (CommerceError, PermissionDenied) as exc:
            return rx.toast.error(_message(exc))
        self._read_products(actor)
        return rx.toast.success(f"Deleted “{self.delete_name}”.")

    # --- CSV ---------------------------------------------------------------------------------

    @rx.event
    def open_import(self):
        """Open the CSV import dialog with no results yet."""
        self.import_summary, self.import_errors = "", []
        self.import_open = True

    @rx.event
    def set_import_open(self, is_open: bool):
        """Open or close the CSV import dialog."""
        self.import_open = is_open

    @rx.event
    async def receive_csv(self, files: list[rx.UploadFile]):
        """Import the uploaded CSV; valid rows are stored, bad rows listed by number."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        if not files:
            return None
        data = await files[0].read()
        try:
            with session_scope() as session:
                result = commerce.import_products_csv(session, actor=actor, data=data)
        except (CommerceError, PermissionDenied) as exc:
            self.import_summary, self.import_errors = _message(exc), []
            return None
        self.import_summary = (
            f"{result.created} added, {result.updated} updated, {result.failed} with errors."
        )
        self.import_errors = result.errors
        self._read_products(actor)
        return None

    @rx.event
    def csv_refused(self, refused: list[dict[str, Any]]):
        """Say why the browser refused the file."""
        self.import_summary = "Choose a .csv file of up to 5 MB."
        self.import_errors = []

    @rx.event
    def export_csv(self):
        """Download the whole catalogue as CSV."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                text = commerce.export_products_csv(session, actor=actor)
        except PermissionDenied as exc:
            return rx.toast.error(str(exc))
        return rx.download(data=text, filename="products.csv")

    # --- orders ------------------------------------------------------------------------------

    def _show_order(self, view: OrderView) -> None:
        self.order = order_row(view)
        self.order_lines = _lines(view)
        self.order_actions = _ACTIONS.get(view.status, []) if self.can_manage else []
        if view.payment_link_status == "active" and self.can_manage:
            self.order_actions = [*self.order_actions, "cancel_link"]

    @rx.event
    def open_order(self, order_id: int):
        """Show an order's lines, totals, payment link and actions."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                view = commerce.get_order(session, actor=actor, order_id=order_id)
        except (CommerceError, PermissionDenied) as exc:
            return rx.toast.error(_message(exc))
        self._show_order(view)
        self.order_open = True
        return None

    @rx.event
    def set_order_open(self, is_open: bool):
        """Open or close the order dialog."""
        self.order_open = is_open

    @rx.event
    def order_action(self, action: str):
        """Mark the open order paid/refunded/cancelled, or create or cancel its payment link."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        if not self.order.id:
            return None
        order_id = self.order.id
        try:
            with session_scope() as session:
                if action == "link":
                    view = commerce.create_payment_link(session, actor=actor, order_id=order_id)
                elif action == "cancel_link":
                    view = commerce.cancel_payment_link(session, actor=actor, order_id=order_id)
                elif action in set(OrderStatus):
                    view = commerce.set_status(
                        session, actor=actor, order_id=order_id, status=action
                    )
                else:
                    return rx.toast.error(f"Unknown action {action!r}; reload the page.")
        except (CommerceError, PermissionDenied) as exc:
            return rx.toast.error(_message(exc))
        self._show_order(view)
        self._reload(actor)
        return rx.toast.success(f"Order #{view.number}: {STATUS_LABELS[view.status].lower()}.")

    @rx.event
    def copy_link(self):
        """Copy the open order's payment link."""
        if not self.order.link_url:
            return None
        return [rx.set_clipboard(self.order.link_url), rx.toast.success("Link copied.")]


def _range(offset: int, total: int, noun: str) -> str:
    if total == 0:
        return f"No {noun}"
    return f"{offset + 1}\N{EN DASH}{min(offset + PAGE_SIZE, total)} of {total}"
