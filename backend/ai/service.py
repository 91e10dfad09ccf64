"""The AI Rules page's services and the engine's view of a business's rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from backend.ai import prompts, usage
from backend.ai import repository as repo
from backend.ai.rules import RulesError, RulesView, is_open, validate
from backend.auth.permissions import Actor, Permission
from backend.models.ai import AIRule
from backend.models.tenants import Business

__all__ = [
    "Availability",
    "RulesError",
    "RulesView",
    "availability",
    "get_rules",
    "get_usage",
    "handoff_notice",
    "rules_for",
    "update_rules",
]


@dataclass(frozen=True)
class Availability:
    """Whether the business is open now, and what to tell customers when it is not."""

    open: bool
    message: str | None


def availability(
    session: Session, *, business_id: int, language: str | None = None, now: datetime | None = None
) -> Availability:
    """Open or closed by the business hours in its AI rules, with the out-of-hours notice."""
    rules = rules_for(session, business_id=business_id)
    if is_open(rules, now or datetime.now(UTC)):
        return Availability(open=True, message=None)
    language = language or rules.default_language
    custom = rules.out_of_hours_message
    if custom and (language == rules.default_language or not prompts.has_phrases(language)):
        return Availability(open=False, message=custom)
    return Availability(open=False, message=prompts.phrase("out_of_hours", language))


def handoff_notice(language: str | None) -> str:
    """What the customer is told, in their language, when a person is called."""
    return prompts.phrase("handoff", language)


def _view(rule: AIRule, business: Business) -> RulesView:
    return RulesView(
        business_id=rule.business_id,
        tone=rule.tone,
        persona_name=rule.persona_name,
        greeting=rule.greeting,
        fallback_message=rule.fallback_message,
        confidence_threshold=float(rule.confidence_threshold),
        handoff_keywords=[str(k) for k in rule.handoff_keywords or []],
        blocked_topics=[str(t) for t in rule.blocked_topics or []],
        business_hours=dict(rule.business_hours or {}),
        out_of_hours_message=rule.out_of_hours_message,
        languages=[str(code) for code in rule.languages or []],
        use_llm=rule.use_llm,
        extra_instructions=rule.extra_instructions,
        max_ai_turns=rule.max_ai_turns,
        monthly_token_budget=rule.monthly_token_budget,
        business_name=business.name,
        default_language=business.default_language or "en",
        timezone=business.timezone or "UTC",
    )


def _load(session: Session, *, business_id: int) -> tuple[AIRule, Business]:
    business, rule = repo.get_business_and_rule(session, business_id=business_id)
    if business is None:
        raise LookupError(f"Business {business_id} does not exist.")
    return rule or repo.ensure_rule(session, business_id=business_id), business


def rules_for(session: Session, *, business_id: int) -> RulesView:
    """The business's AI rules for the engine (created with the defaults when missing)."""
    rule, business = _load(session, business_id=business_id)
    return _view(rule, business)


def get_rules(session: Session, *, actor: Actor) -> RulesView:
    """The actor's business's AI rules, for the AI Rules page."""
    actor.require(Permission.AI_RULES_MANAGE)
    return rules_for(session, business_id=actor.business_id)


def update_rules(session: Session, *, actor: Actor, **fields: Any) -> RulesView:
    """Change some of the AI rules; RulesError names the first bad field and how to fix it."""
    actor.require(Permission.AI_RULES_MANAGE)
    clean = validate(fields)
    rule, business = _load(session, business_id=actor.business_id)
    for name, value in clean.items():
        setattr(rule, name, value)
    repo.save_rule(session, rule=rule)
    return _view(rule, business)


def get_usage(session: Session, *, actor: Actor, now: datetime | None = None) -> usage.UsageView:
    """This month's LLM tokens of the actor's business against its budget."""
    actor.require(Permission.AI_RULES_MANAGE)
    rules = rules_for(session, business_id=actor.business_id)
    return usage.usage_for(
        session, business_id=actor.business_id, budget=rules.monthly_token_budget, now=now
    )
