"""The AI engine's plain inputs and its decision (it never sees how conversations are stored)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    """What the pipeline should do with the engine's decision."""

    REPLY = "reply"  # send `text` to the customer
    HANDOFF = "handoff"  # send `text` (telling the customer a person will come), then wait


class HandoffReason(StrEnum):
    """Why the AI called a human."""

    LOW_CONFIDENCE = "low_confidence"
    CUSTOMER_REQUEST = "customer_request"
    KEYWORD = "keyword"
    BLOCKED_TOPIC = "blocked_topic"
    MAX_TURNS = "max_turns"


@dataclass(frozen=True)
class Turn:
    """One earlier message of the conversation, oldest first."""

    role: str  # "customer", "assistant" (the AI) or "agent"
    text: str


@dataclass(frozen=True)
class ToolCall:
    """A function the model asked to call, with its arguments checked against the tool's schema."""

    name: str
    arguments: dict[str, Any]
    id: str | None = None


@dataclass(frozen=True)
class EngineInput:
    """Everything the engine needs about one incoming customer message."""

    business_id: int
    message: str
    history: list[Turn] = field(default_factory=list)
    summary: str | None = None  # running summary of turns older than `history`
    conversation_language: str | None = None
    ai_turns: int = 0  # AI replies already sent in this conversation
    now: datetime | None = None
    # OpenAI tool schemas ({"type": "function", "function": {...}}) the LLM may call.
    tools: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class AIDecision:
    """The engine's answer: what to say, in which language, how sure, and from which chunks."""

    action: Action
    text: str
    language: str
    confidence: float  # in [0, 1]; see backend/ai/README or docs for how it is computed
    source_chunk_ids: list[int] = field(default_factory=list)
    handoff_reason: HandoffReason | None = None
    summary: str | None = None  # updated running summary to store on the conversation
    quick_replies: list[str] = field(default_factory=list)
    used_llm: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # The model asked to call one of the offered tools; the caller acts on it instead of `text`.
    tool_call: ToolCall | None = None
