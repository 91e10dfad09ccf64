"""Charts of the dashboard, drawn with Reflex's recharts components."""

from __future__ import annotations

import reflex as rx

# The channel kinds and the colour each one has in every chart.
CHANNEL_COLORS: list[tuple[str, str, str]] = [
    ("widget", "Website chat", "orange"),
    ("whatsapp", "WhatsApp", "grass"),
    ("telegram", "Telegram", "sky"),
    ("instagram", "Instagram", "crimson"),
    ("messenger", "Messenger", "indigo"),
    ("other", "Other", "gray"),
]


def conversations_per_day(data: rx.Var, *, label: str = "Conversations per day") -> rx.Component:
    """A stacked bar chart: one bar per day, one colour per channel (`data` rows: day + kinds)."""
    return rx.box(
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
            rx.recharts.x_axis(data_key="day", min_tick_gap=16),
            rx.recharts.y_axis(allow_decimals=False, width=32),
            rx.recharts.graphing_tooltip(),
            rx.recharts.legend(),
            *[
                rx.recharts.bar(
                    data_key=kind, name=name, stack_id="channels", fill=rx.color(color, 9),
                    is_animation_active=False,
                )
                for kind, name, color in CHANNEL_COLORS
            ],
            data=data,
            width="100%",
            height=280,
        ),
        role="img",
        aria_label=label,
        width="100%",
    )  # fmt: skip


def horizontal_bars(data: rx.Var, *, name_key: str, value_key: str, label: str) -> rx.Component:
    """A horizontal bar chart of counts by name (handoff reasons and the like)."""
    return rx.box(
        rx.recharts.bar_chart(
            rx.recharts.x_axis(type_="number", allow_decimals=False),
            rx.recharts.y_axis(data_key=name_key, type_="category", width=170),
            rx.recharts.graphing_tooltip(),
            rx.recharts.bar(data_key=value_key, name="Handoffs", fill=rx.color("accent", 9),
                            is_animation_active=False),
            data=data,
            layout="vertical",
            width="100%",
            height=220,
        ),
        role="img",
        aria_label=label,
        width="100%",
    )  # fmt: skip
