"""Pieces of the inbox and the handoff board: rows, badges, chat bubbles, contact card, agents."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

_MUTED = rx.color("gray", 11)
_BORDER = f"1px solid {rx.color('gray', 5)}"
_ONE_LINE = {"overflow": "hidden", "text_overflow": "ellipsis", "white_space": "nowrap"}

STATUS_COLORS = {"ai": "violet", "waiting_for_agent": "amber", "human": "teal", "resolved": "gray"}
PRIORITY_COLORS = {"low": "gray", "normal": "blue", "high": "orange", "urgent": "red"}


def status_badge(status: rx.Var[str], label: rx.Var[str]) -> rx.Component:
    """AI (violet), Waiting (amber), With agent (teal) or Resolved (grey)."""
    return rx.match(
        status,
        *[
            (value, rx.badge(label, color_scheme=color, variant="soft", white_space="nowrap"))
            for value, color in STATUS_COLORS.items()
        ],
        rx.badge(label, color_scheme="gray", variant="soft"),
    )


def priority_badge(priority: rx.Var[str]) -> rx.Component:
    """Shown for high and urgent conversations only."""
    return rx.match(
        priority,
        ("high", rx.badge("High", color_scheme="orange", variant="surface")),
        ("urgent", rx.badge(rx.icon("flame", size=12), "Urgent", color_scheme="red")),
        rx.fragment(),
    )


def channel_tag(icon: rx.Var[str], label: rx.Var[str]) -> rx.Component:
    """The channel's icon and name, small."""
    return rx.hstack(
        rx.match(
            icon,
            *[
                (name, rx.icon(name, size=12))
                for name in ("message-circle", "send", "camera", "messages-square", "globe")
            ],
            rx.icon("message-square", size=12),
        ),
        rx.text(label, size="1"),
        spacing="1",
        align="center",
        color=_MUTED,
        white_space="nowrap",
    )


def sla_tag(state: rx.Var[str], label: rx.Var[str]) -> rx.Component:
    """Time left on the nearest SLA deadline, coloured by urgency."""
    return rx.cond(
        label != "",
        rx.badge(
            rx.icon("timer", size=12),
            label,
            color_scheme=rx.match(state, ("breached", "red"), ("warning", "amber"), "gray"),
            variant=rx.cond(state == "breached", "solid", "soft"),
            white_space="nowrap",
            custom_attrs={"data-testid": "sla"},
        ),
    )


def label_chips(labels: rx.Var[list[str]]) -> rx.Component:
    """A conversation's labels as small chips."""
    return rx.foreach(
        labels,
        lambda label: rx.badge(label, variant="outline", color_scheme="gray", radius="full"),
    )


