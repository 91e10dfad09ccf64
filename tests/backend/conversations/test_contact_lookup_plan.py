"""Touching a returning customer's contact reads the identities once, whatever the statistics.

On tables PostgreSQL has not analysed yet (a new installation, a new business's first hours),
the former UPDATE … FROM join between contacts and identities was planned as a nested loop:
the business's identities were read once per contact of the business, for every message (a
benchmark's PostgreSQL CPU per reply went from 8 to 46 ms). The statement now looks the
identity up once, in a scalar subquery.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session

from backend.conversations import repository as repo
from backend.models import ContactChannelIdentity
from tests.factories import make_business, make_channel, make_contact


def _plan_nodes(node: dict) -> list[dict]:
    return [node, *(n for child in node.get("Plans", []) for n in _plan_nodes(child))]


def test_touching_a_contact_reads_the_identities_once_without_statistics(db: Session) -> None:
    business = make_business(db)
    channel = make_channel(db, business=business)
    for i in range(300):
        contact = make_contact(db, business=business, name=f"Customer {i}")
        db.add(ContactChannelIdentity(business_id=business.id, contact_id=contact.id,
                                      channel_integration_id=channel.id,
                                      external_user_id=f"user-{i}"))  # fmt: skip
    db.flush()
    # As on a new installation: the planner knows nothing about these tables' rows.
    for table in ("contact", "contactchannelidentity"):
        db.execute(
            sa.text("DELETE FROM pg_statistic WHERE starelid = CAST(:t AS regclass)"), {"t": table}
        )
    seen = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    found = repo.touch_contact_by_identity(
        db, business_id=business.id, integration_id=channel.id,
        external_user_id="user-150", seen_at=seen,
    )  # fmt: skip
    assert found is not None
    assert (found.name, found.last_seen_at) == ("Customer 150", seen)

    params = repo.touch_contact_params(
        business_id=business.id, integration_id=channel.id, external_user_id="user-150",
        seen_at=seen,
    )  # fmt: skip
    compiled = repo.touch_contact_statement().compile(dialect=db.get_bind().dialect)
    plan = (
        db.connection()
        .exec_driver_sql(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled.string}", compiled.construct_params(params)
        )
        .scalar_one()
    )
    plan = plan if isinstance(plan, list) else json.loads(plan)
    nodes = [n for n in _plan_nodes(plan[0]["Plan"]) if n["Node Type"] != "ModifyTable"]
    identity_reads = [
        n["Actual Loops"] for n in nodes if n.get("Relation Name") == "contactchannelidentity"
    ]
    assert identity_reads == [1], identity_reads  # the old join: once per contact (300)
    assert not [n for n in nodes if "Join" in n["Node Type"] or n["Node Type"] == "Nested Loop"]
    assert [n["Actual Rows"] for n in nodes if n.get("Relation Name") == "contact"] == [1]
