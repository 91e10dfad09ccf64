"""The business's AI rules as plain data: validation, business hours and keyword matching."""

from __future__ import annotations

import functools
import re
import unicodedata
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_THRESHOLD = 0.55
MAX_LIST_ITEMS = 100
MAX_PHRASE_CHARS = 100
MAX_INSTRUCTIONS_CHARS = 4000
MAX_MESSAGE_CHARS = 1000
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


class RulesError(ValueError):
    """Bad input for the AI rules; `field` names the form field."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class RulesView:
    """A business's AI rules once loaded, plus the business facts the engine needs with them."""

    business_id: int
    tone: str = "friendly"
    persona_name: str = "Assistant"
    greeting: str | None = None
    fallback_message: str | None = None
    confidence_threshold: float = DEFAULT_THRESHOLD
    handoff_keywords: list[str] = field(default_factory=list)
    blocked_topics: list[str] = field(default_factory=list)
    business_hours: dict[str, Any] = field(default_factory=dict)
    out_of_hours_message: str | None = None
    languages: list[str] = field(default_factory=list)
    use_llm: bool = True
    extra_instructions: str | None = None
    max_ai_turns: int = 8
    monthly_token_budget: int | None = None
    # Read-only context from the business's profile.
    business_name: str = ""
    default_language: str = "en"
    timezone: str = "UTC"


# Fields the AI Rules page may change, each with its normaliser below.
EDITABLE_FIELDS = (
    "tone",
    "persona_name",
    "greeting",
    "fallback_message",
    "confidence_threshold",
    "handoff_keywords",
    "blocked_topics",
    "business_hours",
    "out_of_hours_message",
    "languages",
    "use_llm",
    "extra_instructions",
    "max_ai_turns",
    "monthly_token_budget",
)


def _text(value: Any, name: str, *, limit: int, required: bool = False) -> str | None:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise RulesError(f"{name} must be text.", field=name)
    value = value.strip()
    if required and not value:
        raise RulesError(f"Enter a value for {name}.", field=name)
    if len(value) > limit:
        raise RulesError(f"Keep {name} under {limit} characters.", field=name)
    return value or None


