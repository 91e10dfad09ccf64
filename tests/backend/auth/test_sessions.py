"""My signed-in browsers: listed with device and address, ended one by one or all others."""

from __future__ import annotations

from backend.auth import service as auth
from tests.factories import PASSWORD, make_user

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/140.0 Safari/537.36"
)


def _open(db, user, agent: str, ip: str) -> tuple[str, int]:
    ticket = auth.authenticate(db, email=user.email, password=PASSWORD)
    token = auth.start_session(db, ticket=ticket, ip_address=ip, user_agent=agent)
    return token, auth.resolve_session(db, token=token).session_id


def test_lists_my_sessions_with_device_and_the_current_one(db):
    user = make_user(db)
    other_user = make_user(db)
    _, laptop = _open(db, user, FIREFOX, "192.0.2.10")
    _, office = _open(db, user, CHROME, "192.0.2.20")
    _open(db, other_user, CHROME, "192.0.2.30")
    views = auth.list_sessions(db, user_id=user.id, current_session_id=laptop)
    assert {(v.id, v.device, v.ip_address, v.current) for v in views} == {
        (laptop, "Firefox on Linux", "192.0.2.10", True),
        (office, "Chrome on Windows", "192.0.2.20", False),
    }


def test_revoking_others_keeps_this_browser_signed_in(db):
    user = make_user(db)
    here, here_id = _open(db, user, FIREFOX, "192.0.2.10")
    there, _ = _open(db, user, CHROME, "192.0.2.20")
    third, third_id = _open(db, user, CHROME, "192.0.2.21")
    assert auth.revoke_sessions(db, user_id=user.id, session_ids=[third_id], keep_id=here_id) == 1
    assert auth.resolve_session(db, token=third) is None
    assert auth.resolve_session(db, token=there) is not None
    assert auth.revoke_sessions(db, user_id=user.id, session_ids=None, keep_id=here_id) == 1
    assert auth.resolve_session(db, token=there) is None
    assert auth.resolve_session(db, token=here) is not None


def test_cannot_revoke_another_users_session(db):
    user, other = make_user(db), make_user(db)
    theirs, theirs_id = _open(db, other, CHROME, "192.0.2.30")
    assert auth.revoke_sessions(db, user_id=user.id, session_ids=[theirs_id], keep_id=None) == 0
    assert auth.resolve_session(db, token=theirs) is not None


def test_describes_unknown_devices_plainly():
    assert auth.describe_device(None) == "Unknown device"
    assert auth.describe_device("curl/8.5") == "curl/8.5"
