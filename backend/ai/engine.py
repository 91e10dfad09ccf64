"""The AI engine: language → rules → retrieval → answer → decision → summary, for one message."""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlmodel import Session

from backend.ai import answer as answering
from backend.ai import decision as deciding
from backend.ai import language as lang
from backend.ai import llm, retrieval, service, usage
from backend.ai.rules import RulesView, is_open, normalize
from backend.ai.schemas import Action, AIDecision, EngineInput, HandoffReason
from backend.knowledge.embeddings import BUNDLED
from backend.knowledge.schemas import RetrievedChunk

log = logging.getLogger(__name__)

# A follow-up this short ("which days?") cannot be searched alone: the LLM also gets the
# knowledge of the previous question (concatenating the two queries lets the longer one win).
FOLLOW_UP_WORDS = 4
CONTEXT_K = 3
MAX_SUMMARY_CHARS = 600
_SUMMARY_NOTES = {
    HandoffReason.CUSTOMER_REQUEST: "Asked for a person.",
    HandoffReason.KEYWORD: "Used a word the business always hands over.",
    HandoffReason.BLOCKED_TOPIC: "Asked about a topic the assistant may not discuss.",
    HandoffReason.MAX_TURNS: "Reached the assistant's turn limit.",
    HandoffReason.LOW_CONFIDENCE: "Asked something the knowledge does not answer.",
}


def _context_chunks(
    inp: EngineInput, chunks: list[RetrievedChunk], retrieve: retrieval.Retriever
) -> list[RetrievedChunk]:
    """For the LLM, a short follow-up also gets the knowledge of the previous question."""
    if len(normalize(inp.message).split()) > FOLLOW_UP_WORDS:
        return []
    earlier = [t.text for t in inp.history if t.role == "customer" and t.text.strip()]
    if not earlier:
        return []
    seen = {c.chunk_id for c in chunks}
    return [c for c in retrieve(earlier[-1], CONTEXT_K) if c.chunk_id not in seen]


def _offline_summary(previous: str | None, note: str | None) -> str | None:
    """The running summary without an LLM: the previous one plus one short English note."""
    previous = (previous or "").strip()
    if not note or note in previous:
        return previous or None
    summary = f"{previous} {note}".strip()
    if len(summary) > MAX_SUMMARY_CHARS:
        # Drop the oldest notes; the newest matter most to whoever takes over.
        summary = summary[-MAX_SUMMARY_CHARS:]
        summary = summary[summary.find(". ") + 2 :] if ". " in summary else summary
    return summary


def _answer(
    session: Session,
    *,
    inp: EngineInput,
    rules: RulesView,
    language: str,
    retrieve: retrieval.Retriever,
) -> answering.Answer:
    """Retrieve, then answer with the LLM when allowed and affordable, else extractively."""
    chunks = retrieve(inp.message, retrieval.TOP_K)
    online = (
        rules.use_llm
        and llm.configured()
        and usage.budget_left(
            session, business_id=inp.business_id, budget=rules.monthly_token_budget, now=inp.now
        )
    )
    if online:
        try:
            result = answering.answer_with_llm(
                rules=rules,
                chunks=chunks + _context_chunks(inp, chunks, retrieve),
                language=language,
                message=inp.message,
                history=inp.history,
                summary=inp.summary,
                tools=inp.tools,
            )
        except llm.LLMError:
            log.warning(
                "LLM unavailable for business %s; answering offline", inp.business_id, exc_info=True
            )
        else:
            usage.record(
                session,
                business_id=inp.business_id,
                prompt_tokens=result.prompt_tokens,
                completion_tokens=result.completion_tokens,
                now=inp.now,
            )
            return result
    return answering.answer_offline(
        chunks, language=language, default_language=rules.default_language
    )


def warm_up() -> None:
    """Load what a process's first reply would otherwise load while a customer waits (about
    a second): the bundled e5 model, which every reply uses for the human-request check, its
    prototype vectors and the language detector. Inbound workers call this before their first
    job. A failure is logged, not raised: the first reply then loads (or reports) it."""
    try:
        BUNDLED.warm_up()
        deciding.asks_for_human("Hello, could you help me?")
        lang.detect("Hello, could you help me with my order?")
    except Exception:
        log.warning("Could not warm up the AI engine; the first reply will load it", exc_info=True)


def reply(
    session: Session, *, inp: EngineInput, retrieve: retrieval.Retriever | None = None
) -> AIDecision:
    """Decide what to tell the customer about `inp.message`: an answer or a handover."""
    # `retrieve(query, k)` defaults to the business's hybrid search; LLM tokens are recorded
    # in `session`, which the caller commits.
    rules = service.rules_for(session, business_id=inp.business_id)
    language = lang.choose(
        inp.message,
        conversation_language=inp.conversation_language,
        default_language=rules.default_language,
    )
    if rules.languages and language not in rules.languages:
        language = rules.default_language
    decision = deciding.before_answering(
        inp.message, rules=rules, language=language, ai_turns=inp.ai_turns
    )
    summary: str | None = None
    topic: str | None = None
    if decision is None:
        retrieve = retrieve or retrieval.default_retriever(session, business_id=inp.business_id)
        result = _answer(session, inp=inp, rules=rules, language=language, retrieve=retrieve)
        if result.tool_call is not None:
            # An action for the caller to take, not an answer: no confidence or handover logic.
            return AIDecision(
                action=Action.REPLY,
                text="",
                language=language,
                confidence=result.confidence,
                summary=inp.summary,
                used_llm=True,
                prompt_tokens=result.prompt_tokens,
                completion_tokens=result.completion_tokens,
                tool_call=result.tool_call,
            )
        decision = deciding.decide(result, rules=rules, language=language)
        decision = deciding.offer_human(decision, rules=rules, ai_turns=inp.ai_turns)
        summary, topic = result.summary, result.topic
    if decision.handoff_reason is not None:
        note = _SUMMARY_NOTES[decision.handoff_reason]
    elif topic:
        note = f'Asked about "{topic}".'
    else:
        note = None
    decision = replace(decision, summary=summary or _offline_summary(inp.summary, note))
    if not is_open(rules, inp.now):
        decision = deciding.out_of_hours(decision, rules=rules)
    return decision
