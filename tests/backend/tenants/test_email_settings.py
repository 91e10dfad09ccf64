"""A business's own SMTP server: stored with the password encrypted, used for its emails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.auth import members as team
from backend.auth.permissions import PermissionDenied
from backend.core.config import settings
from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.models import Business, Role, User
from backend.notifications import service as notifications
from backend.notifications import tasks as notification_tasks
from backend.notifications.schemas import EmailFailed
from backend.tenants import email_settings
from backend.tenants.service import BusinessError
from tests.backend.inbox.helpers import run_worker
from tests.factories import actor_for, make_business, make_user
from tests.fakes.smtp_server import FakeSMTP


@pytest.fixture
def env_smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSMTP]:
    """The server of the .env settings."""
    with FakeSMTP() as server:
        monkeypatch.setattr(settings, "smtp_host", server.host)
        monkeypatch.setattr(settings, "smtp_port", server.port)
        monkeypatch.setattr(settings, "smtp_security", "none")
        monkeypatch.setattr(settings, "smtp_from", "BizBot <bizbot@bizbot.example>")
        yield server


@pytest.fixture
def own_smtp() -> Iterator[FakeSMTP]:
    """The business's own server, set on its Settings page."""
    with FakeSMTP() as server:
        yield server


def _use(session, actor, server: FakeSMTP, **extra):
    fields = {"host": "localhost", "port": server.port, "username": "", "password": None,
              "from_address": "Mama Mboga <hello@mamamboga.example>",
              "security": "none"}  # fmt: skip
    return email_settings.save_email_settings(session, actor=actor, **{**fields, **extra})


def test_the_password_is_encrypted_at_rest_and_never_shown(db, own_smtp):
    owner, business = actor_for(db)
    view = _use(db, owner, own_smtp, username="mailer", password="s3cret-pass")
    stored = db.get(Business, business.id)
    assert stored.smtp_password_encrypted
    assert "s3cret-pass" not in stored.smtp_password_encrypted
    assert view.password_set
    assert "s3cret-pass" not in repr(view)
    # Saving again without a password keeps the stored one.
    again = _use(db, owner, own_smtp, username="mailer", password="")
    assert again.password_set
    assert db.get(Business, business.id).smtp_password_encrypted == stored.smtp_password_encrypted
    from backend.tenants.smtp import business_smtp

    assert business_smtp(db, business_id=business.id).password == "s3cret-pass"


def test_a_stored_password_is_never_handed_to_a_new_server(db, own_smtp):
    owner, business = actor_for(db)
    _use(db, owner, own_smtp, username="mailer", password="s3cret-pass")
    moved = _use(db, owner, own_smtp, host="smtp.elsewhere.example", password="")
    assert not moved.password_set
    assert db.get(Business, business.id).smtp_password_encrypted is None
    from backend.tenants.smtp import business_smtp

    assert business_smtp(db, business_id=business.id).password == ""


def test_an_empty_host_goes_back_to_the_env_server(db, own_smtp):
    owner, business = actor_for(db)
    _use(db, owner, own_smtp, password="x")
    view = _use(db, owner, own_smtp, host="")
    stored = db.get(Business, business.id)
    assert (view.host, stored.smtp_host, stored.smtp_password_encrypted) == ("", None, None)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [({"host": "smtp://mail.example.com:25"}, "smtp_host", "no smtp://"),
     ({"port": "99999"}, "smtp_port", "587"),
     ({"port": "abc"}, "smtp_port", "not a port"),
     ({"security": "tls1.0"}, "smtp_security", "STARTTLS, SSL or none"),
     ({"from_address": "shop at example"}, "smtp_from", "hello@example.com")],
)  # fmt: skip
def test_bad_smtp_settings_name_the_field_and_store_nothing(db, own_smtp, change, field, words):
    owner, business = actor_for(db)
    with pytest.raises(BusinessError) as err:
        _use(db, owner, own_smtp, **change)
    assert (err.value.field, words in err.value.message) == (field, True)
    assert db.get(Business, business.id).smtp_host is None


@pytest.mark.parametrize("role", [Role.ADMIN, Role.AGENT, Role.VIEWER])
def test_only_owners_see_or_change_the_smtp_settings(db, own_smtp, role):
    member, _ = actor_for(db, role=role)
    with pytest.raises(PermissionDenied):
        _use(db, member, own_smtp)
    with pytest.raises(PermissionDenied):
        email_settings.get_email_settings(db, actor=member)


