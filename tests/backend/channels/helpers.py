"""Shared pieces of the channel tests: payload fixtures, integrations, signing, the worker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rq import SimpleWorker
from sqlmodel import select

from backend.channels import meta
from backend.channels.base import ChannelConfig
from backend.channels.service import create_integration, to_config
from backend.core.config import settings
from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.core.redis import get_redis
from backend.models import AIRule
from tests.factories import make_business
from tests.fakes.graph_server import FakeGraph
from tests.fakes.telegram_server import FakeTelegram

PAYLOADS = Path(__file__).resolve().parents[2] / "fixtures" / "payloads"
APP_SECRET = "app-secret-0123456789abcdef"
VERIFY_TOKEN = "verify-me-please"

WHATSAPP = {
    "phone_number_id": "106540352242922",
    "waba_id": "102290129340398",
    "access_token": "wa-token",
    "app_secret": APP_SECRET,
    "verify_token": VERIFY_TOKEN,
}
MESSENGER = {
    "page_id": "104729435542271",
    "page_access_token": "page-token",
    "app_secret": APP_SECRET,
    "verify_token": VERIFY_TOKEN,
}
INSTAGRAM = {
    "ig_account_id": "17841400000000001",
    "page_access_token": "ig-page-token",
    "app_secret": APP_SECRET,
    "verify_token": VERIFY_TOKEN,
}
TELEGRAM = {"bot_token": "123456:ABC-DEF_test", "webhook_secret": "tg-secret-token"}
CREDENTIALS = {
    "whatsapp": WHATSAPP,
    "messenger": MESSENGER,
    "instagram": INSTAGRAM,
    "telegram": TELEGRAM,
}


def payload(channel: str, name: str, **replace: str) -> bytes:
    """A fixture's bytes, with placeholders (e.g. CDN/ → the fake CDN's URL) replaced."""
    text = (PAYLOADS / channel / f"{name}.json").read_text(encoding="utf-8")
    for old, new in replace.items():
        text = text.replace(old, new)
    return text.encode()


def payload_json(channel: str, name: str) -> dict[str, Any]:
    """A fixture as a dict."""
    return json.loads(payload(channel, name))


def make_channel(kind: str, *, answer_everything: bool = True, **overrides: Any) -> ChannelConfig:
    """A committed business with one integration of `kind` (test credentials)."""
    with session_scope() as session:
        business = make_business(session)
        if answer_everything:  # no handover: the AI answers whatever it is asked
            session.add(AIRule(business_id=business.id, confidence_threshold=0.0, max_ai_turns=0))
        integration = create_integration(
            session,
            business_id=business.id,
            kind=kind,
            name=f"{kind} test",
            credentials={**CREDENTIALS[kind], **overrides},
        )
        return to_config(integration)


def meta_headers(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    """The headers Meta sends with a webhook body."""
    return {"X-Hub-Signature-256": meta.sign(body, secret), "Content-Type": "application/json"}


def telegram_headers(secret: str = TELEGRAM["webhook_secret"]) -> dict[str, str]:
    """The headers Telegram sends with an update."""
    return {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}


def run_worker(*queues: str) -> None:
    """Work the queues until empty, in this process."""
    names = queues or ("inbound", "outbound", "default")
    SimpleWorker([get_queue(n) for n in names], connection=get_redis()).work(burst=True)


def rows(model, *where):
    """Committed rows of a table, in id order."""
    with session_scope() as session:
        return list(session.exec(select(model).where(*where).order_by(model.id)).all())


@contextmanager
def fake_graph(monkeypatch) -> Iterator[FakeGraph]:
    """The fake Graph API, with the test number, Page and Instagram account, as BizBot's."""
    with FakeGraph() as server:
        monkeypatch.setattr(settings, "graph_api_base_url", server.url)
        monkeypatch.setattr(settings, "graph_api_version", "23.0")
        server.add_phone(WHATSAPP["phone_number_id"], token=WHATSAPP["access_token"])
        server.add_page(
            MESSENGER["page_id"], token=MESSENGER["page_access_token"], name="Sunrise Bakery"
        )
        server.add_page(
            INSTAGRAM["ig_account_id"],
            token=INSTAGRAM["page_access_token"],
            name="Sunrise Bakery",
            username="sunrisebakery",
        )
        yield server


@contextmanager
def fake_telegram(monkeypatch) -> Iterator[FakeTelegram]:
    """The fake Telegram Bot API, with the test bot, as BizBot's."""
    with FakeTelegram() as server:
        monkeypatch.setattr(settings, "telegram_api_base_url", server.url)
        server.add_bot(TELEGRAM["bot_token"])
        yield server
