"""The scaled-out topology (`make run-cluster`): two Reflex backends behind one port, three RQ
workers, PostgreSQL and Redis reached only by URL. A customer's message enters over HTTP, a
worker answers it, and inbox pages held open on *both* backends show it live."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import Browser, Page, expect

from backend.core.config import PROJECT_ROOT
from tests.e2e.conftest import DEMO_PASSWORD, _free_port, _healthy

pytestmark = pytest.mark.e2e

OWNER = "owner@sunrise-bakery.example"
MAX_PAGES = 12


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict]:
    """`python -m backend.cluster` on a free port with its own data, stopped at the end."""
    port = _free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="bizbot-cluster-"))
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "PUBLIC_URL": "",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "REFLEX_WEB_WORKDIR": str(PROJECT_ROOT / ".web-cluster"),
        "PYTHONWARNINGS": "ignore",
    }
    log = open(data_dir / "cluster.log", "w")  # noqa: SIM115 (closed at teardown)
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.cluster", "--backends", "2"], cwd=PROJECT_ROOT,
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 900
    try:
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                text = (data_dir / "cluster.log").read_text()[-3000:]
                pytest.fail(f"the cluster did not start: {text}")
            time.sleep(1)
        urls = dict(
            line.split("=", 1)
            for line in (data_dir / "cluster" / "env").read_text().splitlines()
            if "=" in line
        )
        yield {"url": url, "port": port, "env": env, "cli_env": {**env, **urls}}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def backends(port: int) -> dict[int, int]:
    """Each process listening on the app's port → its established connections on that port."""
    listening: dict[int, int] = {}
    for conn in psutil.net_connections(kind="tcp"):
        if conn.laddr and conn.laddr.port == port and conn.pid and conn.status == "LISTEN":
            listening.setdefault(conn.pid, 0)
    for conn in psutil.net_connections(kind="tcp"):
        if (
            conn.pid in listening
            and conn.laddr
            and conn.laddr.port == port
            and conn.status == psutil.CONN_ESTABLISHED
        ):
            listening[conn.pid] += 1
    return listening


def post_json(url: str, body: dict, origin: str) -> dict:
    request = urllib.request.Request(  # noqa: S310 (a local test server)
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Origin": origin},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
        return json.loads(resp.read() or b"{}")


def conversation_of(url: str, key: str, visitor: str, timeout: float = 120) -> int:
    """The visitor's conversation, once a worker has stored their message (as the widget sees)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = post_json(f"{url}/api/widget/{key}/session", {"visitor_token": visitor}, url)
        if state.get("conversation"):
            return state["conversation"]["id"]
        time.sleep(0.2)
    raise AssertionError("no worker stored the visitor's message")


def widget_key(cluster: dict) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "backend.cli", "demo", "seed"], cwd=PROJECT_ROOT,
        env=cluster["cli_env"], capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])["widget_key"]


def open_inbox(browser: Browser, url: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(f"{url}/login?next=%2Fconversations")
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/conversations"))
    expect(page.get_by_role("region", name="Conversation list")).to_be_visible()
    return page


def test_two_backends_three_workers_and_live_pages_on_each_backend(cluster, browser):
    port, url = cluster["port"], cluster["url"]
    assert len(backends(port)) == 2, "two Reflex backend processes share the one port"
    workers = [
        p for p in psutil.process_iter(["cmdline"])
        if p.info["cmdline"] and "backend.worker" in p.info["cmdline"]
        and f"DATA_DIR={cluster['env']['DATA_DIR']}" in _environ(p)
    ]  # fmt: skip
    # An RQ worker forks a helper process for its scheduler: count the workers themselves.
    pids = {p.pid for p in workers}
    assert len([p for p in workers if p.ppid() not in pids]) == 3

    key = widget_key(cluster)
    pages: list[Page] = []
    # Open inbox pages until each backend holds at least one of their websockets.
    while min(backends(port).values()) == 0:
        assert len(pages) < MAX_PAGES, f"websockets all landed on one backend: {backends(port)}"
        pages.append(open_inbox(browser, url))

    text = f"Cluster check {uuid.uuid4().hex[:8]}: what time do you open?"
    visitor = post_json(f"{url}/api/widget/{key}/session", {}, origin=url)["visitor_token"]
    post_json(
        f"{url}/api/widget/{key}/messages",
        {"visitor_token": visitor, "client_id": uuid.uuid4().hex, "text": text},
        origin=url,
    )
    for page in pages:  # each page learns of the new conversation from its own backend
        expect(
            page.get_by_text(re.compile(re.escape(text[:20]) + "|We are open")).first
        ).to_be_visible()
    conversation_id = post_json(
        f"{url}/api/widget/{key}/session", {"visitor_token": visitor}, origin=url
    )["conversation"]["id"]
    for page in pages:
        page.locator(
            f"[data-testid='conversation-row'][data-conversation-id='{conversation_id}']"
        ).click()
        log = page.get_by_role("log", name="Messages")
        expect(log.locator("[data-testid='message'][data-sender='customer']")).to_contain_text(text)
        expect(log.locator("[data-testid='message'][data-sender='ai']").first).to_be_visible()
        page.context.close()


def _environ(proc: psutil.Process) -> list[str]:
    with contextlib.suppress(psutil.Error):
        return [f"{k}={v}" for k, v in proc.environ().items()]
    return []
