"""All SQL of the analytics domain."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.models.ai import AIRule
from backend.models.channels import ChannelIntegration
from backend.models.contacts import Contact
from backend.models.conversations import Conversation
from backend.models.leads import Lead


def _count(session: Session, model, *where) -> int:
    return session.exec(select(sa.func.count()).select_from(model).where(*where)).one()


def workspace_counts(session: Session, *, business_id: int, since: datetime) -> dict[str, int]:
    """How much the business has: conversations since `since`, waiting ones, contacts, …"""
    return {
        "conversations": _count(
            session,
            Conversation,
            Conversation.business_id == business_id,
            Conversation.created_at >= since,
        ),
        "waiting": _count(
            session,
            Conversation,
            Conversation.business_id == business_id,
            Conversation.status == "waiting_for_agent",
        ),
        "contacts": _count(session, Contact, Contact.business_id == business_id),
        "leads": _count(session, Lead, Lead.business_id == business_id),
    }


def conversation_count(session: Session, *, business_id: int) -> int:
    """All conversations the business ever had."""
    return _count(session, Conversation, Conversation.business_id == business_id)


# --- the Overview analytics -------------------------------------------------------------------
# Every query below starts from the business's conversations created in [start, end) (optionally
# on one channel kind); per-conversation figures then look at those conversations' messages and
# handoffs. The bounds are timestamps, so (business_id, created_at) indexes serve the range.

_CONVERSATIONS = """
conv AS (
    SELECT c.id, c.created_at, c.status, c.resolved_at, c.csat_score,
           coalesce(ci.kind, 'other') AS channel
    FROM conversation c
    LEFT JOIN channelintegration ci ON ci.id = c.channel_integration_id
    WHERE c.business_id = :b AND c.created_at >= :start AND c.created_at < :end
      AND (CAST(:channel AS text) IS NULL OR coalesce(ci.kind, 'other') = CAST(:channel AS text))
)"""

# Built from constant fragments only; every value is a bound parameter.
_PER_CONVERSATION = (
    "WITH"  # noqa: S608
    + _CONVERSATIONS
    + """,
ho AS (
    SELECT h.conversation_id, min(h.created_at) AS first_handoff
    FROM handoff h JOIN conv ON conv.id = h.conversation_id
    WHERE h.business_id = :b
    GROUP BY h.conversation_id
),
m AS (
    SELECT m.conversation_id, m.sender_type, m.created_at,
           (m.sender_type = 'agent' AND NOT m.is_private_note) AS by_agent
    FROM message m JOIN conv ON conv.id = m.conversation_id
    WHERE m.business_id = :b AND m.created_at >= :start
),
msg AS (
    SELECT conversation_id,
           min(created_at) FILTER (WHERE sender_type = 'customer') AS first_customer,
           max(created_at) FILTER (WHERE sender_type = 'ai') AS last_ai,
           bool_or(by_agent) AS agent_wrote
    FROM m GROUP BY conversation_id
),
base AS (
    SELECT conv.*, msg.first_customer, msg.last_ai,
           coalesce(msg.agent_wrote, false) AS agent_wrote,
           ho.first_handoff, (ho.first_handoff IS NOT NULL) AS handed
    FROM conv
    LEFT JOIN msg ON msg.conversation_id = conv.id
    LEFT JOIN ho ON ho.conversation_id = conv.id
),
-- A second pass over the same messages, now that each conversation's landmarks are known
-- (hash aggregates both times: no per-conversation lookups).
marks AS (
    SELECT m.conversation_id,
           min(m.created_at) FILTER (
               WHERE m.sender_type = 'ai' AND m.created_at >= b.first_customer) AS first_ai,
           min(m.created_at) FILTER (
               WHERE m.by_agent AND m.created_at >= coalesce(b.first_handoff, b.first_customer)
           ) AS first_agent,
           coalesce(bool_or(m.sender_type = 'customer' AND m.created_at > b.last_ai
                            AND m.created_at <= b.last_ai + interval '24 hours'), false)
               AS came_back
    FROM m JOIN base b ON b.id = m.conversation_id
    GROUP BY m.conversation_id
),
per AS (
    SELECT base.*, marks.first_ai, marks.first_agent,
           (NOT base.agent_wrote AND NOT base.handed AND base.last_ai IS NOT NULL AND (
                coalesce(base.csat_score >= 4, false)
                OR base.status = 'resolved'
                OR (base.last_ai <= CAST(:now AS timestamptz) - interval '24 hours'
                    AND NOT coalesce(marks.came_back, false)))
           ) AS ai_resolved
    FROM base LEFT JOIN marks ON marks.conversation_id = base.id
),
secs AS (
    SELECT per.*,
           extract(epoch FROM first_ai - first_customer) AS ai_frt,
           extract(epoch FROM first_agent - coalesce(first_handoff, first_customer)) AS human_frt,
           CASE WHEN ai_resolved
                THEN extract(epoch FROM coalesce(resolved_at, last_ai) - first_customer) END
               AS ai_res,
           CASE WHEN (handed OR agent_wrote) AND resolved_at IS NOT NULL
                THEN extract(epoch FROM resolved_at - first_customer) END AS human_res
    FROM per
)"""
)


def _durations(name: str) -> str:
    return (
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {name}) AS {name}_p50, "
        f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {name}) AS {name}_p90, "
        f"count({name}) AS {name}_n"
    )


_SUMMARY = sa.text(
    _PER_CONVERSATION
    + """
