"""The AI Rules page's services: read and save the rules, and try them on a message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from backend.ai import engine, llm, retrieval, usage
from backend.ai import repository as repo
from backend.ai import service as ai_service
from backend.ai.rules import (
    RulesError,
    RulesView,
    blocked_topic,
    handoff_keyword,
    is_open,
    validate,
)
from backend.ai.schemas import Action, EngineInput, HandoffReason, Turn
from backend.auth.permissions import Actor, Permission
from backend.knowledge.schemas import RetrievedChunk
from backend.models.ai import AIRule
from backend.onboarding import service as onboarding
from backend.security import service as audit

__all__ = [
    "RulesError",
    "RulesForm",
    "TryResult",
    "TrySource",
    "get_rules",
    "save_rules",
    "try_message",
    "update_business_hours",
]

MAX_TRY_CHARS = 2000
MAX_TRY_HISTORY = 20
SNIPPET_CHARS = 160
_ROLES = ("customer", "assistant")


@dataclass(frozen=True)
class RulesForm:
    """The business's AI rules as the page shows them, with what the page needs around them."""

    tone: str
    persona_name: str
    greeting: str
    fallback_message: str
    confidence_threshold: float
    handoff_keywords: list[str]
    blocked_topics: list[str]
    business_hours: dict[str, Any]
    out_of_hours_message: str
    languages: list[str]
    use_llm: bool
    extra_instructions: str
    max_ai_turns: int
    monthly_token_budget: int | None
    timezone: str  # the hours' own timezone, else the business's
    default_language: str
    can_edit: bool  # owners and admins; agents and viewers only read
    llm_configured: bool  # use_llm has no effect without an LLM endpoint
    saved: bool  # False while the business still runs on the defaults


@dataclass(frozen=True)
class TrySource:
    """A knowledge passage the engine used (or looked at) for a tried message."""

    chunk_id: int
    title: str
    snippet: str
    similarity: float


@dataclass(frozen=True)
class TryResult:
    """What the assistant would do with a tried message, and why."""

    reply: str
    language: str
    confidence: float
    action: str  # "answer" or "handoff"
    reason: str  # the HandoffReason value, "" for an answer
    explanation: str  # "Would hand over: handoff keyword 'refund'"
    sources: list[TrySource] = field(default_factory=list)
    quick_replies: list[str] = field(default_factory=list)
    open_now: bool = True
    used_llm: bool = False


def _form(
    rule: AIRule, *, timezone: str, default_language: str, actor: Actor, saved: bool
) -> RulesForm:
    hours = dict(rule.business_hours or {})
    return RulesForm(
        tone=rule.tone,
        persona_name=rule.persona_name,
        greeting=rule.greeting or "",
        fallback_message=rule.fallback_message or "",
        confidence_threshold=float(rule.confidence_threshold),
        handoff_keywords=[str(k) for k in rule.handoff_keywords or []],
        blocked_topics=[str(t) for t in rule.blocked_topics or []],
        business_hours=hours,
        out_of_hours_message=rule.out_of_hours_message or "",
        languages=[str(code) for code in rule.languages or []],
        use_llm=rule.use_llm,
        extra_instructions=rule.extra_instructions or "",
        max_ai_turns=rule.max_ai_turns,
        monthly_token_budget=rule.monthly_token_budget,
        timezone=hours.get("timezone") or timezone,
        default_language=default_language,
        can_edit=actor.can(Permission.AI_RULES_MANAGE),
        llm_configured=llm.configured(),
        saved=saved,
    )


def get_rules(session: Session, *, actor: Actor) -> RulesForm:
    """The actor's business's AI rules (the defaults when never saved); any member may read."""
    actor.require(Permission.DASHBOARD_VIEW)
    business, rule = repo.get_business_and_rule(session, business_id=actor.business_id)
    if business is None:
        raise LookupError(f"Business {actor.business_id} does not exist.")
    saved = rule is not None
    # Reading never writes: a business without a rules row is shown the model's defaults.
    rule = rule or AIRule(business_id=actor.business_id)
    return _form(
        rule,
        timezone=business.timezone or "UTC",
        default_language=business.default_language or "en",
        actor=actor,
        saved=saved,
    )


def save_rules(session: Session, *, actor: Actor, fields: Mapping[str, Any]) -> RulesForm:
    """Change the given rules (owners and admins), leaving every field not given as stored;
    RulesError's `field` names the first bad field."""
    actor.require(Permission.AI_RULES_MANAGE)
    clean = validate(fields)
    rule = repo.ensure_rule(session, business_id=actor.business_id)
    changed = sorted(name for name, value in clean.items() if getattr(rule, name) != value)
    for name in changed:
        setattr(rule, name, clean[name])
    if changed:
        repo.save_rule(session, rule=rule)
        audit.record(
            session,
            business_id=actor.business_id,
            action="ai_rules.updated",
            actor_user_id=actor.user_id or None,
            target_type="ai_rule",
            target_id=rule.id,
            details={"fields": changed},
        )
    onboarding.record_step(session, business_id=actor.business_id, step="ai_rules")
    return get_rules(session, actor=actor)


