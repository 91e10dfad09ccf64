"""The one place that talks to an OpenAI-compatible chat endpoint."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import openai

from backend.ai.schemas import ToolCall
from backend.core.config import settings

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 20.0
MAX_RETRIES = 1
MAX_COMPLETION_TOKENS = 600


class LLMError(RuntimeError):
    """The chat endpoint failed or answered nothing; the engine falls back to offline answers."""


@dataclass(frozen=True)
class LLMReply:
    """What the model said and what it cost."""

    content: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    tool_calls: list[ToolCall] = field(default_factory=list)  # arguments parsed from JSON


def configured() -> bool:
    """Whether an LLM endpoint is configured (OPENAI_API_KEY set)."""
    return bool(settings.openai_api_key)


@lru_cache(maxsize=4)
def _client(base_url: str | None, api_key: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=base_url or None,
        api_key=api_key,
        timeout=TIMEOUT_SECONDS,
        max_retries=MAX_RETRIES,
    )


def client() -> openai.OpenAI:
    """The OpenAI client for the configured endpoint (OPENAI_BASE_URL, OPENAI_API_KEY)."""
    if not settings.openai_api_key:
        raise LLMError("OPENAI_API_KEY is not set; answers are extractive.")
    return _client(settings.openai_base_url, settings.openai_api_key)


def _tool_calls(message: Any) -> list[ToolCall]:
    """The function calls of a reply; one whose arguments are not a JSON object is dropped."""
    calls = []
    for call in getattr(message, "tool_calls", None) or []:
        function = getattr(call, "function", None)
        if function is None or not function.name:
            continue
        try:
            arguments = json.loads(function.arguments or "{}")
        except ValueError:
            arguments = None
        if not isinstance(arguments, dict):
            log.warning("Ignoring a %s tool call whose arguments are not a JSON object: %.200r",
                        function.name, function.arguments)  # fmt: skip
            continue
        calls.append(ToolCall(name=function.name, arguments=arguments, id=call.id))
    return calls


def chat(
    messages: list[dict[str, str]],
    *,
    json_mode: bool = True,
    tools: list[dict[str, Any]] | None = None,
) -> LLMReply:
    """One non-streaming chat completion, offering `tools` if given; LLMError when it fails."""
    kwargs: dict = {
        "model": settings.llm_model,
        "messages": messages,
        "temperature": 0.2,
        "max_tokens": MAX_COMPLETION_TOKENS,
    }
    if tools:
        kwargs["tools"] = tools
        kwargs["tool_choice"] = "auto"
    if json_mode:
        kwargs["response_format"] = {"type": "json_object"}
    try:
        try:
            response = client().chat.completions.create(**kwargs)
        except openai.BadRequestError:
            if not json_mode:
                raise
            # Some compatible servers reject response_format; the prompt asks for JSON anyway.
            kwargs.pop("response_format")
            response = client().chat.completions.create(**kwargs)
    except openai.OpenAIError as exc:
        raise LLMError(f"The chat endpoint failed: {exc}") from exc
    if not response.choices:
        raise LLMError("The chat endpoint returned no choices.")
    content = response.choices[0].message.content or ""
    tool_calls = _tool_calls(response.choices[0].message) if tools else []
    used = response.usage
    if used is not None:
        prompt_tokens, completion_tokens = used.prompt_tokens, used.completion_tokens
    else:
        # Some servers omit usage; about four characters a token keeps the budget meaningful.
        prompt_tokens = sum(len(m["content"]) for m in messages) // 4
        completion_tokens = len(content) // 4
    return LLMReply(
        content=content,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        model=response.model or settings.llm_model,
        tool_calls=tool_calls,
    )
