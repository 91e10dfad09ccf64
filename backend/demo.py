"""The demo business `make run` and `python -m backend.cli demo seed` create (never production)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from backend.ai import service as ai_service
from backend.auth import repository as auth_repo
from backend.auth import service as auth
from backend.auth.passwords import hash_password
from backend.auth.permissions import Actor
from backend.billing import service as billing
from backend.channels import repository as channels_repo
from backend.channels import service as channels
from backend.channels import widget as widget_channel
from backend.commerce.demo import seed_demo_products
from backend.core.config import settings
from backend.core.db import session_scope
from backend.demo_knowledge import DEMO_FAQ, DEMO_RULES
from backend.knowledge import service as knowledge
from backend.knowledge import tasks as knowledge_tasks
from backend.models.base import utcnow
from backend.models.tenants import Role, User
from backend.tenants import repository as tenants_repo
from backend.tenants import service as tenants

DEMO_BUSINESS_NAME = "Sunrise Bakery (demo)"
DEMO_AGENT_EMAIL = "agent@sunrise-bakery.example"
# The demo widget may be embedded by any page served from this machine.
DEMO_WIDGET_ORIGINS = ["http://localhost:*", "http://127.0.0.1:*"]


class DemoRefused(RuntimeError):
    """The demo business is never created in production."""


@dataclass(frozen=True)
class DemoSeed:
    """What the demo seed made (or found): printed as JSON by the CLI."""

    business_id: int
    email: str
    password: str
    agent_email: str
    created: bool
    widget_key: str


def _ensure_user(session: Session, *, business_id: int, email: str, name: str, role: Role) -> User:
    user = auth_repo.find_user_by_login_email(session, email=email)
    if user is None:
        user = User(email=email, name=name, password_hash=hash_password(settings.demo_password))
        # A fresh installation seeded with the demo: its owner runs the installation.
        user.is_instance_admin = role == Role.OWNER and auth_repo.is_first_user(session)
        session.add(user)
    if user.email_verified_at is None:  # the demo's addresses are not real mailboxes
        user.email_verified_at = utcnow()
        session.add(user)
    session.flush()
    if tenants_repo.get_membership(session, business_id=business_id, user_id=user.id) is None:
        tenants.add_member(session, business_id=business_id, user_id=user.id, role=role)
    return user


def seed_demo(session: Session, *, reset_password: bool = True) -> DemoSeed:
    """Create the demo business, owner and agent once; reset their passwords to DEMO_PASSWORD."""
    if settings.is_production:
        raise DemoRefused("The demo business is not created when BIZBOT_ENV=production.")
    business = tenants_repo.find_demo_business(session)
    created = business is None
    if business is None:
        business = tenants.create_business(session, name=DEMO_BUSINESS_NAME, is_demo=True)
    owner = _ensure_user(
        session, business_id=business.id, email=settings.demo_email, name="Amina Okafor",
        role=Role.OWNER,
    )  # fmt: skip
    agent = _ensure_user(
        session, business_id=business.id, email=DEMO_AGENT_EMAIL, name="Tom Mwangi",
        role=Role.AGENT,
    )  # fmt: skip
    if reset_password:
        for user in (owner, agent):
            auth.set_password(session, user_id=user.id, password=settings.demo_password)
    if created:
        owner_actor = Actor(user_id=owner.id, business_id=business.id, role=Role.OWNER)
        ai_service.update_rules(session, actor=owner_actor, **DEMO_RULES)
    # Idempotent: unchanged entries are skipped; embedding happens in embed_demo_knowledge.
    knowledge.import_rows(
        session,
        business_id=business.id,
        rows=[
            {"id": f"demo-{group}-{lang}", "question": q, "answer": a, "language": lang,
             "group": group, "category": group}
            for group, lang, q, a in DEMO_FAQ
        ],
        enqueue=False,
    )  # fmt: skip
    widget = channels_repo.find_integration_of_kind(
        session, business_id=business.id, kind=widget_channel.KIND
    ) or channels.create_integration(
        session, business_id=business.id, kind=widget_channel.KIND, name="Website chat",
        config={**widget_channel.DEFAULTS, "title": "Sunrise Bakery",
                "greeting": "Hi! Ask me about our bread, opening hours, delivery or orders.",
                "color": "#c2410c", "allowed_origins": DEMO_WIDGET_ORIGINS},
        public_key=widget_channel.new_public_key(),
    )  # fmt: skip
    seed_demo_products(session, business_id=business.id)
    if billing.billing_enabled():  # the demo shows everything, unhindered by plan limits
        billing.grant_plan(session, business_id=business.id, plan="business")
    return DemoSeed(
        business_id=business.id,
        email=owner.email,
        password=settings.demo_password,
        agent_email=agent.email,
        created=created,
        widget_key=widget.public_key,
    )


def embed_demo_knowledge(business_id: int) -> dict[int, str]:
    """Embed the demo's new or changed entries now, so a fresh install answers at once."""
    with session_scope() as session:
        pending = knowledge.sources_to_embed(session, business_id=business_id)
    return knowledge_tasks.embed_sources(pending) if pending else {}
