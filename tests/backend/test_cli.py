"""`python -m backend.cli`, run as a user runs it: one JSON line for what it creates."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from backend.core.config import settings
from backend.core.db import session_scope
from backend.tenants import service as tenants


def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "DATABASE_URL": settings.database_url,
               "REDIS_URL": settings.redis_url, "PYTHONWARNINGS": "ignore", **env}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        capture_output=True, text=True, env=environ, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.usefixtures("committed")
def test_demo_seed_is_idempotent_and_resets_the_password():
    first = json.loads(cli("demo", "seed", DEMO_PASSWORD="first-pass-123").stdout)
    second = json.loads(cli("demo", "seed", DEMO_PASSWORD="second-pass-456").stdout)
    assert first["business_id"] == second["business_id"]
    assert first["created"] is True
    assert second["created"] is False
    assert second["email"] == settings.demo_email
    assert second["password"] == "second-pass-456"
    assert second["widget_key"].startswith("wk_")
    assert second["widget_key"] == first["widget_key"]  # one widget, kept across seeds
    from backend.auth import service as auth
    from backend.widget import service as widget_service

    with session_scope() as session:
        ticket = auth.authenticate(session, email=second["email"], password="second-pass-456")
        assert ticket.business_id == second["business_id"]
        assert tenants.find_demo_business(session).id == second["business_id"]
        widget = widget_service.load_widget(session, public_key=second["widget_key"])
        widget_service.check_origin(widget, "http://localhost:8080")
        widget_service.check_origin(widget, "http://127.0.0.1:5500")


def test_demo_seed_refuses_production():
    result = cli("demo", "seed", BIZBOT_ENV="production", SECRET_KEY="s" * 40)
    assert result.returncode == 1
    assert "not created when BIZBOT_ENV=production" in result.stderr


@pytest.mark.usefixtures("committed")
def test_user_create_prints_its_id_and_explains_bad_input():
    owner = cli("user", "create", "--email", "kim@example.com", "--name", "Kim",
                "--password", "plum orbit canyon 7", "--business-name", "Kim's Shop")  # fmt: skip
    created = json.loads(owner.stdout)
    assert created["role"] == "owner"
    assert created["id"] > 0
    agent = cli("user", "create", "--email", "lee@example.com", "--name", "Lee",
                "--password", "plum orbit canyon 8", "--business", str(created["business_id"]),
                "--role", "agent")  # fmt: skip
    assert json.loads(agent.stdout)["role"] == "agent"
    again = cli("user", "create", "--email", "KIM@example.com", "--name", "Kim",
                "--password", "plum orbit canyon 7", "--business-name", "Dup")  # fmt: skip
    assert again.returncode == 1
    assert "already exists" in again.stderr


@pytest.mark.usefixtures("committed")
def test_demo_users_never_see_the_confirm_your_email_banner():
    from sqlmodel import select

    from backend.demo import seed_demo
    from backend.models import User

    with session_scope() as session:
        seed = seed_demo(session)
        user = session.exec(select(User).where(User.email == seed.email)).one()
        user.email_verified_at = None  # an older demo, from before verification existed
        session.add(user)
    with session_scope() as session:
        seed_demo(session)
    with session_scope() as session:
        emails = session.exec(select(User.email).where(User.email_verified_at.is_(None))).all()
    assert seed.email not in emails