def update_business_hours(
    session: Session,
    *,
    actor: Actor,
    days: Mapping[str, list[list[str]]],
    out_of_hours_message: str,
) -> RulesForm:
    """Change only the weekly hours and the out-of-hours reply (the Settings page, their one
    editor); no open day means open around the clock, and a timezone of the hours' own is kept."""
    actor.require(Permission.AI_RULES_MANAGE)
    _, rule = repo.get_business_and_rule(session, business_id=actor.business_id)
    own_tz = ((rule.business_hours if rule else None) or {}).get("timezone")
    hours: dict[str, Any] = {}
    if any(days.values()):
        hours = {"days": {day: ranges for day, ranges in days.items() if ranges}}
        if own_tz:
            hours["timezone"] = own_tz
    return save_rules(
        session,
        actor=actor,
        fields={"business_hours": hours, "out_of_hours_message": out_of_hours_message},
    )


def _turns(history: list[tuple[str, str]]) -> list[Turn]:
    turns: list[Turn] = []
    for item in history[-MAX_TRY_HISTORY:]:
        if not (isinstance(item, (list, tuple)) and len(item) == 2):
            raise RulesError(
                "history must be (role, text) pairs; reset the chat and try again.",
                field="history",
            )
        role, text = item
        if role not in _ROLES:
            raise RulesError(
                f"history: {role!r} is not a role; use 'customer' or 'assistant'.",
                field="history",
            )
        if isinstance(text, str) and text.strip():
            turns.append(Turn(role=role, text=text))
    return turns


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rstrip() + "…"


def _explain(
    *, action: Action, reason: HandoffReason | None, rules: RulesView, text: str, confidence: float
) -> str:
    if action != Action.HANDOFF:
        return f"Would answer ({confidence:.0%} sure; the threshold is " + (
            f"{rules.confidence_threshold:.0%})."
        )
    if reason == HandoffReason.KEYWORD:
        return f"Would hand over: handoff keyword '{handoff_keyword(rules, text)}'."
    if reason == HandoffReason.BLOCKED_TOPIC:
        topic = blocked_topic(rules, text)
        if topic:
            return f"Would hand over: forbidden topic '{topic}'."
        return "Would hand over: the answer touches a forbidden topic."
    if reason == HandoffReason.CUSTOMER_REQUEST:
        return "Would hand over: the customer asked for a person."
    if reason == HandoffReason.MAX_TURNS:
        return f"Would hand over: the assistant reached its limit of {rules.max_ai_turns} turns."
    if reason == HandoffReason.LOW_CONFIDENCE:
        return (
            f"Would hand over: {confidence:.0%} sure, below the threshold of "
            f"{rules.confidence_threshold:.0%} (the knowledge does not answer this well enough)."
        )
    return "Would hand over to a person."


def try_message(
    session: Session,
    *,
    actor: Actor,
    text: str,
    history: list[tuple[str, str]],
    draft: Mapping[str, Any] | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> TryResult:
    """Run the real engine on `text` with the saved rules (or `draft` over them), storing
    nothing about the conversation: no contact, conversation, message, outbox row or event."""
    actor.require(Permission.AI_RULES_MANAGE)
    if not isinstance(text, str) or not text.strip():
        raise RulesError("Type a message, as a customer would write it.", field="text")
    if len(text) > MAX_TRY_CHARS:
        raise RulesError(f"Keep the message under {MAX_TRY_CHARS} characters.", field="text")
    clean_draft = validate(draft or {})
    turns = _turns(list(history))
    now = now or datetime.now(UTC)
    seen: dict[int, RetrievedChunk] = {}
    base = retrieval.default_retriever(session, business_id=actor.business_id)

    def retrieve(query: str, k: int) -> list[RetrievedChunk]:
        found = base(query, k)
        for chunk in found:
            seen.setdefault(chunk.chunk_id, chunk)
        return found

    # The engine reads the rules from the database: a savepoint lets it read the draft, and
    # rolling it back leaves the saved rules (and a missing rules row) exactly as they were.
    savepoint = session.begin_nested()
    try:
        if clean_draft:
            rule = repo.ensure_rule(session, business_id=actor.business_id)
            for name, value in clean_draft.items():
                setattr(rule, name, value)
            repo.save_rule(session, rule=rule)
        rules = ai_service.rules_for(session, business_id=actor.business_id)
        decision = engine.reply(
            session,
            inp=EngineInput(
                business_id=actor.business_id,
                message=text.strip(),
                history=turns,
                conversation_language=language or None,
                ai_turns=sum(1 for t in turns if t.role == "assistant"),
                now=now,
            ),
            retrieve=retrieve,
        )
    finally:
        savepoint.rollback()
    onboarding.record_step(session, business_id=actor.business_id, step="test_conversation")
    if decision.used_llm:
        # Trying costs real tokens: they count against the monthly budget like any answer.
        usage.record(
            session,
            business_id=actor.business_id,
            prompt_tokens=decision.prompt_tokens,
            completion_tokens=decision.completion_tokens,
            now=now,
        )
    sources = [
        TrySource(
            chunk_id=chunk.chunk_id,
            title=chunk.source_title,
            snippet=_snippet(chunk.text),
            similarity=round(chunk.similarity, 3),
        )
        for chunk in (seen.get(ident) for ident in decision.source_chunk_ids)
        if chunk is not None
    ]
    return TryResult(
        reply=decision.text,
        language=decision.language,
        confidence=round(decision.confidence, 3),
        action="handoff" if decision.action == Action.HANDOFF else "answer",
        reason=decision.handoff_reason.value if decision.handoff_reason else "",
        explanation=_explain(
            action=decision.action,
            reason=decision.handoff_reason,
            rules=rules,
            text=text,
            confidence=decision.confidence,
        ),
        sources=sources,
        quick_replies=list(decision.quick_replies),
        open_now=is_open(rules, now),
        used_llm=decision.used_llm,
    )
