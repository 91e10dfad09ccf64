"""`python -m backend.cli payments …`, run as an admin runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from backend.core.config import settings
from backend.core.db import session_scope
from backend.payments import service
from tests import factories
from tests.fakes.stripe_server import FakeStripe


def cli(*args: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "DATABASE_URL": settings.database_url,
               "REDIS_URL": settings.redis_url, "PYTHONWARNINGS": "ignore"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        capture_output=True, text=True, env=environ, timeout=120, check=False,
    )  # fmt: skip


def test_kinds_lists_the_seven_providers():
    result = cli("payments", "kinds")
    assert result.returncode == 0
    assert result.stdout.split() == [
        "stripe", "paystack", "flutterwave", "mpesa", "paypal", "airtel", "binance",
    ]  # fmt: skip


@pytest.mark.usefixtures("committed")
def test_add_prints_the_id_and_adding_again_updates():
    with session_scope() as session:
        business_id = factories.make_business(session).id
    config = '{"secret_key": "sk_test_cli", "webhook_secret": "whsec_cli", "currencies": ["usd"]}'
    first = cli("payments", "add", "--business", str(business_id), "--kind", "stripe",
                "--config", config)  # fmt: skip
    assert first.returncode == 0, first.stderr
    added = json.loads(first.stdout.strip().splitlines()[-1])
    assert added["kind"] == "stripe"
    assert added["enabled"] is False
    assert added["webhook_url"].endswith(f"/webhooks/payments/stripe/{added['id']}")
    again = cli("payments", "add", "--business", str(business_id), "--kind", "stripe",
                "--config", config)  # fmt: skip
    assert json.loads(again.stdout)["id"] == added["id"]
    with session_scope() as session:
        (view,) = service.list_providers(session, business_id=business_id)
    assert view.credentials_set == ["secret_key", "webhook_secret"]
    assert view.currencies == ["USD"]
    assert view.config == {}  # secrets went to the encrypted credentials, not the config


@pytest.mark.usefixtures("committed")
def test_add_with_test_switches_a_working_provider_on():
    with session_scope() as session:
        business_id = factories.make_business(session).id
    with FakeStripe(secret_key="sk_test_cli2", webhook_secret="whsec_cli2") as fake:
        config = json.dumps(
            {"secret_key": "sk_test_cli2", "webhook_secret": "whsec_cli2", "base_url": fake.url}
        )
        result = cli("payments", "add", "--business", str(business_id), "--kind", "stripe",
                     "--config", config, "--test")  # fmt: skip
    assert result.returncode == 0, result.stderr
    added = json.loads(result.stdout)
    assert added["connected"] is True
    assert added["enabled"] is True
    assert added["display_name"] == "Sunrise Bakery"


@pytest.mark.usefixtures("committed")
def test_add_explains_bad_input():
    with session_scope() as session:
        business_id = str(factories.make_business(session).id)
    bad_json = cli("payments", "add", "--business", business_id, "--kind", "stripe",
                   "--config", "{secret_key: x}")  # fmt: skip
    assert bad_json.returncode == 1
    assert "--config is not JSON" in bad_json.stderr
    missing = cli("payments", "add", "--business", business_id, "--kind", "stripe",
                  "--config", '{"secret_key": "sk_test_x"}')  # fmt: skip
    assert missing.returncode == 1
    assert "webhook_secret" in missing.stderr
    unknown = cli("payments", "add", "--business", business_id, "--kind", "cash",
                  "--config", "{}")  # fmt: skip
    assert unknown.returncode == 1
    assert "no payment provider 'cash'" in unknown.stderr
    nobody = cli("payments", "add", "--business", "999999", "--kind", "stripe",
                 "--config", '{"secret_key": "a", "webhook_secret": "b"}')  # fmt: skip
    assert nobody.returncode == 1
    assert "No business 999999" in nobody.stderr
