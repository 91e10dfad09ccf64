"""Setting up the messaging channels: the Integrations page's service and the admin CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from backend.auth.permissions import PermissionDenied
from backend.core.config import settings
from backend.core.crypto import decrypt
from backend.core.db import session_scope
from backend.integrations import service
from backend.integrations.service import ChannelSetupError
from backend.models import ChannelIntegration, Message, Role
from tests.backend.channels.helpers import TELEGRAM, WHATSAPP, rows
from tests.factories import actor_for, make_business


@pytest.fixture
def owner(db):
    actor, _ = actor_for(db, role=Role.OWNER)
    return actor


def test_every_channel_starts_not_connected(db, owner):
    setups = service.get_channels(db, actor=owner)
    assert [s.kind for s in setups] == ["whatsapp", "telegram", "instagram", "messenger"]
    assert not any(s.connected for s in setups)


def test_saving_whatsapp_encrypts_secrets_and_never_shows_them(db, owner):
    view = service.save_channel(
        db, actor=owner, kind="whatsapp", values={**WHATSAPP, "verify_token": ""}
    )
    assert view.connected
    assert view.values == {
        "phone_number_id": WHATSAPP["phone_number_id"],
        "waba_id": WHATSAPP["waba_id"],
        "verify_token": view.verify_token,
    }
    assert sorted(view.secrets_set) == ["access_token", "app_secret"]
    assert len(view.verify_token) >= 20  # made for the owner to copy into Meta
    assert view.webhook_url == f"{settings.public_url}/webhooks/whatsapp/{view.integration_id}"
    row = db.get(ChannelIntegration, view.integration_id)
    assert WHATSAPP["access_token"] not in row.credentials_encrypted
    assert json.loads(decrypt(row.credentials_encrypted))["access_token"] == "wa-token"
    # Saving again with the secrets left empty keeps them.
    again = service.save_channel(
        db,
        actor=owner,
        kind="whatsapp",
        values={"phone_number_id": "106540352242999", "waba_id": WHATSAPP["waba_id"]},
    )
    assert again.values["phone_number_id"] == "106540352242999"
    assert again.verify_token == view.verify_token
    assert json.loads(decrypt(row.credentials_encrypted))["app_secret"] == WHATSAPP["app_secret"]


@pytest.mark.parametrize(
    ("kind", "values", "field", "words"),
    [
        (
            "whatsapp",
            {**WHATSAPP, "phone_number_id": "+254 700 000001"},
            "phone_number_id",
            "digits only",
        ),
        ("whatsapp", {**WHATSAPP, "access_token": ""}, "access_token", "Enter the access token"),
        ("telegram", {"bot_token": "not a token"}, "bot_token", "123456789:AAH"),
        (
            "messenger",
            {"page_id": "1234", "page_access_token": "tok en here", "app_secret": "x"},
            "page_access_token",
            "spaces",
        ),
        (
            "instagram",
            {
                "ig_account_id": "17841400000000001",
                "page_access_token": "t" * 20,
                "app_secret": "s" * 20,
                "verify_token": "short",
            },
            "verify_token",
            "8 to 200",
        ),
        ("telegram", {"bot_token": TELEGRAM["bot_token"], "webhook": "x"}, "webhook", "no setting"),
        ("fax", {}, "kind", "Unknown channel"),
    ],
)
def test_bad_settings_name_the_field_and_the_fix(db, owner, kind, values, field, words):
    with pytest.raises(ChannelSetupError, match=words) as caught:
        service.save_channel(db, actor=owner, kind=kind, values=values)
    assert caught.value.field == field


def test_agents_cannot_set_up_channels(db):
    agent, _ = actor_for(db, role=Role.AGENT)
    with pytest.raises(PermissionDenied):
        service.save_channel(db, actor=agent, kind="telegram", values=TELEGRAM)


@pytest.mark.usefixtures("committed")
def test_testing_telegram_registers_the_webhook_and_shows_the_bot(telegram):
    with session_scope() as session:
        owner, _ = actor_for(session, role=Role.OWNER)
        view = service.save_channel(
            session, actor=owner, kind="telegram", values={"bot_token": TELEGRAM["bot_token"]}
        )
        cfg = service.channel_config(session, actor=owner, kind="telegram")
    info = service.check_channel(cfg, register=True)
    assert (info.ok, info.display_name) == (True, "Sunrise Bakery (@sunrise_bot)")
    webhook = telegram.webhook(TELEGRAM["bot_token"])
    assert webhook["url"] == view.webhook_url
    assert webhook["secret_token"] == cfg.credentials["webhook_secret"]
    with session_scope() as session:
        shown = service.record_check(session, actor=owner, kind="telegram", info=info)
    assert (shown.display_name, shown.last_error) == ("Sunrise Bakery (@sunrise_bot)", None)
    assert shown.connected_at is not None
    with session_scope() as session:
        gone = service.disconnect_channel(session, actor=owner, kind="telegram")
    assert (gone.connected, gone.secrets_set, gone.display_name) == (False, [], None)


@pytest.mark.usefixtures("committed")
def test_a_wrong_token_is_shown_with_the_platforms_exact_error(graph):
    with session_scope() as session:
        owner, _ = actor_for(session, role=Role.OWNER)
        service.save_channel(
            session,
            actor=owner,
            kind="whatsapp",
            values={**WHATSAPP, "access_token": "expired-token"},
        )
        cfg = service.channel_config(session, actor=owner, kind="whatsapp")
    info = service.check_channel(cfg, register=True)
    assert info.error == "Invalid OAuth access token - Cannot parse access token (code 190)"
    with session_scope() as session:
        shown = service.record_check(session, actor=owner, kind="whatsapp", info=info)
    assert shown.last_error == info.error
    assert graph.state.subscribed == []  # no webhook set-up with a token that does not work


# --- the admin CLI -----------------------------------------------------------------------------


def cli(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "DATA_DIR": str(settings.data_dir),
        "PYTHONWARNINGS": "ignore",
        **(extra_env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.usefixtures("committed")
def test_channel_add_registers_and_messages_lists_what_came_in(graph):
    with session_scope() as session:
        business_id = make_business(session).id
    done = cli(
        "channel",
        "add",
        "--business",
        str(business_id),
        "--kind",
        "whatsapp",
        "--config",
        json.dumps(WHATSAPP),
        extra_env={"GRAPH_API_BASE_URL": graph.url, "GRAPH_API_VERSION": "23.0"},
    )
    assert done.returncode == 0, done.stderr
    added = json.loads(done.stdout)
    assert (added["kind"], added["connected"]) == ("whatsapp", True)
    assert added["display_name"] == "Sunrise Bakery (+254 700 000001)"
    assert added["webhook_url"].endswith(f"/webhooks/whatsapp/{added['id']}")
    assert graph.state.subscribed == [WHATSAPP["waba_id"]]
    offline = cli(
        "channel",
        "add",
        "--business",
        str(business_id),
        "--kind",
        "telegram",
        "--config",
        json.dumps({"bot_token": TELEGRAM["bot_token"]}),
        "--no-register",
    )
    assert offline.returncode == 0, offline.stderr
    assert json.loads(offline.stdout)["kind"] == "telegram"
    bad = cli(
        "channel",
        "add",
        "--business",
        str(business_id),
        "--kind",
        "telegram",
        "--config",
        '{"bot_token": "nope"}',
        "--no-register",
    )
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: bot_token: That is not a Telegram bot token")
    assert cli(
        "channel",
        "add",
        "--business",
        str(business_id),
        "--kind",
        "telegram",
        "--config",
        "{oops",
        "--no-register",
    ).stderr.startswith("error: --config is not JSON")

    from backend.channels import registry
    from backend.channels.service import to_config
    from backend.conversations import service as conversations
    from tests.backend.channels.helpers import payload, run_worker

    with session_scope() as session:
        cfg = to_config(session.get(ChannelIntegration, added["id"]))
        conversations.receive(
            session,
            cfg=cfg,
            events_in=registry.get_adapter("whatsapp").parse(payload("whatsapp", "text"), cfg),
        )
    run_worker()
    listed = cli("messages", "--business", str(business_id), "--json", "--limit", "5")
    lines = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [m["direction"] for m in lines] == ["outbound", "inbound"]
    assert lines[1]["external_id"] == "wamid.HBgMMjU0NzEyMzQ1Njc4FQIAEhggQUFBQUFB"
    assert lines[0]["delivery_status"] == "sent"
    assert len(rows(Message)) == 2


@pytest.mark.usefixtures("committed")
def test_events_replay_rereads_a_kept_body_and_reruns_an_event(graph):
    from backend.channels import service as channels
    from backend.channels.service import create_integration, to_config
    from backend.models import InboundEvent
    from tests.backend.channels.helpers import payload

    with session_scope() as session:
        business = make_business(session)
        cfg = to_config(
            create_integration(
                session,
                business_id=business.id,
                kind="whatsapp",
                name="WhatsApp",
                credentials=WHATSAPP,
            )
        )
        kept = channels.record_delivery(
            session,
            cfg=cfg,
            body=payload("whatsapp", "text"),
            content_type="application/json",
            outcome="rejected",
            error="a bug since fixed",
        )
        kept_id = kept.id
    env = {"GRAPH_API_BASE_URL": graph.url, "GRAPH_API_VERSION": "23.0"}
    done = cli("events", "replay", "--delivery", str(kept_id), extra_env=env)
    assert done.returncode == 0, done.stderr
    replayed = json.loads(done.stdout)
    assert (replayed["events"], len(replayed["new_event_ids"])) == (1, 1)
    again = json.loads(cli("events", "replay", "--delivery", str(kept_id), extra_env=env).stdout)
    assert again["new_event_ids"] == []  # stored once, however often it is replayed
    [event] = rows(InboundEvent)
    rerun = cli("events", "replay", str(event.id), extra_env=env)
    assert json.loads(rerun.stdout) == {"event_id": event.id, "status": "done"}
    assert [m.direction for m in rows(Message)] == ["inbound", "outbound"]
    missing = cli("events", "replay", "999999")
    assert (missing.returncode, missing.stderr.strip()) == (
        1,
        "error: there is no inbound event 999999",
    )
    assert json.loads(cli("events", "purge").stdout) == {"purged": 0}