@pytest.mark.usefixtures("committed")
def test_the_test_email_goes_to_the_owner_through_the_override_not_the_env(env_smtp, own_smtp):
    with session_scope() as session:
        owner, _business = actor_for(session)
        _use(session, owner, own_smtp)
        message, server = email_settings.compose_test_email(session, actor=owner)
        address = session.get(User, owner.user_id).email
    said = email_settings.send_test_email(message, server=server)
    assert said.startswith(f"Test email sent to {address}")
    [email] = own_smtp.messages
    assert env_smtp.messages == []
    assert email.envelope_to == [address]
    assert email.message["From"] == "Mama Mboga <hello@mamamboga.example>"
    assert f"localhost:{own_smtp.port}" in email.text


@pytest.mark.usefixtures("committed")
def test_a_failing_override_says_why_in_the_servers_words(env_smtp, own_smtp, monkeypatch):
    monkeypatch.setattr(settings, "smtp_timeout", 2.0)
    with session_scope() as session:
        owner, business = actor_for(session)
        _use(session, owner, own_smtp)
        message, server = email_settings.compose_test_email(session, actor=owner)
    own_smtp.refuse("554 Sender address rejected: not owned by you")
    with pytest.raises(EmailFailed) as err:
        email_settings.send_test_email(message, server=server)
    assert "554 Sender address rejected" in str(err.value)
    # A server that is not there at all: refused connection, reported, not raised as a crash.
    with session_scope() as session:
        _use(session, owner, own_smtp, port=own_smtp.port)
        session.get(Business, business.id).smtp_port = 1  # nothing listens on port 1
    with session_scope() as session:
        message, server = email_settings.compose_test_email(session, actor=owner)
    with pytest.raises(EmailFailed) as err:
        email_settings.send_test_email(message, server=server)
    assert "localhost:1 did not take the email" in str(err.value)
    assert env_smtp.messages == []


@pytest.mark.usefixtures("committed")
def test_notifications_and_invitations_go_through_the_business_server(env_smtp, own_smtp):
    with session_scope() as session:
        owner, business = actor_for(session)
        _use(session, owner, own_smtp)
        other_owner, other = actor_for(session)
        for actor in (owner, other_owner):
            notifications.set_preference(session, actor=actor, kind="new_lead", in_app=True,
                                         email=True)  # fmt: skip
            notifications.notify(session, business_id=actor.business_id, kind="new_lead",
                                 user_ids=[actor.user_id], title="A new lead")  # fmt: skip
        team.invite_member(session, actor=owner, email="new.agent@example.com", role="agent")
    assert get_queue("default").count == 3
    run_worker("default")
    own = sorted(e.envelope_to[0] for e in own_smtp.messages)
    env = [e.envelope_to[0] for e in env_smtp.messages]
    with session_scope() as session:
        owner_email = session.get(User, owner.user_id).email
        other_email = session.get(User, other_owner.user_id).email
    # This business's notification and invitation went through its server; the other
    # business (no override) still uses the .env server.
    assert own == sorted([owner_email, "new.agent@example.com"])
    assert env == [other_email]
    assert business.id != other.id


@pytest.mark.usefixtures("committed")
def test_with_no_env_server_the_override_alone_makes_email_available(monkeypatch, own_smtp):
    monkeypatch.setattr(settings, "smtp_host", None)
    with session_scope() as session:
        owner, business = actor_for(session)
        plain = make_business(session)
        assert not notifications.email_available(session, business_id=business.id)
        _use(session, owner, own_smtp)
        assert notifications.email_available(session, business_id=business.id)
        assert not notifications.email_available(session, business_id=plain.id)
        make_user(session, business=plain)
        notifications.set_preference(session, actor=owner, kind="new_lead", in_app=True,
                                     email=True)  # fmt: skip
        [nid] = notifications.notify(session, business_id=business.id, kind="new_lead",
                                     user_ids=[owner.user_id], title="A new lead")  # fmt: skip
    assert notification_tasks.send_email(nid) == "sent"
    assert len(own_smtp.messages) == 1
