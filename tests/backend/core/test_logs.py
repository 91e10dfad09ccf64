"""Structured logs: JSON lines in production carrying the ids bound for the work at hand."""

from __future__ import annotations

import json
import logging
import socket
import time

import pytest
import structlog

from backend.core import logs
from backend.core.config import settings
from backend.core.redis import get_redis


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    logs.clear()


def test_production_lines_are_json_with_the_bound_ids(restore_logging, capsys):
    logs.configure(json=True, level="INFO")
    logs.bind(job_id="j-1", business_id=7, conversation_id=None)
    logging.getLogger("backend.conversations").warning("AI engine failed on message %s", 42)
    logs.get_logger("backend.payments").info("order paid", order_id=3)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    first, second = lines
    assert first["event"] == "AI engine failed on message 42"
    assert first["level"] == "warning"
    assert first["logger"] == "backend.conversations"
    assert first["job_id"] == "j-1"
    assert first["business_id"] == 7
    assert "conversation_id" not in first  # None values are not bound
    assert second["order_id"] == 3
    assert second["job_id"] == "j-1"


def test_ids_are_forgotten_when_the_work_ends(restore_logging, capsys):
    logs.configure(json=True, level="INFO")
    logs.bind(job_id="j-2")
    logs.clear()
    logging.getLogger("x").info("later")
    assert "job_id" not in json.loads(capsys.readouterr().err)


def test_development_lines_are_readable_text(restore_logging, capsys):
    logs.configure(json=False, level="INFO")
    logs.bind(event_id=5)
    logging.getLogger("backend.worker").info("started")
    line = capsys.readouterr().err.strip()
    assert "started" in line
    assert "event_id=5" in line
    assert not line.startswith("{")


def test_error_lines_reach_the_system_pages_list_with_their_ids(restore_logging):
    logs.configure(json=True, level="INFO")
    assert logs.flush()
    get_redis().delete(logs.ERRORS_KEY)
    logs.bind(job_id="j-3", business_id=9)
    logging.getLogger("backend.channels").error("send failed on %s", "telegram")
    logging.getLogger("backend.channels").warning("only a warning")  # not kept
    assert logs.flush()
    [entry] = [json.loads(raw) for raw in get_redis().lrange(logs.ERRORS_KEY, 0, -1)]
    assert entry["event"] == "send failed on telegram"
    assert (entry["level"], entry["logger"]) == ("error", "backend.channels")
    assert (entry["business_id"], entry["job_id"]) == (9, "j-3")


def test_a_hung_redis_never_holds_up_the_logging_call(restore_logging):
    logs.configure(json=True, level="INFO")
    assert logs.flush()
    real_url = settings.redis_url
    # Accepts connections (the kernel's backlog) and never answers: a Redis that hangs.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        settings.redis_url = f"redis://127.0.0.1:{hung.getsockname()[1]}/0"
        get_redis.cache_clear()  # the shared client hangs as well
        try:
            started = time.monotonic()
            for n in range(3):
                logging.getLogger("backend.api").error("database down %s", n)
            # Each call only queued its line; a write would wait WRITE_TIMEOUT_SECONDS.
            assert time.monotonic() - started < logs.WRITE_TIMEOUT_SECONDS / 2
            started = time.monotonic()
            assert logs.flush(timeout=30)
            # One write timed out without retries; the next lines were skipped, not waited on.
            assert time.monotonic() - started < 2.5 * logs.WRITE_TIMEOUT_SECONDS
        finally:
            settings.redis_url = real_url
            get_redis.cache_clear()
    # Back on the real Redis (a new address: no pause), lines are recorded again.
    get_redis().delete(logs.ERRORS_KEY)
    logging.getLogger("backend.api").error("database back")
    assert logs.flush()
    events = [json.loads(raw)["event"] for raw in get_redis().lrange(logs.ERRORS_KEY, 0, -1)]
    assert events == ["database back"]
