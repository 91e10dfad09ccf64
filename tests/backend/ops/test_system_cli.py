"""`python -m backend.cli user create --instance-admin` and `user admin --grant|--revoke`, run
as an operator runs them."""

from __future__ import annotations

import json

import pytest

from backend.auth import repository as auth_repo
from backend.core.db import session_scope
from backend.ops import system
from tests.backend.test_cli import cli

PASSWORD = "plum orbit canyon 7"


def _create(email: str, *extra: str) -> dict:
    result = cli("user", "create", "--email", email, "--name", "Kim", "--password", PASSWORD,
                 "--business-name", f"Shop of {email}", *extra)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.usefixtures("committed")
def test_the_first_user_and_flagged_users_are_instance_admins():
    assert _create("first@example.com")["instance_admin"] is True
    assert _create("second@example.com")["instance_admin"] is False
    assert _create("third@example.com", "--instance-admin")["instance_admin"] is True


@pytest.mark.usefixtures("committed")
def test_user_admin_grants_and_revokes_but_keeps_the_last_admin():
    _create("first@example.com")
    second = _create("second@example.com")

    granted = cli("user", "admin", "--email", "second@example.com", "--grant")
    assert granted.returncode == 0, granted.stderr
    assert json.loads(granted.stdout) == {"user_id": second["id"], "email": "second@example.com",
                                          "is_instance_admin": True, "changed": True}  # fmt: skip

    revoked = cli("user", "admin", "--email", "first@example.com", "--revoke")
    assert json.loads(revoked.stdout)["is_instance_admin"] is False

    last = cli("user", "admin", "--email", "second@example.com", "--revoke")
    assert last.returncode == 1
    assert "second@example.com is the last instance admin; grant another user first" in (
        last.stderr
    )

    unknown = cli("user", "admin", "--email", "nobody@example.com", "--grant")
    assert unknown.returncode == 1
    assert "No account uses 'nobody@example.com'" in unknown.stderr

    neither = cli("user", "admin", "--email", "first@example.com")
    assert neither.returncode == 2
    assert "one of the arguments --grant --revoke is required" in neither.stderr


@pytest.mark.usefixtures("committed")
def test_the_demo_owner_runs_a_fresh_installation_seeded_with_the_demo():
    seeded = cli("demo", "seed", DEMO_PASSWORD="demo-pass-123")
    assert seeded.returncode == 0, seeded.stderr
    seed = json.loads(seeded.stdout)
    with session_scope() as session:
        owner = auth_repo.find_user_by_login_email(session, email=seed["email"])
        agent = auth_repo.find_user_by_login_email(session, email=seed["agent_email"])
        assert system.is_instance_admin(session, user_id=owner.id)
        assert not system.is_instance_admin(session, user_id=agent.id)
    # A later sign-up does not get the flag.
    assert _create("later@example.com")["instance_admin"] is False