SELECT count(*) AS conversations,
       count(*) FILTER (WHERE ai_resolved) AS ai_resolved,
       count(*) FILTER (WHERE handed) AS handed_over,
       avg(csat_score)::float AS csat_average,
       count(csat_score) AS csat_count, """
    + ", ".join(_durations(n) for n in ("ai_frt", "human_frt", "ai_res", "human_res"))
    + "\nFROM secs"
)

_DAILY = sa.text(
    "WITH"
    + _CONVERSATIONS
    + """
SELECT (created_at AT TIME ZONE :tz)::date AS day, channel, count(*) AS n
FROM conv GROUP BY 1, 2 ORDER BY 1, 2"""
)

_REASONS = sa.text(
    "WITH"
    + _CONVERSATIONS
    + """
SELECT h.reason, count(*) AS n
FROM handoff h JOIN conv ON conv.id = h.conversation_id
WHERE h.business_id = :b
GROUP BY h.reason ORDER BY n DESC, h.reason"""
)


def _normalise(expr: str) -> str:
    """SQL that lowercases `expr`, drops punctuation and collapses spaces."""
    return (
        "trim(regexp_replace(regexp_replace(lower(" + expr + "), "
        "'[^[:alnum:][:space:]]+', ' ', 'g'), '[[:space:]]+', ' ', 'g'))"
    )


# The customer message an AI handoff answered: the last one before it (handoffs are few).
_ASKED_BEFORE_HANDOFF = """
    CROSS JOIN LATERAL (
        SELECT p.id, p.text FROM message p
        WHERE p.conversation_id = h.conversation_id AND p.business_id = :b
          AND p.sender_type = 'customer' AND p.created_at <= h.created_at
        ORDER BY p.created_at DESC, p.id DESC LIMIT 1
    ) q"""

_UNANSWERED = sa.text(
    "WITH"  # noqa: S608
    + _CONVERSATIONS
    + """,
-- Each customer message opens a turn; an AI reply's question is the first message of its turn.
-- Two window passes over the messages, no self-join (robust to misestimated row counts).
stream AS (
    SELECT m.id, m.conversation_id, m.sender_type, m.text, m.ai_confidence, m.created_at,
           count(*) FILTER (WHERE m.sender_type = 'customer') OVER (
               PARTITION BY m.conversation_id ORDER BY m.created_at, m.id) AS turn
    FROM message m JOIN conv ON conv.id = m.conversation_id
    WHERE m.business_id = :b AND m.created_at >= :start
      AND m.sender_type IN ('customer', 'ai')
),
turns AS (
    SELECT sender_type, ai_confidence, turn,
           first_value(id) OVER t AS question_id, first_value(text) OVER t AS question
    FROM stream
    WINDOW t AS (PARTITION BY conversation_id, turn ORDER BY created_at, id)
),
asked AS (
    SELECT question_id AS id, question AS text FROM turns
    WHERE sender_type = 'ai' AND ai_confidence < :threshold AND turn > 0
    UNION
    SELECT q.id, q.text FROM handoff h JOIN conv ON conv.id = h.conversation_id"""
    + _ASKED_BEFORE_HANDOFF
    + """
    WHERE h.business_id = :b AND h.reason IN ('low_confidence', 'ai_error')
),
-- Normalise each distinct wording once, not every message.
wordings AS (
    SELECT text, count(*) AS n FROM asked WHERE text IS NOT NULL GROUP BY text
),
keyed AS (
    SELECT text, n, """
    + _normalise("text")
    + """ AS key FROM wordings
)
SELECT key, (array_agg(text ORDER BY n DESC, text))[1] AS text, sum(n)::int AS n
FROM keyed
WHERE key <> '' AND NOT EXISTS (
    SELECT 1 FROM knowledgesource k
    WHERE k.business_id = :b AND k.kind = 'faq' AND k.question IS NOT NULL
      AND """
    + _normalise("k.question")
    + """ = keyed.key)
