"""Business hours on the Settings page: the same hours the AI rules keep (one storage)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session

from backend.ai import rules_admin
from backend.ai.rules import DAYS, RulesError, validate_hours
from backend.auth.permissions import Actor
from backend.tenants.service import BusinessError

DAY_NAMES = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                            "Saturday", "Sunday"), strict=True))  # fmt: skip
_RANGE = re.compile(r"^\s*(\d{1,2}:\d{2})\s*(?:-|\u2013|\u2014|to)\s*(\d{1,2}:\d{2})\s*$")


@dataclass(frozen=True)
class DayHours:
    """One weekday as the form shows it: open or closed, and its ranges as text."""

    day: str  # "mon"
    label: str  # "Monday"
    open: bool
    ranges: str  # "08:00-12:00, 14:00-18:00"


@dataclass(frozen=True)
class HoursView:
    """The weekly schedule, the reply sent out of hours, and the timezone the times are in."""

    days: list[DayHours]
    out_of_hours_message: str
    timezone: str
    always_open: bool


def _view(form: rules_admin.RulesForm) -> HoursView:
    days = (form.business_hours or {}).get("days") or {}
    return HoursView(
        days=[
            DayHours(
                day=day,
                label=DAY_NAMES[day],
                open=bool(days.get(day)),
                ranges=", ".join(f"{a}-{b}" for a, b in days.get(day) or []) or "09:00-17:00",
            )
            for day in DAYS
        ],
        out_of_hours_message=form.out_of_hours_message,
        timezone=form.timezone,
        always_open=not days,
    )


def get_hours(session: Session, *, actor: Actor) -> HoursView:
    """The business's weekly hours and out-of-hours reply (from its AI rules)."""
    return _view(rules_admin.get_rules(session, actor=actor))


def _pad(clock: str) -> str:
    hours, minutes = clock.split(":")
    return f"{int(hours):02d}:{minutes}"


def parse_ranges(text: str, *, day: str) -> list[list[str]]:
    """ "08:00-12:00, 14:00-18:00" as [["08:00", "12:00"], ["14:00", "18:00"]]."""
    ranges = []
    for part in (p for p in re.split(r"[,;]", text) if p.strip()):
        found = _RANGE.match(part)
        if not found:
            raise BusinessError(
                f"{DAY_NAMES[day]}: {part.strip()!r} is not a time range; write it as "
                "08:00-18:00 (several separated by commas).",
                field=f"hours_{day}",
            )
        ranges.append([_pad(found.group(1)), _pad(found.group(2))])
    if not ranges:
        raise BusinessError(
            f"{DAY_NAMES[day]} is open but has no hours; write them as 08:00-18:00 or mark the "
            "day closed.",
            field=f"hours_{day}",
        )
    return ranges


def _check_day(day: str, ranges: list[list[str]]) -> None:
    # The shared rules check one day at a time, so a failure belongs to that day's row.
    try:
        validate_hours({"days": {day: ranges}})
    except RulesError as exc:
        detail = exc.message.removeprefix(f"business_hours: {day}: ")
        raise BusinessError(f"{DAY_NAMES[day]}: {detail}", field=f"hours_{day}") from exc


def save_hours(
    session: Session,
    *,
    actor: Actor,
    open_days: Mapping[str, bool],
    ranges: Mapping[str, str],
    out_of_hours_message: str,
) -> HoursView:
    """Save which days are open, their hours and the out-of-hours reply; BusinessError's field
    names the bad day ("hours_mon") or "out_of_hours_message"."""
    days = {
        day: parse_ranges(ranges.get(day, ""), day=day) if open_days.get(day) else []
        for day in DAYS
    }
    for day, day_ranges in days.items():
        _check_day(day, day_ranges)
    try:
        form = rules_admin.update_business_hours(
            session, actor=actor, days=days, out_of_hours_message=out_of_hours_message
        )
    except rules_admin.RulesError as exc:
        # Every day passed above, so what is left is the reply (or the hours as a whole).
        field = "out_of_hours_message" if exc.field == "out_of_hours_message" else "hours"
        raise BusinessError(exc.message, field=field) from exc
    return _view(form)
