"""`python -m backend.cli doctor` checks each dependency and says what to fix."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from rq import SimpleWorker

from backend.cli import main
from backend.core.config import settings
from backend.core.crypto import encrypt
from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.core.redis import get_redis
from backend.models.channels import ChannelIntegration
from backend.ops import doctor
from tests.factories import make_business
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def worker():
    w = SimpleWorker([get_queue("default")], connection=get_redis())
    w.register_birth()
    yield w
    w.register_death()


def _by_name(findings: list[doctor.Finding]) -> dict[str, doctor.Finding]:
    return {f.name: f for f in findings}


def test_a_healthy_install_passes_and_says_so(worker, capsys, monkeypatch):
    monkeypatch.setattr(settings, "smtp_host", None)
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "BizBot is healthy" in out
    assert "schema up to date" in out
    assert "warn  email" in out  # works without SMTP, but the deployer is told


def test_no_worker_fails_and_names_the_fix(capsys):
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  workers" in out
    assert "python -m backend.worker" in out
    assert "problem(s) to fix: workers" in out


def test_json_output_lists_every_check(worker, capsys):
    main(["doctor", "--json"])
    names = [f["name"] for f in json.loads(capsys.readouterr().out)]
    assert names == [c.__name__.removeprefix("check_") for c in doctor.CHECKS]


def test_credentials_saved_under_another_key_are_a_failure(committed):
    with session_scope() as session:
        business = make_business(session)
        foreign = Fernet(Fernet.generate_key()).encrypt(b"token").decode()
        session.add(
            ChannelIntegration(
                business_id=business.id, kind="telegram", name="bot",
                credentials_encrypted=foreign,
            )
        )  # fmt: skip
    finding = doctor.check_secrets()
    assert finding.status == doctor.FAIL
    assert "SECRET_KEY" in finding.fix


def test_credentials_under_the_current_key_pass(committed):
    with session_scope() as session:
        business = make_business(session)
        session.add(
            ChannelIntegration(
                business_id=business.id, kind="telegram", name="bot",
                credentials_encrypted=encrypt("token"),
            )
        )  # fmt: skip
    assert doctor.check_secrets().status == doctor.OK


def test_the_llm_endpoint_is_called_with_the_key(monkeypatch):
    with FakeOpenAI() as server:
        monkeypatch.setattr(settings, "openai_base_url", server.url)
        monkeypatch.setattr(settings, "openai_api_key", server.api_key)
        assert doctor.check_ai().status == doctor.OK
        monkeypatch.setattr(settings, "openai_api_key", "sk-wrong")
        bad = doctor.check_ai()
    assert bad.status == doctor.FAIL
    assert "OPENAI_API_KEY" in bad.fix


def test_an_unreachable_database_is_a_finding_not_a_crash(monkeypatch):
    from backend.core import db as core_db

    monkeypatch.setattr(
        settings, "database_url", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"
    )
    core_db.get_engine.cache_clear()
    try:
        finding = doctor.check_database()
    finally:
        monkeypatch.undo()
        core_db.get_engine.cache_clear()
    assert finding.status == doctor.FAIL
    assert "DATABASE_URL" in finding.fix


def test_a_crashing_check_is_reported_as_failed(monkeypatch):
    def explodes() -> doctor.Finding:
        raise RuntimeError("boom")

    monkeypatch.setattr(doctor, "CHECKS", (explodes,))
    [finding] = doctor.run_checks()
    assert finding.status == doctor.FAIL
    assert "boom" in finding.detail
