"""Structured logs: JSON lines in production carrying the ids bound for the work at hand."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from backend.core import logs


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
