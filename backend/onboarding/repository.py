"""All SQL of the onboarding domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from backend.models.channels import ChannelIntegration
from backend.models.conversations import Conversation
from backend.models.knowledge import KnowledgeSource, KnowledgeSourceStatus
from backend.models.onboarding import OnboardingProgress
from backend.models.payments import PaymentProviderSetting
from backend.models.tenants import Invitation, Membership


@dataclass(frozen=True)
class SetupFacts:
    """What the business has done so far, read in one statement."""

    recorded_steps: list[str]
    dismissed_at: datetime | None
    completed_at: datetime | None
    channel: bool
    knowledge: bool
    conversation: bool
    team: bool
    payments: bool


def _exists(model, *where) -> sa.ColumnElement[bool]:
    return sa.exists().where(*where).select_from(model)


def setup_facts(session: Session, *, business_id: int) -> SetupFacts:
    """Every fact the checklist needs, in a single query (it runs on every page load)."""
    progress = OnboardingProgress.business_id == business_id

    def progress_column(column):
        return select(column).where(progress).scalar_subquery()

    row = session.execute(
        sa.select(
            progress_column(OnboardingProgress.completed_steps).label("steps"),
            progress_column(OnboardingProgress.dismissed_at).label("dismissed_at"),
            progress_column(OnboardingProgress.completed_at).label("completed_at"),
            _exists(
                ChannelIntegration,
                ChannelIntegration.business_id == business_id,
                ChannelIntegration.is_enabled.is_(True),
            ).label("channel"),
            _exists(
                KnowledgeSource,
                KnowledgeSource.business_id == business_id,
                KnowledgeSource.status == KnowledgeSourceStatus.READY,
                KnowledgeSource.is_enabled.is_(True),
            ).label("knowledge"),
            _exists(Conversation, Conversation.business_id == business_id).label("conversation"),
            sa.or_(
                _exists(
                    Invitation,
                    Invitation.business_id == business_id,
                    Invitation.revoked_at.is_(None),
                ),
                select(sa.func.count())
                .select_from(Membership)
                .where(Membership.business_id == business_id)
                .scalar_subquery()
                > 1,
            ).label("team"),
            _exists(
                PaymentProviderSetting,
                PaymentProviderSetting.business_id == business_id,
                PaymentProviderSetting.is_enabled.is_(True),
            ).label("payments"),
        )
    ).one()
    return SetupFacts(
        recorded_steps=[str(s) for s in (row.steps or [])],
        dismissed_at=row.dismissed_at,
        completed_at=row.completed_at,
        channel=bool(row.channel),
        knowledge=bool(row.knowledge),
        conversation=bool(row.conversation),
        team=bool(row.team),
        payments=bool(row.payments),
    )


def add_step(session: Session, *, business_id: int, step: str) -> None:
    """Add `step` to the business's recorded steps (once; creates the progress row)."""
    stmt = insert(OnboardingProgress).values(business_id=business_id, completed_steps=[step])
    current = OnboardingProgress.__table__.c.completed_steps
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["business_id"],
            set_={
                "completed_steps": sa.case(
                    (current.contains([step]), current),
                    else_=current.concat(sa.cast([step], current.type)),
                ),
                "updated_at": sa.func.now(),
            },
        )
    )


def set_progress(session: Session, *, business_id: int, **values: datetime | None) -> None:
    """Set dismissed_at and/or completed_at of the business's progress row (created if needed)."""
    stmt = insert(OnboardingProgress).values(business_id=business_id, **values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["business_id"], set_={**values, "updated_at": sa.func.now()}
        )
    )


def mark_completed(session: Session, *, business_id: int, now: datetime) -> bool:
    """Record when the checklist was first complete; True only the first time."""
    table = OnboardingProgress.__table__
    stmt = (
        insert(OnboardingProgress)
        .values(business_id=business_id, completed_at=now)
        .on_conflict_do_update(
            index_elements=["business_id"],
            set_={"completed_at": now, "updated_at": sa.func.now()},
            where=table.c.completed_at.is_(None),
        )
        .returning(table.c.id)
    )
    return session.execute(stmt).scalar_one_or_none() is not None
