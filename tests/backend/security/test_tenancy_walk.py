"""No tenant ever sees or changes another's data: every service function that takes a member
(`actor`) and the id of something is called by an owner of business A with the ids of business
B's things, and must neither return B's data nor change any of B's rows. The same for every
`/api/v1` route with an id in its path, called with A's API key.

The walk finds the functions itself (every public function of every `backend.*` service module
with an `actor` and an `…_id` parameter), so a new service is covered the day it is written;
a function whose other arguments it cannot guess is listed, and the walk fails if it covers
too little.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel
from starlette.testclient import TestClient

import backend
from backend.auth.permissions import Actor
from backend.core.crypto import encrypt
from backend.core.db import session_scope
from backend.models import (
    AdAsset,
    CannedResponse,
    KnowledgeSource,
    Lead,
    MessageTemplate,
    Product,
    SLAPolicy,
)
from backend.models.base import utcnow
from backend.models.outgoing import OutgoingDelivery, WebhookEndpoint
from backend.models.payments import PaymentLink
from backend.models.tenants import Invitation, Role
from backend.security import service as security
from tests.factories import (
    make_business,
    make_channel,
    make_contact,
    make_conversation,
    make_message,
    make_order,
    make_user,
)

SECRET = "zeta-secret"  # in every text of business B: it must never come back to A

# Arguments the walk can supply by name (besides the actor and the ids).
DEFAULTS: dict[str, Any] = {
    "text": f"hello from A {SECRET}-not",
    "body": "hello",
    "name": "Walker",
    "title": "Walker",
    "email": "walker@a.example",
    "role": "agent",
    "status": "resolved",
    "stage": "won",
    "label": "walker",
    "labels": ["walker"],
    "note": "walker",
    "notes": "walker",
    "reason": "walker",
    "enabled": False,
    "is_active": False,
    "position": 0,
    "priority": "high",
    "fields": {},
    "values": {},
    "question": "q?",
    "answer": "a.",
    "content": "walker",
    "search": "",
    "limit": 10,
    "offset": 0,
    "quantity": 1,
    "confirm": True,
    "confirmation": "ERASE",
    "mark": False,
    "score": 5,
    "platform": "whatsapp",
    "language": "en",
    "headline": "Walker",
    "primary_text": "Walker",
    "call_to_action": "Walk",
    "price": "1.00",
    "currency": "EUR",
    "filename": "walker.png",
    "data": b"\x89PNG\r\n\x1a\n" + b"\x00" * 16,
    "max_open_conversations": 3,
    "shortcut": "walker",
    "variables": {},
}
SKIP_MODULES = ("backend.ops", "backend.cli", "backend.api", "backend.demo")
SERVICE_MODULE = re.compile(r"\.(service|members|account|rules_admin)$")


class World:
    """Two businesses; B owns one of everything, each carrying SECRET."""

    def __init__(self, session: Session) -> None:
        a = make_business(session, name="Alpha Shop")
        b = make_business(session, name=f"Beta {SECRET} Shop")
        self.a_owner = make_user(session, business=a, role=Role.OWNER)
        self.actor = Actor(user_id=self.a_owner.id, business_id=a.id, role=Role.OWNER)
        self.a, self.b = a, b
        b_owner = make_user(session, business=b, role=Role.OWNER, name=f"Owner {SECRET}")
        b_agent = make_user(session, business=b, role=Role.AGENT, name=f"Agent {SECRET}")
        channel = make_channel(session, business=b, kind="telegram")
        contact = make_contact(session, business=b, name=f"Customer {SECRET}")
        conversation = make_conversation(session, business=b, contact=contact)
        conversation.channel_integration_id = channel.id
        session.add(conversation)
        message = make_message(session, conversation=conversation, text=f"Message {SECRET}")
        order = make_order(session, business=b, conversation=conversation,
                           items=[(f"Loaf {SECRET}", 400, 1)])  # fmt: skip
        product = Product(business_id=b.id, name=f"Loaf {SECRET}", price_cents=400,
                          currency="EUR")  # fmt: skip
        lead = Lead(business_id=b.id, contact_id=contact.id, name=f"Lead {SECRET}",
                    interest=SECRET)  # fmt: skip
        source = KnowledgeSource(business_id=b.id, kind="faq", title=f"FAQ {SECRET}",
                                 content=f"Answer {SECRET}")  # fmt: skip
        canned = CannedResponse(business_id=b.id, shortcut="zeta", title=SECRET, content=SECRET)
        link = PaymentLink(business_id=b.id, order_id=order.id, token=f"{SECRET}-link")
        asset = AdAsset(business_id=b.id, title=f"Ad {SECRET}", content=SECRET)
        invitation = Invitation(business_id=b.id, email=f"{SECRET}@b.example", role="agent",
                                token_hash=f"{SECRET}-hash", expires_at=utcnow())  # fmt: skip
        policy = SLAPolicy(business_id=b.id, name=f"SLA {SECRET}")
        endpoint = WebhookEndpoint(business_id=b.id, url=f"https://b.example/{SECRET}",
                                   secret_encrypted=encrypt(SECRET),
                                   secret_hint=SECRET[:4])  # fmt: skip
        template = MessageTemplate(business_id=b.id, name="zeta_secret", language="en",
                                   body=f"Template {SECRET}")  # fmt: skip
        for row in (product, lead, source, canned, link, asset, invitation, policy, endpoint,
                    template):  # fmt: skip
            session.add(row)
        session.flush()
        delivery = OutgoingDelivery(business_id=b.id, endpoint_id=endpoint.id,
                                    webhook_id=f"{SECRET}-wh", event_type="message.created",
                                    event_key=SECRET)  # fmt: skip
        session.add(delivery)
        session.flush()
        key = security.create_api_key_for_business(
            session, business_id=b.id, name=f"Key {SECRET}", scopes=["conversations:read"]
        )
        self.ids: dict[str, int] = {
            "business_id": b.id,
            "user_id": b_agent.id,
            "member_id": b_agent.id,
            "member_user_id": b_agent.id,
            "owner_id": b_owner.id,
            "assignee_id": b_agent.id,
            "agent_id": b_agent.id,
            "integration_id": channel.id,
            "channel_id": channel.id,
            "contact_id": contact.id,
            "other_contact_id": contact.id,
            "into_contact_id": contact.id,
            "target_contact_id": contact.id,
            "conversation_id": conversation.id,
            "message_id": message.id,
            "order_id": order.id,
            "product_id": product.id,
            "lead_id": lead.id,
            "source_id": source.id,
            "canned_id": canned.id,
            "canned_response_id": canned.id,
            "response_id": canned.id,
            "link_id": link.id,
            "payment_link_id": link.id,
            "key_id": key.id,
            "api_key_id": key.id,
            "asset_id": asset.id,
            "invitation_id": invitation.id,
            "policy_id": policy.id,
            "endpoint_id": endpoint.id,
            "delivery_id": delivery.id,
            "template_id": template.id,
        }


def _snapshot(session: Session, business_id: int) -> dict[str, str]:
    """A fingerprint of every row business B owns, table by table."""
    session.flush()
    prints = {}
    for table in SQLModel.metadata.sorted_tables:
        column = (
            "business_id"
            if "business_id" in table.c
            else ("id" if table.name == "business" else None)
        )
        if column is None:
            continue
        prints[table.name] = session.execute(
            sa.text(f'SELECT md5(coalesce(string_agg(t::text, \',\' ORDER BY t.id), \'\')) '  # noqa: S608
                    f'FROM "{table.name}" t WHERE t.{column} = :b'),  # names from our own models
            {"b": business_id},
        ).scalar_one()  # fmt: skip
    return prints


def _service_functions() -> list[tuple[str, Callable]]:
    """Every public function of every backend service module taking an actor and an id."""
    found = []
    for info in pkgutil.walk_packages(backend.__path__, "backend."):
        name = info.name
        if name.startswith(SKIP_MODULES) or not re.search(
            r"\.(service|members|account|rules_admin)$", name
        ):
            continue
        module = importlib.import_module(name)
        for attr, func in vars(module).items():
            if attr.startswith("_") or not inspect.isfunction(func) or func.__module__ != name:
                continue
            params = inspect.signature(func).parameters
            if "actor" in params and any(p.endswith("_id") for p in params):
                found.append((f"{name}.{attr}", func))
    return found


def _arguments(func: Callable, world: World) -> dict[str, Any] | None:
    """Keyword arguments for `func` (B's ids, A's actor), or None when one cannot be guessed."""
    kwargs: dict[str, Any] = {}
    for name, param in inspect.signature(func).parameters.items():
        if name == "session":
            continue
        if name == "actor":
            kwargs[name] = world.actor
        elif name in world.ids:
            kwargs[name] = world.ids[name]
        elif name.endswith("_ids") and name[:-1] in world.ids:
            kwargs[name] = [world.ids[name[:-1]]]
        elif name == "items":  # an order of B's product
            kwargs[name] = [(world.ids["product_id"], 1)]
        elif name in DEFAULTS:
            kwargs[name] = DEFAULTS[name]
        elif param.default is not inspect.Parameter.empty:
            continue
        else:
            return None
    return kwargs


def _walk(
    db: Session, world: World, functions: list[tuple[str, Callable]]
) -> tuple[list[str], list[str], list[str]]:
    """Call each function as A with B's ids; (walked, unguessable, leaks found)."""
    before = _snapshot(db, world.b.id)
    walked, unguessable, leaks = [], [], []
    for qualname, func in functions:
        kwargs = _arguments(func, world)
        if kwargs is None:
            unguessable.append(qualname)
            continue
        walked.append(qualname)
        nested = db.begin_nested()
        try:
            result = func(db, **kwargs)
        except Exception:  # refusing (not found, not allowed, bad input) is what we want
            result = None
        try:
            if SECRET in repr(result):
                leaks.append(f"{qualname} returned business B's data: {repr(result)[:200]}")
            changed = [t for t, v in _snapshot(db, world.b.id).items() if before[t] != v]
            if changed:
                leaks.append(f"{qualname} changed business B's {', '.join(changed)}")
        except Exception as exc:  # a failed flush means nothing was written either
            del exc
        finally:
            if nested.is_active:
                nested.rollback()
            db.expire_all()
    return walked, unguessable, leaks


