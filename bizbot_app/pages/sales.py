"""`/sales`: the catalogue (products and services, CSV import/export) and the orders."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from bizbot_app.sections import BY_SLUG
from components.empty_state import empty_state
from components.knowledge import form_error, labelled_textarea, pager, upload_zone
from components.layout import labelled_field
from components.payments import credential_input, payment_providers_section, provider_card
from components.sales import (
    import_error_item,
    order_line,
    order_row,
    order_status_badge,
    orders_table,
    product_row,
    products_table,
)
from state.payments import PaymentsState
from state.sales import (
    ACCEPTED_CSV,
    ACCEPTED_IMAGES,
    CSV_UPLOAD_ID,
    IMAGE_UPLOAD_ID,
    MAX_CSV_BYTES,
    MAX_IMAGE_BYTES,
    STATUS_LABELS,
    SalesState,
)

S = SalesState
P = PaymentsState
_MUTED = rx.color("gray", 11)
_ACTION_BUTTONS = (
    ("link", "Create payment link", "link", "blue"),
    ("paid", "Mark paid", "circle-check", "grass"),
    ("refunded", "Mark refunded", "undo-2", "violet"),
    ("cancel_link", "Cancel link", "link-2-off", "gray"),
    ("cancelled", "Cancel order", "circle-x", "red"),
)


def _product_buttons() -> rx.Component:
    return rx.cond(
        S.can_manage,
        rx.hstack(
            rx.button(rx.icon("circle-plus", size=16), "Add product", on_click=S.new_product),
            rx.button(rx.icon("file-up", size=16), "Import CSV", variant="soft",
                      on_click=S.open_import),
            rx.button(rx.icon("file-down", size=16), "Export CSV", variant="soft",
                      on_click=S.export_csv),
            spacing="2",
            wrap="wrap",
        ),
    )  # fmt: skip


def _select_field(label: str, name: str, options: list[tuple[str, str]], value) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=f"field-{name}", font_size="0.875em", font_weight="500"),
        rx.el.select(
            *[rx.el.option(text, value=v) for v, text in options],
            id=f"field-{name}",
            name=name,
            default_value=value,
            style={"padding": "0.5em", "border_radius": "6px", "width": "100%",
                   "border": f"1px solid {rx.color('gray', 7)}"},
        ),
        spacing="1",
        width="100%",
    )  # fmt: skip


def _product_dialog() -> rx.Component:
    form, errors = S.product_form, S.product_errors
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.product_id == 0, "Add a product", "Edit product")),
            rx.dialog.description(
                "Prices in orders and payment links always come from here. Active products "
                "are also what the assistant answers price questions from.",
                size="2", color=_MUTED, margin_bottom="1em",
            ),
            rx.form(
                rx.vstack(
                    labelled_field("Name", "name", error=errors.get("name", ""),
                                   placeholder="Sourdough loaf",
                                   default_value=form.get("name", "")),
                    rx.hstack(
                        labelled_field("Price", "price", error=errors.get("price", ""),
                                       placeholder="4.50", default_value=form.get("price", "")),
                        labelled_field("Currency", "currency",
                                       error=errors.get("currency", ""), placeholder="USD",
                                       default_value=form.get("currency", "")),
                        spacing="3", width="100%",
                    ),
                    labelled_textarea("Description (optional)", "description", required=False,
                                      error=errors.get("description", ""), rows="3",
                                      placeholder="Baked every morning with organic flour.",
                                      default_value=form.get("description", "")),
                    rx.hstack(
                        _select_field("Kind", "kind",
                                      [("product", "Product"), ("service", "Service")],
                                      form.get("kind", "product")),
                        labelled_field("SKU (optional)", "sku", required=False,
                                       error=errors.get("sku", ""), placeholder="SD-1",
                                       default_value=form.get("sku", "")),
                        labelled_field("Stock (optional)", "stock", required=False,
                                       error=errors.get("stock", ""),
                                       placeholder="Empty: not tracked",
                                       default_value=form.get("stock", "")),
                        spacing="3", width="100%",
                    ),
                    rx.el.label(
                        rx.hstack(
                            rx.checkbox(name="active",
                                        default_checked=form.get("active", "") == "on"),
                            rx.text("On sale", size="2"),
                            spacing="2", align="center",
                        ),
                    ),
                    form_error(errors.get("form", "")),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                  type="button")),
                        rx.button(rx.cond(S.product_id == 0, "Add product", "Save changes"),
                                  type="submit"),
                        justify="end", spacing="3", width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=S.save_product,
                reset_on_submit=False,
                key=S.product_id,
            ),
            rx.cond(
                S.product_id != 0,
                rx.vstack(
                    rx.separator(margin_y="1em"),
                    rx.text("Image", weight="medium", size="2"),
                    upload_zone(
                        IMAGE_UPLOAD_ID, accept=ACCEPTED_IMAGES, max_size=MAX_IMAGE_BYTES,
                        formats="PNG, JPEG, GIF or WebP · up to 5 MB", percent=S.upload_percent,
                        on_drop=S.receive_image(rx.upload_files(upload_id=IMAGE_UPLOAD_ID)),
                        on_refused=S.image_refused,
                    ),
                    rx.cond(S.image_note != "", rx.text(S.image_note, size="2",
                                                        aria_live="polite")),
                    spacing="2", width="100%",
                ),
            ),
            max_width="620px",
        ),
        open=S.product_open,
        on_open_change=S.set_product_open,
    )  # fmt: skip


def _import_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Import products from CSV"),
            rx.dialog.description(
                "The first row names the columns: name, description, price, currency, sku, "
                "stock, active, kind. Prices are in units (12.50). Rows with a known SKU update "
                "that product; rows with errors are listed and skipped.",
                size="2", color=_MUTED, margin_bottom="1em",
            ),
            rx.vstack(
                upload_zone(
                    CSV_UPLOAD_ID, accept=ACCEPTED_CSV, max_size=MAX_CSV_BYTES,
                    formats=".csv · up to 5 MB", percent=S.upload_percent,
                    on_drop=S.receive_csv(rx.upload_files(upload_id=CSV_UPLOAD_ID)),
                    on_refused=S.csv_refused,
                ),
                rx.cond(
                    S.import_summary != "",
                    rx.callout(S.import_summary, icon="info", width="100%", aria_live="polite"),
                ),
                rx.cond(
                    S.import_errors.length() > 0,
                    rx.scroll_area(
                        rx.vstack(rx.foreach(S.import_errors, import_error_item), spacing="1"),
                        max_height="14em", aria_label="Rows not imported",
                    ),
                ),
                rx.hstack(rx.dialog.close(rx.button("Done", variant="soft")), justify="end",
                          width="100%"),
                spacing="3",
            ),
            max_width="600px",
        ),
        open=S.import_open,
        on_open_change=S.set_import_open,
    )  # fmt: skip


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this product?"),
            rx.alert_dialog.description(
                "“", S.delete_name, "” will be removed from the catalogue. Past orders keep "
                "their lines. To stop selling it for now, switch it off instead.",
                size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Delete", color_scheme="red", on_click=S.confirm_delete)
                ),
                justify="end", spacing="3", margin_top="1em",
            ),
            max_width="460px",
        ),
        open=S.delete_open,
        on_open_change=S.set_delete_open,
    )  # fmt: skip


def _order_dialog() -> rx.Component:
    order = S.order
    actions = [
        rx.cond(
            S.order_actions.contains(action),
            rx.button(rx.icon(icon, size=15), label, variant="soft", color_scheme=color,
                      on_click=S.order_action(action)),
        )
        for action, label, icon, color in _ACTION_BUTTONS
    ]  # fmt: skip
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.hstack("Order #", order.number,
                                      order_status_badge(order.status, order.status_label),
                                      spacing="2", align="center")),
            rx.dialog.description(order.contact, " · ", order.created, size="2",
                                  color=_MUTED, margin_bottom="1em"),
            rx.vstack(
                rx.table.root(
                    rx.table.body(rx.foreach(S.order_lines, order_line)),
                    size="1", width="100%",
                ),
                rx.hstack(rx.text("Total", weight="bold"), rx.spacer(),
                          rx.text(order.total, weight="bold"), width="100%"),
                rx.cond(
                    order.link_url != "",
                    rx.vstack(
                        rx.hstack(
                            rx.text("Payment link", weight="medium", size="2"),
                            rx.badge(order.link_status, variant="soft"),
                            spacing="2", align="center",
                        ),
                        rx.hstack(
                            rx.code(order.link_url, size="2", word_break="break-all",
                                    aria_label="Payment link"),
                            rx.icon_button(rx.icon("copy", size=14), variant="ghost",
                                           aria_label="Copy payment link", on_click=S.copy_link),
                            align="center", spacing="2",
                        ),
                        spacing="1", width="100%",
                    ),
                ),
                rx.hstack(*actions, spacing="2", wrap="wrap"),
                rx.hstack(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                          justify="end", width="100%"),
                spacing="3",
            ),
            max_width="600px",
        ),
        open=S.order_open,
        on_open_change=S.set_order_open,
    )  # fmt: skip


def _products_panel() -> rx.Component:
    table = products_table(
        S.products,
        lambda row: product_row(
            row,
            can_manage=S.can_manage,
            on_edit=lambda product_id: S.edit_product(product_id),
            on_toggle=lambda product_id, value: S.toggle_active(product_id, value),
            on_delete=lambda product_id, name: S.ask_delete(product_id, name),
        ),
    )
    return rx.vstack(
        rx.hstack(
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                value=S.search, on_change=S.set_search, placeholder="Search products",
                aria_label="Search products", type="search", width="100%", max_width="360px",
            ),
            rx.spacer(),
            _product_buttons(),
            align="center", width="100%", wrap="wrap", spacing="3",
        ),
        rx.cond(
            S.product_total > 0,
            rx.vstack(
                table,
                pager(S.products_label, has_prev=S.products_prev, has_next=S.products_next,
                      on_prev=S.turn_products(-1), on_next=S.turn_products(1)),
                spacing="3", width="100%",
            ),
            rx.center(rx.text("No products match “", S.search, "”.", color=_MUTED),
                      padding="3em 1em", width="100%",
                      border=f"1px dashed {rx.color('gray', 6)}", border_radius="12px"),
        ),
        spacing="4",
        width="100%",
    )  # fmt: skip


def _orders_panel() -> rx.Component:
    options = [("all", "All statuses"), *STATUS_LABELS.items()]
    return rx.vstack(
        rx.hstack(
            rx.select.root(
                rx.select.trigger(aria_label="Filter by status"),
                rx.select.content(*[rx.select.item(text, value=v) for v, text in options]),
                value=S.status_filter, on_change=S.set_status_filter,
            ),
            rx.spacer(),
            rx.button(rx.icon("refresh-cw", size=15), "Refresh", variant="soft",
                      on_click=S.refresh),
            width="100%", align="center",
        ),
        rx.cond(
            S.order_total > 0,
            rx.vstack(
                orders_table(S.orders, lambda row: order_row(
                    row, on_open=lambda order_id: S.open_order(order_id))),
                pager(S.orders_label, has_prev=S.orders_prev, has_next=S.orders_next,
                      on_prev=S.turn_orders(-1), on_next=S.turn_orders(1)),
                spacing="3", width="100%",
            ),
            empty_state("receipt", "No orders here yet",
                        "Orders placed in the chat appear here, from pending to paid."),
        ),
        spacing="4",
        width="100%",
    )  # fmt: skip


def sales_page() -> rx.Component:
    """Products and orders, with the forms that add, import and change them."""
    section = BY_SLUG["sales"]
    tabs = rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger(
                rx.hstack("Products", rx.badge(S.product_total, variant="soft",
                                               color_scheme="gray", radius="full"),
                          align="center", spacing="2"),
                value="products",
            ),
            rx.tabs.trigger(
                rx.hstack("Orders", rx.badge(S.order_total, variant="soft", color_scheme="gray",
                                             radius="full"),
                          align="center", spacing="2"),
                value="orders",
            ),
        ),
        rx.tabs.content(_products_panel(), value="products", padding_top="1.25em"),
        rx.tabs.content(_orders_panel(), value="orders", padding_top="1.25em"),
        value=S.tab,
        on_change=S.set_tab,
        width="100%",
    )  # fmt: skip
    body = rx.box(
        _product_dialog(),
        _import_dialog(),
        _delete_dialog(),
        _order_dialog(),
        rx.cond(
            S.loaded,
            rx.cond(
                S.is_empty & (S.order_total == 0),
                empty_state(section.icon, section.empty_title, section.empty_text,
                            _product_buttons()),
                tabs,
            ),
            rx.center(rx.spinner(size="3"), padding="4em", aria_label="Loading"),
        ),
        width="100%",
    )  # fmt: skip
    return section_page("sales", body)


# --- payment providers (shown on /integrations) ----------------------------------------------


def _add_provider_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Add a payment provider"),
            rx.dialog.description(
                "Paste the keys from the provider's dashboard. They are stored encrypted and "
                "never shown again.",
                size="2", color=_MUTED, margin_bottom="1em",
            ),
            rx.form(
                rx.vstack(
                    rx.vstack(
                        rx.el.label("Provider", font_size="0.875em", font_weight="500"),
                        rx.select.root(
                            rx.select.trigger(aria_label="Provider", width="100%"),
                            rx.select.content(rx.foreach(
                                P.kinds, lambda k: rx.select.item(k.label, value=k.kind))),
                            value=P.add_kind, on_change=P.set_add_kind,
                        ),
                        spacing="1", width="100%",
                    ),
                    rx.foreach(P.add_fields, credential_input),
                    labelled_field("Currencies (optional)", "currencies", required=False,
                                   placeholder="USD, EUR — empty: all it supports"),
                    labelled_field("API base URL (optional)", "base_url", required=False,
                                   placeholder="Empty: the provider's own"),
                    rx.el.label(
                        rx.hstack(rx.checkbox(name="test_mode", default_checked=True),
                                  rx.text("Test mode (sandbox keys)", size="2"),
                                  spacing="2", align="center"),
                    ),
                    form_error(P.add_error),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                  type="button")),
                        rx.button("Save and test", type="submit"),
                        justify="end", spacing="3", width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=P.save_provider,
                reset_on_submit=True,
                key=P.add_kind,
            ),
            max_width="560px",
        ),
        open=P.add_open,
        on_open_change=P.set_add_open,
    )  # fmt: skip


def _remove_provider_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Remove this payment provider?"),
            rx.alert_dialog.description(
                P.remove_label, " will no longer be offered on payment links. Past payments "
                "stay recorded.",
                size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Remove", color_scheme="red", on_click=P.confirm_remove)
                ),
                justify="end", spacing="3", margin_top="1em",
            ),
            max_width="460px",
        ),
        open=P.remove_open,
        on_open_change=P.set_remove_open,
    )  # fmt: skip


def payment_providers_panel() -> rx.Component:
    """The Integrations page's payment providers, bound to PaymentsState (loads on mount)."""
    return payment_providers_section(
        P.providers,
        lambda row: provider_card(
            row,
            result=P.test_results.get(row.id.to(str), ""),
            ok=P.test_ok.get(row.id.to(str), False),
            testing=P.testing.contains(row.id),
            on_test=lambda provider_id: P.test_provider(provider_id),
            on_toggle=lambda provider_id, value: P.toggle_provider(provider_id, value),
            on_remove=lambda provider_id, label: P.ask_remove(provider_id, label),
        ),
        on_add=P.open_add,
        on_mount=P.load_payments,
        dialogs=rx.fragment(_add_provider_dialog(), _remove_provider_dialog()),
    )
