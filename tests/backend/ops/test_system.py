"""The System page's services against the real Redis and RQ: workers, queues, failed jobs,
last errors, and who may look."""

from __future__ import annotations

import logging

import pytest
import structlog
from rq import SimpleWorker
from rq.registry import FailedJobRegistry
from sqlmodel import select

from backend.auth import service as auth
from backend.core import logs
from backend.core.queue import get_queue
from backend.core.redis import get_redis
from backend.models import User
from backend.ops import system
from backend.ops.metrics import MeteredWorker
from tests.factories import PASSWORD, make_instance_admin, make_user


def bake(order_id: int, business_id: int | None = None) -> str:
    """A job that fails as a real one would, after binding its business for its log lines."""
    logs.bind(business_id=business_id)
    raise RuntimeError(f"oven on fire for order {order_id}")


def slow_bake() -> str:
    return "done"


@pytest.fixture
def errors_recorded():
    """Logging set up as a worker sets it up (ERROR lines go to the Redis list); put back after."""
    root = logging.getLogger()
    handlers, level, config = root.handlers[:], root.level, structlog.get_config()
    logs.configure(json=True)
    assert logs.flush()  # lines another test logged land before this test starts counting
    get_redis().delete(logs.ERRORS_KEY)
    yield
    assert logs.flush()
    structlog.configure(**config)
    root.handlers[:] = handlers
    root.setLevel(level)


def _fail_one(*business_id: int) -> str:
    """Enqueue `bake` without retries and run a burst worker: it ends in the failed list."""
    job = get_queue("inbound").enqueue(bake, 42, *business_id)
    MeteredWorker([get_queue("inbound")], connection=get_redis()).work(burst=True)
    return job.id


def test_first_account_of_an_installation_runs_it_and_later_ones_do_not(db):
    assert db.exec(select(User)).first() is None  # an empty installation
    first = auth.sign_up(db, business_name="Sunrise", name="Amina",
                         email="amina@sunrise.example", password=PASSWORD)  # fmt: skip
    second = auth.sign_up(db, business_name="Kicks", name="Wanjiru",
                          email="wanjiru@kicks.example", password=PASSWORD)  # fmt: skip
    assert system.is_instance_admin(db, user_id=first.user_id)
    assert not system.is_instance_admin(db, user_id=second.user_id)


def test_a_member_who_is_not_instance_admin_is_refused_everything(db):
    owner = make_user(db)
    calls = [
        lambda: system.snapshot(db, user_id=owner.id),
        lambda: system.list_failed_jobs(db, user_id=owner.id),
        lambda: system.retry_failed_job(db, user_id=owner.id, job_id="x"),
        lambda: system.retry_all_failed_jobs(db, user_id=owner.id),
        lambda: system.discard_failed_job(db, user_id=owner.id, job_id="x"),
        lambda: system.last_errors(db, user_id=owner.id),
        lambda: system.run_doctor(db, user_id=owner.id),
    ]
    for call in calls:
        with pytest.raises(system.NotInstanceAdmin, match="user admin --email"):
            call()


def test_a_failed_job_is_listed_retried_and_discarded(db):
    admin = make_instance_admin(db)
    job_id = _fail_one(7)

    [failed] = system.list_failed_jobs(db, user_id=admin.id)
    assert failed.id == job_id
    assert failed.queue == "inbound"
    assert failed.function.endswith("test_system.bake")
    assert failed.error == "RuntimeError: oven on fire for order 42"
    assert failed.business_id == 7
    assert failed.failed_at is not None
    assert [q.failed for q in system.list_queues(db, user_id=admin.id) if q.name == "inbound"] == [
        1
    ]

    assert system.retry_failed_job(db, user_id=admin.id, job_id=job_id) == "inbound"
    assert system.list_failed_jobs(db, user_id=admin.id) == []
    inbound = next(q for q in system.list_queues(db, user_id=admin.id) if q.name == "inbound")
    assert (inbound.depth, inbound.failed) == (1, 0)
    with pytest.raises(system.FailedJobGone, match="Refresh the list"):
        system.retry_failed_job(db, user_id=admin.id, job_id=job_id)

    # It fails again; this time it is thrown away for good.
    MeteredWorker([get_queue("inbound")], connection=get_redis()).work(burst=True)
    assert [j.id for j in system.list_failed_jobs(db, user_id=admin.id)] == [job_id]
    system.discard_failed_job(db, user_id=admin.id, job_id=job_id)
    assert system.list_failed_jobs(db, user_id=admin.id) == []
    assert get_queue("inbound").fetch_job(job_id) is None
    with pytest.raises(system.FailedJobGone):
        system.discard_failed_job(db, user_id=admin.id, job_id=job_id)