GROUP BY key ORDER BY sum(n) DESC, key LIMIT :limit"""
)

_REVENUE = sa.text(
    """
SELECT o.currency, sum(o.total_cents)::bigint AS total_cents, count(*) AS orders
FROM "order" o
LEFT JOIN conversation c ON c.id = o.conversation_id AND c.business_id = :b
LEFT JOIN channelintegration ci ON ci.id = c.channel_integration_id
WHERE o.business_id = :b AND o.status = 'paid'
  AND (CAST(:channel AS text) IS NULL OR coalesce(ci.kind, 'other') = CAST(:channel AS text))
  AND EXISTS (
      SELECT 1 FROM payment p
      WHERE p.order_id = o.id AND p.business_id = :b AND p.status = 'succeeded'
        AND coalesce(p.confirmed_at, p.updated_at) >= :start
        AND coalesce(p.confirmed_at, p.updated_at) < :end)
GROUP BY o.currency ORDER BY o.currency"""
)


def _params(business_id: int, start: datetime, end: datetime, channel: str | None) -> dict:
    return {"b": business_id, "start": start, "end": end, "channel": channel}


def summary(
    session: Session,
    *,
    business_id: int,
    start: datetime,
    end: datetime,
    channel: str | None,
    now: datetime,
) -> dict:
    """Counts, AI resolution, handoffs, CSAT and response-time percentiles of the period."""
    params = _params(business_id, start, end, channel) | {"now": now}
    return dict(session.execute(_SUMMARY, params).mappings().one())


def daily_by_channel(
    session: Session,
    *,
    business_id: int,
    start: datetime,
    end: datetime,
    channel: str | None,
    tz: str,
) -> list[tuple]:
    """(local day, channel kind, conversations started) for days that had any."""
    params = _params(business_id, start, end, channel) | {"tz": tz}
    return [tuple(r) for r in session.execute(_DAILY, params)]


def handoff_reasons(
    session: Session, *, business_id: int, start: datetime, end: datetime, channel: str | None
) -> list[tuple[str, int]]:
    """(reason, handoffs) of the period's conversations, most frequent first."""
    params = _params(business_id, start, end, channel)
    return [tuple(r) for r in session.execute(_REASONS, params)]


def unanswered_questions(
    session: Session,
    *,
    business_id: int,
    start: datetime,
    end: datetime,
    channel: str | None,
    threshold: float,
    limit: int,
) -> list[tuple[str, str, int]]:
    """(normalised text, its most common wording, times asked) of questions the AI answered weakly,
    leaving out those an FAQ already asks."""
    params = _params(business_id, start, end, channel) | {"threshold": threshold, "limit": limit}
    return [tuple(r) for r in session.execute(_UNANSWERED, params)]


def paid_revenue(
    session: Session, *, business_id: int, start: datetime, end: datetime, channel: str | None
) -> list[tuple[str, int, int]]:
    """(currency, total in cents, orders) of paid orders with a succeeded payment in range."""
    params = _params(business_id, start, end, channel)
    return [tuple(r) for r in session.execute(_REVENUE, params)]


def confidence_threshold(session: Session, *, business_id: int) -> float | None:
    """The business's AI confidence threshold, None when it has no AI rules yet."""
    return session.exec(
        select(AIRule.confidence_threshold).where(AIRule.business_id == business_id)
    ).first()


def channel_kinds(session: Session, *, business_id: int) -> list[str]:
    """The kinds of channel the business has connected (for the channel filter)."""
    return list(
        session.exec(
            select(ChannelIntegration.kind)
            .where(ChannelIntegration.business_id == business_id)
            .distinct()
            .order_by(ChannelIntegration.kind)
        )
    )
