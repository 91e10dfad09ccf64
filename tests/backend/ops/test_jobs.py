"""`python -m backend.cli jobs failed|retry|discard`, run as an operator runs them, against the
real Redis and RQ: the shell and the System page see and act on the same failed jobs."""

from __future__ import annotations

import json

import pytest

from backend.core import logs
from backend.core.queue import get_queue
from backend.core.redis import get_redis
from backend.ops import jobs, system
from backend.ops.metrics import MeteredWorker
from state.system import _rows
from tests.backend.test_cli import cli
from tests.factories import make_instance_admin


def bake(order_id: int, business_id: int | None = None) -> str:
    """A job that fails as a real one would, after binding its business for its log lines."""
    logs.bind(business_id=business_id)
    raise RuntimeError(f"oven on fire for order {order_id}\n  (the thermostat is stuck)")


def _fail(queue: str, *args: int) -> str:
    """Enqueue `bake` without retries and run a burst worker: it ends in the failed list."""
    job = get_queue(queue).enqueue(bake, *args)
    MeteredWorker([get_queue(queue)], connection=get_redis()).work(burst=True)
    return job.id


def _listed() -> list[dict]:
    result = cli("jobs", "failed")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_the_cli_and_the_system_page_list_the_same_failed_jobs(db):
    admin = make_instance_admin(db)
    older = _fail("inbound", 41, 7)
    newer = _fail("outbound", 42)  # bound no business

    listed = _listed()
    shown = _rows(system.snapshot(db, user_id=admin.id))["failed_jobs"]
    # Newest first in both, with the same queue, function, business and exception line.
    assert [j["id"] for j in listed] == [r["id"] for r in shown] == [newer, older]
    assert [(j["queue"], j["job"], j["error"]) for j in listed] == [
        (r["queue"], r["function"], [r["error"]]) for r in shown
    ]
    assert [r["business_id"] for r in shown] == ["—", "7"]
    assert [j["business_id"] for j in listed] == [None, 7]
    assert listed[1]["job"] == "tests.backend.ops.test_jobs.bake"
    assert listed[1]["args"] == [41, 7]
    assert listed[1]["error"] == ["(the thermostat is stuck)"]
    assert listed[1]["failed_at"]
    assert [j.id for j in jobs.failed_jobs(limit=1)] == [newer]


def test_a_job_retried_or_discarded_from_the_shell_leaves_the_page_too(db):
    admin = make_instance_admin(db)
    retried, discarded = _fail("inbound", 1), _fail("knowledge", 2)

    result = cli("jobs", "retry", retried)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"id": retried, "queue": "inbound", "requeued": True}
    assert get_queue("inbound").job_ids == [retried]

    result = cli("jobs", "discard", discarded)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"id": discarded, "queue": "knowledge", "discarded": True}
    assert get_queue("knowledge").fetch_job(discarded) is None

    assert system.list_failed_jobs(db, user_id=admin.id) == []
    assert _listed() == []
    with pytest.raises(system.FailedJobGone, match="Refresh the list"):
        system.retry_failed_job(db, user_id=admin.id, job_id=retried)


def test_the_cli_names_a_job_that_is_not_among_the_failed_ones():
    for command in ("retry", "discard"):
        result = cli("jobs", command, "no-such-job")
        assert result.returncode == 1
        assert result.stderr.strip() == (
            "error: no failed job no-such-job; list them with `jobs failed`"
        )