def _phrases(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        # The page's textarea sends one phrase per line or comma-separated phrases.
        value = re.split(r"[,\n]", value)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise RulesError(f"{name} must be a list of words or phrases.", field=name)
    seen: dict[str, str] = {}
    for item in (v.strip() for v in value):
        if not item:
            continue
        if len(item) > MAX_PHRASE_CHARS:
            raise RulesError(
                f"{name}: keep each entry under {MAX_PHRASE_CHARS} characters ({item[:30]!r}…).",
                field=name,
            )
        seen.setdefault(normalize(item), item)
    if len(seen) > MAX_LIST_ITEMS:
        raise RulesError(f"{name}: at most {MAX_LIST_ITEMS} entries.", field=name)
    return list(seen.values())


def _threshold(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not 0.0 <= number <= 1.0:
        raise RulesError(
            f"confidence_threshold must be a number from 0 to 1 (got {value!r}); "
            f"{DEFAULT_THRESHOLD} is the default.",
            field="confidence_threshold",
        )
    return number


def _whole(value: Any, name: str, *, low: int, high: int | None, optional: bool) -> int | None:
    if value is None or value == "":
        if optional:
            return None
        raise RulesError(f"Enter a whole number for {name}.", field=name)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise RulesError(f"{name} must be a whole number.", field=name)
    try:
        number = int(value)
    except ValueError:
        raise RulesError(f"{name} must be a whole number (got {value!r}).", field=name) from None
    if number < low or (high is not None and number > high):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise RulesError(f"{name} must be a number {bound} (got {number}).", field=name)
    return number


def _languages(value: Any) -> list[str]:
    codes = [code.lower() for code in _phrases(value, "languages")]
    for code in codes:
        if not re.fullmatch(r"[a-z]{2}", code):
            raise RulesError(
                f"languages: {code!r} is not a two-letter code such as en, fr or sw.",
                field="languages",
            )
    return codes


def _parse_time(value: Any, where: str) -> time:
    if not isinstance(value, str) or not _TIME.match(value):
        raise RulesError(
            f"business_hours: {where}: {value!r} is not a time; use HH:MM such as 08:00.",
            field="business_hours",
        )
    if value == "24:00":
        return time.max
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def validate_hours(value: Any) -> dict[str, Any]:
    """Check a business-hours object; `{}` means always open."""
    if value in (None, "", {}):
        return {}
    example = '{"timezone": "Africa/Nairobi", "days": {"mon": [["08:00", "18:00"]]}}'
    if not isinstance(value, Mapping):
        raise RulesError(f"business_hours must look like {example}.", field="business_hours")
    unknown = set(value) - {"timezone", "days"}
    if unknown:
        raise RulesError(
            f"business_hours: unknown key {sorted(unknown)[0]!r}; use {example}.",
            field="business_hours",
        )
    hours: dict[str, Any] = {}
    tz = value.get("timezone")
    if tz:
        if not isinstance(tz, str) or tz not in zoneinfo.available_timezones():
            raise RulesError(
                f"business_hours: unknown timezone {tz!r}; use an IANA name such as "
                "Africa/Nairobi.",
                field="business_hours",
            )
        hours["timezone"] = tz
    days = value.get("days") or {}
    if not isinstance(days, Mapping):
        raise RulesError(f"business_hours: days must look like {example}.", field="business_hours")
    clean_days: dict[str, list[list[str]]] = {}
    for day, ranges in days.items():
        if day not in DAYS:
            raise RulesError(
                f"business_hours: {day!r} is not a day; use {', '.join(DAYS)}.",
                field="business_hours",
            )
        if not isinstance(ranges, list):
            raise RulesError(
                f'business_hours: {day} must be a list of ["HH:MM", "HH:MM"] ranges.',
                field="business_hours",
            )
        clean: list[list[str]] = []
        for item in ranges:
            if not (isinstance(item, (list, tuple)) and len(item) == 2):
                raise RulesError(
                    f'business_hours: {day}: each range is ["HH:MM", "HH:MM"] (got {item!r}).',
                    field="business_hours",
                )
            start, end = _parse_time(item[0], day), _parse_time(item[1], day)
            if start >= end:
                raise RulesError(
                    f"business_hours: {day}: {item[0]} to {item[1]} ends before it starts; split "
                    "hours past midnight into two days.",
                    field="business_hours",
                )
            clean.append([item[0], item[1]])
        clean_days[day] = clean
    hours["days"] = clean_days
    return hours


def validate(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise the changed fields of the rules, raising RulesError naming the bad one."""
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS:
            raise RulesError(f"{name} is not an AI rule that can be changed.", field=name)
        if name == "tone":
            clean[name] = _text(value, name, limit=32, required=True)
        elif name == "persona_name":
            clean[name] = _text(value, name, limit=80, required=True)
        elif name in ("greeting", "fallback_message", "out_of_hours_message"):
            clean[name] = _text(value, name, limit=MAX_MESSAGE_CHARS)
        elif name == "extra_instructions":
            clean[name] = _text(value, name, limit=MAX_INSTRUCTIONS_CHARS)
        elif name == "confidence_threshold":
            clean[name] = _threshold(value)
        elif name in ("handoff_keywords", "blocked_topics"):
            clean[name] = _phrases(value, name)
        elif name == "business_hours":
            clean[name] = validate_hours(value)
        elif name == "languages":
            clean[name] = _languages(value)
        elif name == "use_llm":
            if not isinstance(value, bool):
                raise RulesError("use_llm must be true or false.", field=name)
            clean[name] = value
        elif name == "max_ai_turns":
            clean[name] = _whole(value, name, low=0, high=100, optional=False)
        elif name == "monthly_token_budget":
            clean[name] = _whole(value, name, low=0, high=None, optional=True)
    return clean


# --- evaluating the rules -----------------------------------------------------------------


def is_open(rules: RulesView, now: datetime | None) -> bool:
    """Whether `now` falls in the business hours (always, when no hours are set)."""
    hours = rules.business_hours
    if not hours or not hours.get("days"):
        return True
    try:
        tz = zoneinfo.ZoneInfo(hours.get("timezone") or rules.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    local = now.astimezone(tz)
    today = DAYS[local.weekday()]
    clock = local.time().replace(tzinfo=None)
    for start, end in hours["days"].get(today, []):
        if _parse_time(start, today) <= clock < _parse_time(end, today):
            return True
    return False


@functools.lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """Text folded for matching: lower case, no accents, words separated by single spaces.

    Cached: the phrase lists (hundreds of handoff phrases in many languages) are folded once
    per process, not once per customer message."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(re.findall(r"\w+", folded))


@functools.lru_cache(maxsize=8192)
def _unspaced(text: str) -> bool:
    # Chinese, Japanese and Thai write words without spaces, so match inside words there.
    return any(
        "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" or "\u0e00" <= ch <= "\u0e7f"
        for ch in text
    )


def find_phrase(text: str, phrases: Iterable[str]) -> str | None:
    """The first of `phrases` that `text` contains as whole words (case and accents ignored)."""
    haystack = f" {normalize(text)} "
    for phrase in phrases:
        needle = normalize(phrase)
        if not needle:
            continue
        if _unspaced(needle):
            if needle.replace(" ", "") in haystack.replace(" ", ""):
                return phrase
        elif f" {needle} " in haystack:
            return phrase
    return None


def handoff_keyword(rules: RulesView, text: str) -> str | None:
    """The business's always-hand-over keyword that `text` contains, if any."""
    return find_phrase(text, rules.handoff_keywords)


def _stem(word: str) -> str:
    # Topics are nouns: "politics" should also catch "political", "weapons" "weapon".
    return word if len(word) <= 5 else word[:-2]


def blocked_topic(rules: RulesView, text: str) -> str | None:
    """The business's forbidden topic that `text` mentions, if any (word stems match)."""
    words = normalize(text).split()
    for topic in rules.blocked_topics:
        stems = [_stem(w) for w in normalize(topic).split()]
        if not stems:
            continue
        if _unspaced(topic):
            if find_phrase(text, [topic]):
                return topic
            continue
        for i in range(len(words) - len(stems) + 1):
            if all(words[i + j].startswith(stem) for j, stem in enumerate(stems)):
                return topic
    return None