def conversation_row(
    item: rx.Var, *, selected: rx.Var[bool], on_open: rx.event.EventSpec
) -> rx.Component:
    """One conversation in the list: who, where, what was said last, when, and its state."""
    unread = item.unread > 0
    return rx.box(
        rx.hstack(
            rx.avatar(fallback=item.initial, size="3", radius="full", variant="soft"),
            rx.vstack(
                rx.hstack(
                    rx.text(
                        item.contact_name,
                        weight=rx.cond(unread, "bold", "medium"),
                        size="2",
                        flex="1",
                        min_width="0",
                        style=_ONE_LINE,
                        custom_attrs={"data-testid": "contact-name"},
                    ),
                    rx.tooltip(
                        rx.text(item.when, size="1", color=_MUTED, white_space="nowrap"),
                        content=item.when_full,
                    ),
                    width="100%",
                    align="center",
                    spacing="2",
                ),
                rx.hstack(
                    rx.text(
                        item.preview_prefix,
                        item.preview,
                        size="2",
                        color=rx.cond(unread, rx.color("gray", 12), _MUTED),
                        flex="1",
                        min_width="0",
                        style=_ONE_LINE,
                        custom_attrs={"data-testid": "preview"},
                    ),
                    rx.cond(
                        unread,
                        rx.badge(
                            item.unread,
                            variant="solid",
                            radius="full",
                            aria_label="unread messages",
                            custom_attrs={"data-testid": "unread"},
                        ),
                    ),
                    width="100%",
                    align="center",
                    spacing="2",
                ),
                rx.hstack(
                    channel_tag(item.channel_icon, item.channel_label),
                    status_badge(item.status, item.status_label),
                    priority_badge(item.priority),
                    rx.cond(
                        item.assignee_name != "",
                        rx.text(
                            rx.icon("user", size=11),
                            " ",
                            item.assignee_name,
                            size="1",
                            color=_MUTED,
                            style=_ONE_LINE,
                            max_width="9em",
                        ),
                    ),
                    sla_tag(item.sla_state, item.sla_label),
                    label_chips(item.labels),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                spacing="1",
                flex="1",
                min_width="0",
            ),
            spacing="3",
            align="start",
            width="100%",
        ),
        on_click=on_open,
        role="button",
        tab_index=0,
        aria_current=rx.cond(selected, "true", None),
        padding="0.75em",
        border_bottom=_BORDER,
        cursor="pointer",
        background=rx.cond(selected, rx.color("accent", 3), "transparent"),
        _hover={"background": rx.color("accent", 2)},
        custom_attrs={"data-testid": "conversation-row", "data-conversation-id": item.id},
    )


def _sources(sources: rx.Var[list]) -> rx.Component:
    def source(s: rx.Var) -> rx.Component:
        return rx.vstack(
            rx.hstack(
                rx.icon("book-open", size=13),
                rx.text(s.title, weight="medium", size="2"),
                rx.cond(~s.available, rx.badge("edited or deleted since", color_scheme="gray")),
                align="center",
                spacing="2",
            ),
            rx.cond(s.question != "", rx.text(rx.text.strong("Q: "), s.question, size="2")),
            rx.cond(s.excerpt != "", rx.text(s.excerpt, size="1", color=_MUTED)),
            spacing="1",
            padding_bottom="0.5em",
            border_bottom=_BORDER,
            width="100%",
        )

    return rx.popover.root(
        rx.popover.trigger(
            rx.button(
                rx.icon("book-open", size=12),
                "Knowledge used (", sources.length(), ")",
                size="1", variant="ghost", color_scheme="violet",
            ),
        ),
        rx.popover.content(
            rx.vstack(
                rx.text("Passages this reply was based on", weight="bold", size="2"),
                rx.foreach(sources, source),
                spacing="2",
                max_height="360px",
                overflow_y="auto",
            ),
            max_width="420px",
        ),
    )  # fmt: skip


def delivery_tag(status: rx.Var[str], label: rx.Var[str], error: rx.Var[str]) -> rx.Component:
    """Queued, sent, delivered, read, or failed with the channel's reason."""
    icon = rx.match(
        status,
        ("queued", rx.icon("clock", size=12)),
        ("sent", rx.icon("check", size=12)),
        ("delivered", rx.icon("check-check", size=12)),
        ("read", rx.icon("check-check", size=12, color=rx.color("blue", 10))),
        ("failed", rx.icon("circle-alert", size=12, color=rx.color("red", 10))),
        rx.fragment(),
    )
    return rx.cond(
        status != "",
        rx.vstack(
            rx.hstack(
                icon,
                rx.text(label, size="1"),
                spacing="1",
                align="center",
                color=rx.cond(status == "failed", rx.color("red", 11), _MUTED),
                custom_attrs={"data-testid": "delivery"},
            ),
            rx.cond(
                (status == "failed") & (error != ""),
                rx.text(error, size="1", color=rx.color("red", 11), role="alert"),
            ),
            spacing="0",
            align="end",
        ),
    )


def _file_line(a: rx.Var, icon: str) -> rx.Component:
    return rx.hstack(
        rx.icon(icon, size=14),
        rx.text(a.filename, size="2", weight="medium", word_break="break-all"),
        rx.cond(a.size_label != "", rx.text(a.size_label, size="1", color=_MUTED)),
        spacing="2",
        align="center",
    )


def attachment_view(a: rx.Var) -> rx.Component:
    """A message's file, place or contact: images as thumbnails (click opens), audio and video
    with a player, documents as a download link, places as a map link."""
    stored = rx.match(
        a.kind,
        ("image", rx.link(
            rx.image(src=a.url, alt=a.filename, max_width="240px", max_height="240px",
                     border_radius="8px", object_fit="cover", loading="lazy"),
            href=a.url, is_external=True, aria_label=rx.Var.create("Open image ") + a.filename,
        )),
        ("audio", rx.el.audio(src=a.url, controls=True, preload="none",
                              aria_label=a.filename, style={"maxWidth": "260px"})),
        ("video", rx.el.video(src=a.url, controls=True, preload="metadata",
                              aria_label=a.filename, style={"maxWidth": "260px"})),
        rx.link(_file_line(a, "file-down"), href=a.url, is_external=True,
                custom_attrs={"download": a.filename}),
    )  # fmt: skip
    place = rx.cond(
        a.map_url != "",
        rx.link(
            rx.hstack(rx.icon("map-pin", size=14),
                      rx.text(rx.cond(a.title != "", a.title, "Location"), size="2"),
                      rx.text("Open map", size="1", color=_MUTED),
                      spacing="2", align="center"),
            href=a.map_url, is_external=True,
        ),
        rx.hstack(rx.icon("map-pin", size=14), rx.text(a.title, size="2"), spacing="2"),
    )  # fmt: skip
    person = rx.hstack(
        rx.icon("contact", size=14),
        rx.text(a.title, size="2", weight="medium"),
        rx.cond(a.detail != "", rx.text(a.detail, size="2")),
        spacing="2",
        align="center",
        wrap="wrap",
    )
    shown = rx.match(
        a.kind,
        ("location", place),
        ("contact", person),
        rx.match(
            a.status,
            ("stored", stored),
            ("link", rx.link(_file_line(a, "link"), href=a.url, is_external=True)),
            ("failed", rx.hstack(
                rx.icon("file-x", size=14, color=rx.color("red", 10)),
                rx.text("File not received: ", a.error, size="1", color=rx.color("red", 11)),
                spacing="2", align="center",
            )),
            rx.hstack(rx.spinner(size="1"), rx.text("Receiving the file…", size="1"),
                      spacing="2", align="center", color=_MUTED),
        ),
    )  # fmt: skip
    return rx.box(
        shown,
        custom_attrs={"data-testid": "attachment", "data-kind": a.kind, "data-status": a.status},
    )


def message_bubble(m: rx.Var) -> rx.Component:
    """One message: customer on the left; AI, agents and notes on the right; system centred."""
    bubble_bg = rx.match(
        m.kind,
        ("customer", rx.color("gray", 3)),
        ("ai", rx.color("violet", 3)),
        ("agent", rx.color("accent", 4)),
        ("note", rx.color("amber", 3)),
        rx.color("gray", 2),
    )
    header = rx.hstack(
        rx.match(
            m.kind,
            ("ai", rx.icon("bot", size=13)),
            ("note", rx.icon("lock", size=13)),
            ("agent", rx.icon("headset", size=13)),
            rx.icon("user", size=13),
        ),
        rx.text(
            rx.cond(m.kind == "note", rx.fragment(m.sender_name, " · private note"),
                    m.sender_name),
            size="1", weight="medium",
        ),
        rx.tooltip(rx.text(m.time, size="1", color=_MUTED), content=m.time_full),
        rx.cond(
            m.confidence_pct >= 0,
            rx.badge("Confidence ", m.confidence_pct, "%",
                     color_scheme=rx.cond(m.confidence_pct >= 60, "violet", "amber"),
                     variant="soft", size="1"),
        ),
        spacing="2",
        align="center",
        wrap="wrap",
    )  # fmt: skip
    body = rx.vstack(
        header,
        rx.cond(m.attachments.length() > 0, rx.foreach(m.attachments, attachment_view)),
        rx.cond(
            (m.text != "") | (m.attachments.length() == 0),
            rx.text(
                m.text,
                size="2",
                white_space="pre-wrap",
                word_break="break-word",
                custom_attrs={"data-testid": "message-text"},
            ),
        ),
        rx.cond(
            m.translation != "",
            rx.box(
                rx.text(rx.icon("languages", size=12), " Translation", size="1", color=_MUTED),
                rx.text(m.translation, size="2", white_space="pre-wrap",
                        custom_attrs={"data-testid": "translation"}),
                border_left=f"2px solid {rx.color('accent', 7)}",
                padding_left="0.5em",
            ),
        ),
        rx.cond(m.sources.length() > 0, _sources(m.sources)),
        delivery_tag(m.delivery_status, m.delivery_label, m.error),
        rx.cond(
            (m.kind == "customer") & (m.error != ""),
            rx.text(m.error, size="1", color=rx.color("red", 11)),
        ),
        spacing="1",
        padding="0.6em 0.8em",
        border_radius="12px",
        background=bubble_bg,
        border=rx.cond(m.kind == "note", f"1px dashed {rx.color('amber', 8)}", "none"),
        max_width="100%",
        align=rx.cond(m.kind == "customer", "start", "end"),
    )  # fmt: skip
    reaction_badge = rx.cond(
        m.reaction != "",
        rx.tooltip(
            rx.badge(m.reaction, variant="surface", radius="full", size="2",
                     custom_attrs={"data-testid": "reaction"}),
            content="The customer's reaction",
        ),
    )  # fmt: skip
    reacted = rx.center(
        rx.text(
            m.sender_name,
            rx.cond(m.text == "Removed their reaction", " removed their reaction",
                    rx.fragment(" reacted ", m.text)),
            " · ", m.time,
            size="1", color=_MUTED, text_align="center",
        ),
        width="100%",
        custom_attrs={"data-testid": "message", "data-sender": "reaction"},
    )  # fmt: skip
    return rx.cond(
        m.kind == "system",
        rx.center(
            rx.text(m.text, size="1", color=_MUTED, text_align="center"),
            width="100%",
            custom_attrs={"data-testid": "message", "data-sender": m.kind},
        ),
        rx.cond(
            m.content_type == "reaction",
            reacted,
            rx.flex(
                rx.vstack(body, reaction_badge, spacing="0",
                          align=rx.cond(m.kind == "customer", "start", "end"), max_width="78%"),
                justify=rx.cond(m.kind == "customer", "start", "end"),
                width="100%",
                custom_attrs={"data-testid": "message", "data-sender": m.kind},
            ),
        ),
    )  # fmt: skip


def _field(icon: str, value: rx.Var[str], label: str) -> rx.Component:
    return rx.cond(
        value != "",
        rx.hstack(
            rx.icon(icon, size=14, color=_MUTED),
            rx.text(value, size="2", word_break="break-all"),
            spacing="2",
            align="center",
            aria_label=label,
        ),
    )


def broadcasts_switch(contact: rx.Var, opted_out: rx.Var, on_change) -> rx.Component:
    """Whether the contact receives broadcasts: a switch agents flip (STOP / START by hand).

    `opted_out` is the card's own field (`contact.opted_out`), so a customer's STOP shows
    while the card is open.
    """
    return rx.hstack(
        rx.switch(checked=~opted_out, on_change=on_change, aria_label="Receives broadcasts",
                  key=contact.id, size="1"),
        rx.text(rx.cond(opted_out, "Opted out of broadcasts", "Receives broadcasts"), size="1",
                color=_MUTED, data_testid="contact-broadcasts"),
        spacing="2", align="center",
    )  # fmt: skip


def contact_card(
    contact: rx.Var,
    on_open_past: Callable[[rx.Var], rx.event.EventSpec],
    broadcasts: rx.Component | None = None,
):
    """Who the customer is: details, channel identities, lead, other conversations (and,
    when given, the broadcasts_switch)."""
    return rx.vstack(
        rx.hstack(
            rx.avatar(fallback=contact.initial, size="4", radius="full"),
            rx.vstack(
                rx.heading(contact.name, size="3", as_="h3"),
                rx.cond(contact.language != "",
                        rx.text("Language: ", contact.language, size="1", color=_MUTED)),
                spacing="0",
            ),
            spacing="3",
            align="center",
        ),
        _field("mail", contact.email, "Email"),
        _field("phone", contact.phone, "Phone"),
        broadcasts if broadcasts is not None else rx.fragment(),
        rx.divider(),
        rx.text("Channels", size="1", weight="bold", color=_MUTED),
        rx.foreach(
            contact.identities,
            lambda i: rx.vstack(
                rx.text(i.channel_label, " · ", i.channel_name, size="1", weight="medium"),
                rx.text(i.external_user_id, size="1", color=_MUTED, word_break="break-all"),
                spacing="0",
            ),
        ),
        rx.divider(),
        rx.text("Lead", size="1", weight="bold", color=_MUTED),
        rx.cond(
            contact.lead_stage != "",
            rx.vstack(
                rx.badge(contact.lead_stage, color_scheme="grass"),
                rx.cond(contact.lead_detail != "", rx.text(contact.lead_detail, size="1")),
                spacing="1",
            ),
            rx.text("No lead yet", size="1", color=_MUTED),
        ),
        rx.divider(),
        rx.text("Orders", size="1", weight="bold", color=_MUTED),
        rx.cond(
            contact.orders.length() > 0,
            rx.foreach(
                contact.orders,
                lambda o: rx.link(
                    rx.hstack(
                        rx.text("#", o.number, size="1", weight="medium"),
                        rx.text(o.total, size="1"),
                        rx.spacer(),
                        rx.text(o.status_label, " · ", o.when, size="1", color=_MUTED),
                        width="100%",
                    ),
                    href="/sales",
                    underline="none",
                    width="100%",
                    custom_attrs={"data-testid": "contact-order"},
                ),
            ),
            rx.text("None", size="1", color=_MUTED),
        ),
        rx.divider(),
        rx.text("Past conversations", size="1", weight="bold", color=_MUTED),
        rx.cond(
            contact.past.length() > 0,
            rx.foreach(
                contact.past,
                lambda p: rx.box(
                    rx.hstack(
                        rx.text("#", p.id, size="1", weight="medium"),
                        rx.text(p.status_label, " · ", p.channel_label, size="1", color=_MUTED),
                        rx.spacer(),
                        rx.text(p.when, size="1", color=_MUTED),
                        width="100%",
                    ),
                    rx.text(p.preview, size="1", style=_ONE_LINE),
                    on_click=on_open_past(p.id),
                    cursor="pointer",
                    width="100%",
                    padding="0.25em 0",
                    _hover={"background": rx.color("accent", 2)},
                ),
            ),
            rx.text("None", size="1", color=_MUTED),
        ),
        spacing="2",
        width="100%",
        align="start",
        aria_label="Contact",
    )  # fmt: skip


def contact_match(m: rx.Var, on_merge: Callable[[rx.Var], rx.event.EventSpec]) -> rx.Component:
    """Another contact that may be the same person, with a button to merge it in."""
    return rx.hstack(
        rx.vstack(
            rx.text(m.name, size="2", weight="medium"),
            rx.cond(m.detail != "", rx.text(m.detail, size="1", word_break="break-all")),
            rx.text(m.channels, size="1", color=_MUTED),
            rx.cond(m.reason != "", rx.badge(m.reason, color_scheme="amber", size="1")),
            spacing="0",
            min_width="0",
            flex="1",
        ),
        rx.button("Merge", size="1", variant="soft", on_click=on_merge(m.id),
                  aria_label=rx.Var.create("Merge ") + m.name + " into this contact"),
        width="100%",
        align="center",
        padding="0.35em 0",
        custom_attrs={"data-testid": "contact-match"},
    )  # fmt: skip


def board_card(item: rx.Var) -> rx.Component:
    """A conversation on the handoff board, linking to it in the inbox."""
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.avatar(fallback=item.initial, size="2", radius="full", variant="soft"),
                    rx.text(item.contact_name, weight="medium", size="2", flex="1",
                            min_width="0", style=_ONE_LINE),
                    priority_badge(item.priority),
                    align="center",
                    width="100%",
                ),
                rx.text(item.preview, size="1", color=_MUTED, style=_ONE_LINE, width="100%"),
                rx.hstack(
                    channel_tag(item.channel_icon, item.channel_label),
                    status_badge(item.status, item.status_label),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.cond(item.handoff_reason != "",
                        rx.text(item.handoff_reason, " · ", item.waiting_label, size="1",
                                color=_MUTED)),
                rx.hstack(
                    rx.cond(
                        item.assignee_name != "",
                        rx.text(rx.icon("user", size=11), " ", item.assignee_name, size="1"),
                        rx.text("Unassigned", size="1", color=_MUTED),
                    ),
                    sla_tag(item.sla_state, item.sla_label),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                spacing="1",
                width="100%",
            ),
            width="100%",
            size="1",
        ),
        href="/conversations?c=" + item.id.to_string(),
        underline="none",
        color="inherit",
        width="100%",
        custom_attrs={"data-testid": "board-card", "data-conversation-id": item.id},
    )  # fmt: skip