@pytest.mark.usefixtures("committed")
def test_no_service_returns_or_changes_another_business_data(db):
    world = World(db)
    db.commit()
    walked, unguessable, leaks = _walk(db, world, _service_functions())
    assert not leaks, "\n".join(leaks)
    # The walk must cover the product, not a corner of it.
    assert len(walked) >= 60, f"only {len(walked)} walked; could not call: {unguessable}"


@pytest.mark.usefixtures("committed")
def test_the_walk_would_catch_a_leak(db):
    from backend.models import Conversation, Lead

    def reads_anything(session, *, actor, conversation_id):
        return (
            session.get(Conversation, conversation_id).contact_id
            and session.exec(
                sa.select(Lead.name).where(Lead.business_id != actor.business_id)
            ).all()
        )

    def moves_anything(session, *, actor, lead_id):
        session.get(Lead, lead_id).stage = "won"

    world = World(db)
    db.commit()
    _, _, leaks = _walk(db, world, [("reads", reads_anything), ("moves", moves_anything)])
    assert [leak.split(" ")[0] for leak in leaks] == ["reads", "moves"]


@pytest.mark.usefixtures("committed")
def test_no_api_route_reaches_another_business():
    with session_scope() as session:
        world = World(session)
        key_a = security.create_api_key_for_business(
            session, business_id=world.a.id, name="A", scopes=list(security.SCOPES)
        )
        b_id, ids = world.b.id, dict(world.ids)
    with session_scope() as session:
        before = _snapshot(session, b_id)
    from backend.api import create_app

    with TestClient(create_app()) as client:
        paths = client.get("/api/v1/openapi.json").json()["paths"]
        auth = {"Authorization": f"Bearer {key_a.key}"}
        called = 0
        for template, methods in paths.items():
            names = re.findall(r"{(\w+)}", template)
            if not names:
                continue
            path = template
            for name in names:
                value = ids.get(name) or ids.get(f"{name.removesuffix('_id')}_id")
                path = path.replace(f"{{{name}}}", str(value))
            for method in methods:
                resp = client.request(method.upper(), path, headers=auth, json={"text": "x",
                                      "question": "q?", "answer": "a."})  # fmt: skip
                called += 1
                assert resp.status_code in (403, 404, 422), (method, path, resp.status_code)
                assert SECRET not in resp.text, (method, path)
    with session_scope() as session:
        assert _snapshot(session, b_id) == before
    assert called >= 3
