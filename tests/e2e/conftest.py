"""The app started the way `make run` starts it (the supervisor), and a real Chromium."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from backend.core.config import PROJECT_ROOT

DEMO_PASSWORD = "e2e-demo-password"
# What a person waits at most for something to appear: generous, because two cores also run
# the app's workers; a passing check never waits this long.
expect.set_options(timeout=15_000)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/api/health", timeout=5) as resp:  # noqa: S310
            return json.loads(resp.read()).get("worker") == "ok"
    except (OSError, ValueError):
        return False


# The fake Stripe of billing needs a port the app knows at start: chosen once, at import.
BILLING_STRIPE_PORT = _free_port()
BILLING_STRIPE_KEY = "sk_test_billing_e2e"
BILLING_STRIPE_WEBHOOK_SECRET = "whsec_billing_e2e"


@dataclass(frozen=True)
class App:
    """The running app: its address, and the environment that reaches its database and Redis."""

    url: str
    env: dict[str, str]

    def cli(self, *args: str) -> dict:
        """Run `python -m backend.cli ARGS` against this app; its JSON output."""
        done = subprocess.run(
            [sys.executable, "-m", "backend.cli", *args], cwd=PROJECT_ROOT, env=self.env,
            capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
        return json.loads(done.stdout)

    def python(self, code: str) -> str:
        """Run Python code in a process connected to this app's database and Redis."""
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=self.env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout


@pytest.fixture(scope="session")
def app_url(app: App) -> str:
    """The running app's base URL."""
    return app.url


@pytest.fixture(scope="session")
def app() -> Iterator[App]:
    """BizBot on a free port with its own data dir and embedded services, stopped at the end."""
    port = _free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="bizbot-e2e-"))
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "PUBLIC_URL": "",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "DEMO_PASSWORD": DEMO_PASSWORD,
        # Its own frontend build, so a developer's `make run` on port 3000 is left alone.
        "REFLEX_WEB_WORKDIR": os.environ.get("BIZBOT_E2E_WEB_DIR", str(PROJECT_ROOT / ".web-test")),
        "PYTHONWARNINGS": "ignore",
        # Billing on, against the fake Stripe tests/e2e/test_billing.py starts on this port.
        "BILLING_STRIPE_SECRET_KEY": BILLING_STRIPE_KEY,
        "BILLING_STRIPE_WEBHOOK_SECRET": BILLING_STRIPE_WEBHOOK_SECRET,
        "BILLING_STRIPE_PRICE_PRO": "price_pro_e2e",
        "BILLING_STRIPE_PRICE_BUSINESS": "price_business_e2e",
        "BILLING_STRIPE_API_BASE": f"http://127.0.0.1:{BILLING_STRIPE_PORT}",
    }
    log = open(data_dir / "app.log", "w")  # noqa: SIM115 (closed at teardown)
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.supervisor"], cwd=PROJECT_ROOT, env=env,
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 900
    try:
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"BizBot did not start: {(data_dir / 'app.log').read_text()[-3000:]}")
            time.sleep(1)
        yield App(url=url, env=env)
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have died on its own
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def chromium_executable() -> str | None:
    """Debian's Chromium when installed, else None (Playwright's own)."""
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium: Debian's when installed, else Playwright's own."""
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) per test."""
    context = browser.new_context()
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()