def board_column(
    title: str, icon: str, color: str, items: rx.Var[list], empty: str, testid: str
) -> rx.Component:
    """One column of the board with its count."""
    return rx.vstack(
        rx.hstack(
            rx.icon(icon, size=16, color=rx.color(color, 10)),
            rx.heading(title, size="3", as_="h2"),
            rx.badge(items.length(), color_scheme=color, radius="full"),
            align="center",
            spacing="2",
        ),
        rx.cond(
            items.length() > 0,
            rx.vstack(rx.foreach(items, board_card), spacing="2", width="100%",
                      max_height="calc(100vh - 320px)", min_height="120px", overflow_y="auto",
                      padding_right="2px"),
            rx.center(rx.text(empty, size="2", color=_MUTED), padding="2em 1em", width="100%",
                      border=f"1px dashed {rx.color('gray', 6)}", border_radius="10px"),
        ),
        spacing="3",
        width="100%",
        padding="0.75em",
        background=rx.color("gray", 2),
        border_radius="12px",
        min_height="200px",
        custom_attrs={"data-testid": testid},
    )  # fmt: skip


def presence_dot(availability: rx.Var[str]) -> rx.Component:
    """Green when online, grey when away."""
    return rx.box(
        width="9px",
        height="9px",
        border_radius="50%",
        background=rx.cond(availability == "online", rx.color("grass", 9), rx.color("gray", 8)),
        title=availability,
    )


