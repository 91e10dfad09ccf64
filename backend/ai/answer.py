"""Answering from the retrieved knowledge: with an LLM when configured, else extractively."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs

from backend.ai import llm, prompts, retrieval
from backend.ai.rules import RulesView
from backend.ai.schemas import ToolCall, Turn
from backend.knowledge.schemas import RetrievedChunk

log = logging.getLogger(__name__)

# An extractive answer longer than this is cut at a sentence end: a chat reply, not a page.
MAX_PASSAGE_CHARS = 700
# How the model's own judgement and the retrieval evidence share the LLM path's confidence.
WEIGHT_MODEL = 0.6
MODEL_CONFIDENT = 1.0  # "confident": true and at least one valid citation
MODEL_UNSURE = 0.5  # plain text, or confident without citing anything
MODEL_NOT_CONFIDENT = 0.0


@dataclass(frozen=True)
class Answer:
    """A candidate reply before the handoff decision."""

    text: str
    confidence: float
    source_chunk_ids: list[int] = field(default_factory=list)
    answered: bool = True  # False: nothing in the knowledge answers it
    blocked: bool = False  # the model found a forbidden topic
    topic: str | None = None  # what the customer asked about, for the running summary
    summary: str | None = None
    used_llm: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tool_call: ToolCall | None = None  # the model asked to call an offered tool instead


def _topic(chunk: RetrievedChunk) -> str:
    return (chunk.question or chunk.source_title or "").strip()


def _passage(chunk: RetrievedChunk) -> str:
    """The text to send from a chunk: an FAQ's answer whole, a long passage cut at a sentence."""
    text = chunk.text.strip()
    if len(text) <= MAX_PASSAGE_CHARS:
        return text
    cut = text[:MAX_PASSAGE_CHARS]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "), cut.rfind("\n"))
    return (cut[: end + 1] if end > MAX_PASSAGE_CHARS // 3 else cut.rstrip()) + " …"


def _in_language(
    best: RetrievedChunk, chunks: Sequence[RetrievedChunk], *, language: str, default: str
) -> RetrievedChunk:
    """The translation of `best` in the customer's language, else in the business's, else best."""
    if best.language in (None, language) or not best.group_key:
        return best
    group = [c for c in chunks if c.group_key == best.group_key]
    for wanted in (language, default):
        for chunk in group:
            if chunk.language == wanted:
                return chunk
    return best


def answer_offline(
    chunks: Sequence[RetrievedChunk], *, language: str, default_language: str
) -> Answer:
    """The best-matching FAQ answer or passage, translated when a translation was retrieved."""
    if not chunks:
        return Answer(text="", confidence=0.0, answered=False)
    best = chunks[0]
    used = _in_language(best, chunks, language=language, default=default_language)
    text = _passage(used)
    if used.language and used.language != language:
        note = prompts.found_note(customer_language=language, source_language=used.language)
        if note:
            text = f"{note}\n{text}"
    return Answer(
        text=text,
        confidence=retrieval.confidence(chunks, best).value,
        source_chunk_ids=list(dict.fromkeys([used.chunk_id, best.chunk_id])),
        topic=_topic(best),
    )


# --- the LLM path -----------------------------------------------------------------------------


def _json_object(content: str) -> dict[str, Any] | None:
    """The reply's JSON object, tolerating code fences and text around it."""
    text = content.strip()
    candidates = [text]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("answer"), str):
            return data
    return None


def _cited(value: Any, chunks: Sequence[RetrievedChunk]) -> list[RetrievedChunk]:
    """The chunks the model cited by number (1-based); unknown numbers are dropped."""
    if not isinstance(value, list):
        value = [value] if value is not None else []
    cited: list[RetrievedChunk] = []
    for item in value:
        match = re.search(r"\d+", str(item))
        if match is None:
            continue
        number = int(match.group())
        if 1 <= number <= len(chunks) and chunks[number - 1] not in cited:
            cited.append(chunks[number - 1])
    return cited


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def valid_tool_call(call: ToolCall, tools: Sequence[dict[str, Any]]) -> bool:
    """Whether `call` names one of `tools` and its arguments match that tool's JSON schema."""
    for tool in tools:
        function = tool.get("function") or {}
        if function.get("name") != call.name:
            continue
        schema = function.get("parameters") or {"type": "object"}
        try:
            jsonschema_rs.validator_for(schema).validate(call.arguments)
        except jsonschema_rs.ValidationError as exc:
            log.warning("Ignoring a %s tool call with wrong arguments: %s", call.name, exc.message)
            return False
        return True
    log.warning("Ignoring a call to %r, a tool that was not offered", call.name)
    return False


def answer_with_llm(
    *,
    rules: RulesView,
    chunks: Sequence[RetrievedChunk],
    language: str,
    message: str,
    history: Sequence[Turn] = (),
    summary: str | None = None,
    tools: Sequence[dict[str, Any]] = (),
) -> Answer:
    """Ask the chat endpoint for a cited answer in the customer's language (LLMError on failure).

    Confidence = WEIGHT_MODEL * the model's judgement + (1 - WEIGHT_MODEL) * the retrieval
    confidence of the best chunk it cited (see docs/ai.md). When `tools` are offered and the
    model calls one with valid arguments, the Answer carries that call and no text.
    """
    messages = prompts.build_messages(
        rules=rules,
        chunks=chunks,
        language=language,
        message=message,
        history=history,
        summary=summary,
    )
    reply = llm.chat(messages, tools=list(tools) or None)
    spent = (0, 0)
    if tools:
        calls = [c for c in reply.tool_calls if valid_tool_call(c, tools)]
        if calls:
            return Answer(
                text="",
                confidence=1.0,
                used_llm=True,
                prompt_tokens=reply.prompt_tokens,
                completion_tokens=reply.completion_tokens,
                tool_call=calls[0],
            )
        if not reply.content.strip():
            # Only unusable calls and no text: ask again for a plain answer, without tools.
            spent = (reply.prompt_tokens, reply.completion_tokens)
            reply = llm.chat(messages)
    data = _json_object(reply.content)
    if data is None:
        # A plain-text reply: usable, but it says neither what it used nor how sure it is.
        text, cited, confident, blocked, new_summary = reply.content.strip(), [], None, False, None
    else:
        text = data["answer"].strip()
        cited = _cited(data.get("sources"), chunks)
        confident = _flag(data.get("confident"))
        blocked = _flag(data.get("blocked")) is True
        new_summary = data.get("summary") if isinstance(data.get("summary"), str) else None
    if confident is False:
        judgement = MODEL_NOT_CONFIDENT
    elif confident is True and cited:
        judgement = MODEL_CONFIDENT
    else:
        judgement = MODEL_UNSURE
    best = max(cited, key=lambda c: c.similarity) if cited else (chunks[0] if chunks else None)
    evidence = retrieval.confidence(chunks, best).value if best else 0.0
    value = WEIGHT_MODEL * judgement + (1 - WEIGHT_MODEL) * evidence
    used = cited or (list(chunks) if data is None else [])
    return Answer(
        text=text,
        confidence=round(value, 3),
        source_chunk_ids=[c.chunk_id for c in used],
        answered=bool(text) and confident is not False,
        blocked=blocked,
        topic=_topic(best) if best and cited else None,
        summary=(new_summary or "").strip()[:1000] or None,
        used_llm=True,
        prompt_tokens=reply.prompt_tokens + spent[0],
        completion_tokens=reply.completion_tokens + spent[1],
    )
