"""`secrets rotate`: every stored secret re-encrypted under a new key, all or nothing."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import InvalidToken
from sqlmodel import select

from backend.cli import main
from backend.core import crypto
from backend.core.config import settings
from backend.core.db import session_scope
from backend.models import AuditLog, ChannelIntegration, TwoFactor
from backend.security import two_factor
from tests.factories import make_business, make_channel, make_user

NEW_KEY = "new-key-" + "n" * 40


@pytest.fixture(autouse=True)
def _fresh_keys(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ENCRYPTION_KEYS", raising=False)
    crypto.reset_keys()
    yield
    crypto.reset_keys()


def _stored_secrets() -> tuple[int, int, str]:
    with session_scope() as session:
        business = make_business(session)
        channel = make_channel(session, business=business, kind="telegram")
        channel.credentials_encrypted = crypto.encrypt(json.dumps({"bot_token": "123:abc"}))
        session.add(channel)
        user = make_user(session, business=business)
        secret = two_factor.start_enrolment(session, user_id=user.id).secret
        return channel.id, business.id, secret


def _ciphertexts(channel_id: int) -> tuple[str, str]:
    with session_scope() as session:
        channel = session.get(ChannelIntegration, channel_id)
        row = session.exec(select(TwoFactor)).one()
        return channel.credentials_encrypted, row.secret_encrypted


@pytest.mark.usefixtures("committed")
def test_rotate_with_configured_keys_moves_everything_to_the_first_key(monkeypatch, capsys):
    channel_id, business_id, secret = _stored_secrets()
    before = _ciphertexts(channel_id)
    # Step 1 of the documented procedure: the new key first, the old one (SECRET_KEY) after it.
    monkeypatch.setenv("ENCRYPTION_KEYS", f"{NEW_KEY},{settings.effective_secret_key}")
    assert main(["secrets", "rotate"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rotated"]["channelintegration.credentials_encrypted"] == 1
    assert out["rotated"]["twofactor.secret_encrypted"] == 1
    assert out["total"] == sum(out["rotated"].values())
    after = _ciphertexts(channel_id)
    assert all(a != b for a, b in zip(after, before, strict=True))
    # Step 3: drop the old key; everything still reads.
    monkeypatch.setenv("ENCRYPTION_KEYS", NEW_KEY)
    crypto.reset_keys()
    assert json.loads(crypto.decrypt(after[0])) == {"bot_token": "123:abc"}
    assert crypto.decrypt(after[1]) == secret
    with pytest.raises(InvalidToken):
        crypto.fernet_for(settings.effective_secret_key).decrypt(after[0].encode())
    with session_scope() as session:
        entry = session.exec(select(AuditLog).where(AuditLog.action == "secrets.rotated")).one()
        assert entry.business_id == business_id


@pytest.mark.usefixtures("committed")
def test_a_wrong_old_key_changes_nothing(capsys):
    channel_id, _, _ = _stored_secrets()
    before = _ciphertexts(channel_id)
    code = main(["secrets", "rotate", "--new-key", NEW_KEY, "--old-key", "not-the-key"])
    assert code == 1
    err = capsys.readouterr().err
    assert "cannot be decrypted with the keys given" in err
    assert "--old-key" in err
    assert _ciphertexts(channel_id) == before


@pytest.mark.usefixtures("committed")
def test_explicit_old_and_new_keys(capsys):
    channel_id, _, secret = _stored_secrets()
    old = settings.effective_secret_key
    assert main(["secrets", "rotate", "--new-key", NEW_KEY, "--old-key", old]) == 0
    _, tfa = _ciphertexts(channel_id)
    assert crypto.fernet_for(NEW_KEY).decrypt(tfa.encode()).decode() == secret