def agent_card(agent: rx.Var, capacity_editor: rx.Component | None = None) -> rx.Component:
    """An agent: presence, role, load against capacity (and its editor for managers)."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.avatar(fallback=agent.initial, size="2", radius="full"),
                rx.vstack(
                    rx.hstack(
                        rx.text(agent.name, weight="medium", size="2"),
                        rx.cond(agent.is_me, rx.badge("you", variant="soft")),
                        spacing="2",
                        align="center",
                    ),
                    rx.hstack(presence_dot(agent.availability),
                              rx.text(agent.availability, " · ", agent.role, size="1",
                                      color=_MUTED),
                              spacing="1", align="center"),
                    spacing="0",
                ),
                spacing="2",
                align="center",
            ),
            rx.hstack(
                rx.progress(value=agent.load_pct, size="1", flex="1",
                            color_scheme=rx.cond(agent.has_capacity, "teal", "red")),
                rx.text(agent.open, " / ", agent.capacity, size="1", white_space="nowrap"),
                width="100%",
                align="center",
                spacing="2",
            ),
            capacity_editor if capacity_editor is not None else rx.fragment(),
            spacing="2",
            width="100%",
        ),
        size="1",
        width="100%",
        custom_attrs={"data-testid": "agent"},
    )  # fmt: skip
