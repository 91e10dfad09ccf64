"""Fixtures of the pipeline tests: a business with a recording test channel."""

from __future__ import annotations

import pytest

from backend.channels import registry
from backend.channels.service import create_integration, to_config
from backend.core.db import session_scope
from tests.factories import make_business
from tests.fakes.channel import RecordingChannel


@pytest.fixture
def channel() -> RecordingChannel:
    """The test channel's adapter: it records what the pipeline sends."""
    adapter = RecordingChannel()
    registry.register(adapter)
    return adapter


@pytest.fixture
def cfg():
    """A committed business with an integration of the test channel."""
    with session_scope() as session:
        business = make_business(session)
        integration = create_integration(
            session, business_id=business.id, kind="test", name="Test", credentials={"k": "v"}
        )
        return to_config(integration)
