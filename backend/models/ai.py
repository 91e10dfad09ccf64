"""How the business wants its AI assistant to behave."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field

from backend.models.base import Table, json_field


class AIRule(Table, table=True):
    """The business's rules for its AI: tone, greeting, when to hand over, hours, languages."""

    # One rules row per business, so the tenant key is unique rather than merely indexed.
    business_id: int = Field(foreign_key="business.id", ondelete="CASCADE", unique=True)
    tone: str = Field(default="friendly", max_length=32)
    persona_name: str = Field(default="Assistant", max_length=80)
    greeting: str | None = Field(default=None, sa_type=sa.Text)
    fallback_message: str | None = Field(default=None, sa_type=sa.Text)
    confidence_threshold: float = Field(default=0.55)
    handoff_keywords: list = json_field(default_factory=list)
    blocked_topics: list = json_field(default_factory=list)
    business_hours: dict = json_field()
    out_of_hours_message: str | None = Field(default=None, sa_type=sa.Text)
    languages: list = json_field(default_factory=list)
    # Takes effect only when an LLM endpoint is configured; otherwise answers are extractive.
    use_llm: bool = Field(default=True)
    extra_instructions: str | None = Field(default=None, sa_type=sa.Text)
    # After this many AI replies in one conversation the customer is offered a human (0: never).
    max_ai_turns: int = Field(default=8)
    # Tokens per calendar month for the LLM; when spent, answers fall back to extractive.
    monthly_token_budget: int | None = Field(default=None)


class AIUsage(Table, table=True):
    """Tokens the business's AI used with the LLM in one calendar month (cost control)."""

    __table_args__ = (
        sa.UniqueConstraint("business_id", "month", name="uq_aiusage_business_month"),
    )

    business_id: int = Field(foreign_key="business.id", ondelete="CASCADE")
    month: str = Field(max_length=7)  # "YYYY-MM"
    prompt_tokens: int = Field(default=0)
    completion_tokens: int = Field(default=0)
    requests: int = Field(default=0)