def test_retry_all_puts_every_failed_job_back(db):
    admin = make_instance_admin(db)
    ids = {_fail_one(1), _fail_one(2)}
    failed = system.list_failed_jobs(db, user_id=admin.id)
    assert {j.id for j in failed} == ids
    assert {j.business_id for j in failed} == {1, 2}
    assert system.retry_all_failed_jobs(db, user_id=admin.id) == 2
    assert FailedJobRegistry(queue=get_queue("inbound")).count == 0
    assert set(get_queue("inbound").job_ids) == ids


def test_a_running_worker_is_listed_alive_with_its_queues(db):
    admin = make_instance_admin(db)
    worker = SimpleWorker([get_queue("inbound"), get_queue("outbound")], connection=get_redis())
    worker.register_birth()
    worker.set_state("idle")
    try:
        [seen] = system.list_workers(db, user_id=admin.id)
    finally:
        worker.register_death()
    assert seen.name == worker.name
    assert seen.queues == ("inbound", "outbound")
    assert seen.alive
    assert seen.state == "idle"
    assert seen.pid == worker.pid
    assert seen.current_job is None
    assert system.list_workers(db, user_id=admin.id) == []  # gone once it said goodbye


def test_queues_show_depth_age_and_scheduled_jobs(db):
    admin = make_instance_admin(db)
    get_queue("knowledge").enqueue(slow_bake)
    get_queue("knowledge").enqueue(slow_bake)
    from datetime import timedelta

    get_queue("scheduled").enqueue_in(timedelta(hours=1), slow_bake)
    by_name = {q.name: q for q in system.list_queues(db, user_id=admin.id)}
    assert set(by_name) == {"inbound", "outbound", "knowledge", "scheduled", "default"}
    assert by_name["knowledge"].depth == 2
    assert by_name["knowledge"].oldest_seconds >= 0
    assert by_name["scheduled"].scheduled == 1
    assert by_name["inbound"].depth == 0


@pytest.mark.usefixtures("errors_recorded")
def test_logged_errors_are_kept_with_their_business_and_job(db):
    admin = make_instance_admin(db)
    logs.bind(business_id=12, job_id="job-abc")
    try:
        try:
            raise ValueError("the price list is empty")
        except ValueError:
            logging.getLogger("backend.commerce").exception("import failed")
        logs.get_logger("backend.ai").error("llm refused", business_id=13)
    finally:
        logs.clear()
    logging.getLogger("backend.x").warning("only a warning")  # not kept
    assert logs.flush()  # the lines are written by the recorder's thread

    newest, older = system.last_errors(db, user_id=admin.id)[:2]
    assert (newest.logger, newest.event, newest.business_id) == ("backend.ai", "llm refused", 13)
    assert older.logger == "backend.commerce"
    assert older.event == "import failed"
    assert older.error == "ValueError: the price list is empty"
    assert (older.business_id, older.job_id) == (12, "job-abc")
    assert len(system.last_errors(db, user_id=admin.id)) == 2


@pytest.mark.usefixtures("errors_recorded")
def test_a_failed_job_shows_in_last_errors_and_the_list_stays_capped(db):
    admin = make_instance_admin(db)
    job_id = _fail_one()
    assert logs.flush()
    [entry] = [e for e in system.last_errors(db, user_id=admin.id) if e.job_id == job_id]
    assert entry.error == "RuntimeError: oven on fire for order 42"
    assert entry.business_id is None
    [failed] = system.list_failed_jobs(db, user_id=admin.id)
    assert (failed.id, failed.business_id) == (job_id, None)  # it bound no business
    for n in range(logs.ERRORS_KEPT + 5):
        logging.getLogger("backend.flood").error("error %s", n)
    assert logs.flush()
    assert get_redis().llen(logs.ERRORS_KEY) == logs.ERRORS_KEPT
    assert system.last_errors(db, user_id=admin.id, limit=1)[0].event == (
        f"error {logs.ERRORS_KEPT + 4}"
    )


def test_doctor_findings_for_an_admin(db):
    admin = make_instance_admin(db)
    findings = system.run_doctor(db, user_id=admin.id)
    names = {f.name for f in findings}
    assert {"database", "redis"} <= names
    assert next(f for f in findings if f.name == "database").status == "ok"


def test_grant_and_revoke_never_leave_the_installation_without_an_admin(db):
    first = make_instance_admin(db)
    other = make_user(db, email="ops@example.com")
    with pytest.raises(system.AdminChangeRefused, match="last instance admin"):
        system.set_instance_admin(db, email=first.email, grant=False)
    granted = system.set_instance_admin(db, email="OPS@example.com", grant=True)
    assert (granted.user_id, granted.is_instance_admin, granted.changed) == (other.id, True, True)
    assert system.is_instance_admin(db, user_id=other.id)
    revoked = system.set_instance_admin(db, email=first.email, grant=False)
    assert revoked.changed
    assert not system.is_instance_admin(db, user_id=first.id)
    with pytest.raises(system.AdminChangeRefused, match="No account uses"):
        system.set_instance_admin(db, email="nobody@example.com", grant=True)
