"""The /pay page in a real Chromium: the customer picks Stripe, pays on the (fake) hosted
checkout and comes back to "Paid, thank you" — through the production security headers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from backend.core.config import PROJECT_ROOT, settings
from backend.core.db import session_scope
from backend.payments import service
from tests.backend.payments.helpers import chat_replies, connect_stripe, make_shop, order
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_executable
from tests.fakes.stripe_server import FakeStripe

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("committed")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/pay/ping", timeout=5):  # noqa: S310
            return True
    except urllib.error.HTTPError:
        return True  # 404: the app answers
    except OSError:
        return False


@pytest.fixture
def api_url() -> Iterator[str]:
    """The API routes served by granian on a free port, on the test database and Redis."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "PUBLIC_URL": url, "PYTHONWARNINGS": "ignore"}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
         "--port", str(port), "tests.backend.payments.asgi:app"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    try:
        while not _answers(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"granian did not start: {proc.stderr.read()[-2000:]!r}")
            time.sleep(0.2)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.set_default_timeout(20_000)
        yield context.new_page()
        browser.close()


def test_the_customer_pays_with_stripe_in_a_browser(page: Page, api_url: str):
    with FakeStripe(secret_key="sk_test_browser", webhook_secret="whsec_browser") as stripe:
        with session_scope() as session:
            shop = make_shop(session)
            provider_id = connect_stripe(session, shop, stripe)
            token = service.create_payment_link(
                session, business_id=shop.business_id, order_id=shop.order_id
            ).token
        stripe.webhook_url = f"{api_url}/webhooks/payments/stripe/{provider_id}"

        response = page.goto(f"{api_url}/pay/{token}")
        assert "form-action 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        expect(page.get_by_text("25.00 USD").first).to_be_visible()
        page.get_by_role("button", name="Pay with Stripe").click()
        # On the provider's hosted checkout now (the form was allowed to leave BizBot).
        expect(page).to_have_url(f"{stripe.url}/c/pay/{stripe.created_sessions()[0]['id']}")
        page.get_by_role("button", name="Pay").click()

        expect(page).to_have_url(f"{api_url}/pay/{token}?status=return")
        expect(page.get_by_text("Paid, thank you!")).to_be_visible()
    with session_scope() as session:
        assert order(session, shop).status == "paid"
        assert len(chat_replies(session, shop)) == 1
