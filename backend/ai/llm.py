"""The one place that talks to an OpenAI-compatible chat endpoint."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import openai

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


def chat(messages: list[dict[str, str]], *, json_mode: bool = True) -> LLMReply:
    """One non-streaming chat completion; LLMError when the endpoint fails."""
    kwargs: dict = {
        "model": settings.llm_model,
        "messages": messages,
        "temperature": 0.2,
        "max_tokens": MAX_COMPLETION_TOKENS,
    }
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
    )
