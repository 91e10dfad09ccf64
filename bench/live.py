"""Live inbox benchmark: inbound message accepted → shown in every open inbox page.

    make run                                       # in another terminal (BizBot on :3000)
    .venv/bin/python bench/live.py                 # 20 tabs, 20 messages/s for 15 s
    .venv/bin/python bench/live.py --url http://127.0.0.1:PORT --mode ai --seconds 10

Opens `--pages` Conversations pages: `--browser-pages` of them in Chromium (signed in as the
demo agent and owner, spread over browser contexts), the rest as websocket clients that speak
to BizBot exactly as a page does (the frames a Chromium page sent on load are replayed under
a new tab token, with the same session cookie), so the server does the work of 20 open tabs
while this machine renders only a few. Then it stores `--rate` customer messages per second the
way a channel webhook does (`conversations.service.receive`: the event row, the job enqueued
after the commit). The RQ worker of the running BizBot processes them; the pages update through
Redis.

A Chromium page records, with a MutationObserver, the wall-clock time (Date.now(), the same
clock as this process) at which each message's text first appears in its list; a websocket
client records when the update carrying it arrives. The latency of a message on a page is that
time minus the moment `receive` committed ("accepted"). Also reported: when the worker
published `message.created` (seen by a subscriber here), which splits the latency into the
pipeline's part and the live push's part.

`--mode human` (default): the senders' conversations are with an agent, so the AI does not
answer and the pipeline only stores the message. `--mode ai`: new conversations the AI answers
(the pipeline's reply time then dominates; see bench/engine.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import threading
import time
import uuid
import uuid as uuidlib
from pathlib import Path

import redis
import simple_websocket
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from sqlmodel import select  # noqa: E402

from backend.auth.permissions import Actor  # noqa: E402
from backend.channels import repository as channels_repo  # noqa: E402
from backend.channels.base import ChannelConfig, MessageIn  # noqa: E402
from backend.conversations import service as conversations  # noqa: E402
from backend.core.config import settings  # noqa: E402
from backend.core.db import session_scope  # noqa: E402
from backend.core.redis import redis_url  # noqa: E402
from backend.demo import seed_demo  # noqa: E402
from backend.handoff import service as handoff  # noqa: E402
from backend.live import tenant_channel  # noqa: E402
from backend.models import Conversation, Message  # noqa: E402
from backend.models.tenants import Role  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
        "--disable-backgrounding-occluded-windows"]  # fmt: skip
# Records the first time each bench token shows in the page's list.
OBSERVE = """(pattern) => {
  window.__seen = {};
  const re = new RegExp(pattern, 'g');
  const scan = () => {
    const now = Date.now();
    for (const el of document.querySelectorAll("[data-testid='preview']")) {
      for (const m of el.textContent.matchAll(re)) {
        if (!(m[0] in window.__seen)) window.__seen[m[0]] = now;
      }
    }
  };
  new MutationObserver(scan).observe(document.body,
    {subtree: true, childList: true, characterData: true});
  scan();
}"""


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _cfg(business_id: int) -> ChannelConfig:
    with session_scope() as session:
        widget = channels_repo.find_integration_of_kind(
            session, business_id=business_id, kind="widget"
        )
        return ChannelConfig(integration_id=widget.id, business_id=business_id, kind="widget")


def _receive(cfg: ChannelConfig, sender: str, text: str) -> None:
    with session_scope() as session:
        conversations.receive(
            session,
            cfg=cfg,
            events_in=[MessageIn(external_id=uuid.uuid4().hex, sender_id=sender, text=text,
                                 sender_name=f"Bench {sender[-4:]}")],
        )  # fmt: skip


def _wait_stored(text: str, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope() as session:
            found = session.exec(select(Message).where(Message.text == text)).first()
            if found is not None:
                return found.conversation_id
        time.sleep(0.05)
    raise SystemExit(f"the worker did not store {text!r}: is BizBot running?")


def _prepare_senders(cfg: ChannelConfig, owner: Actor, count: int, run: str, human: bool):
    """One conversation per sender; with people (status human) unless the AI is benchmarked."""
    senders, conversation_of = [], {}
    for n in range(count):
        sender = f"bench-{run}-s{n:02d}"
        text = f"Hello from sender {n} ({run})"
        _receive(cfg, sender, text)
        senders.append((sender, text))
    for sender, text in senders:
        conversation_of[sender] = _wait_stored(text)
    if human:
        with session_scope() as session:
            for conversation_id in conversation_of.values():
                status = session.get(Conversation, conversation_id).status
                if status != "human":
                    handoff.take_over(session, actor=owner, conversation_id=conversation_id)
    return [s for s, _ in senders], conversation_of


def _published(business_id: int, stop: threading.Event, out: list) -> None:
    """Record when each customer message.created reaches a subscriber (per conversation)."""
    pubsub = redis.Redis.from_url(redis_url()).pubsub()
    pubsub.subscribe(tenant_channel(business_id))
    while not stop.is_set():
        message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message and message.get("type") == "message":
            data = json.loads(message["data"])
            if data.get("event") == "message.created" and data.get("sender_type") == "customer":
                out.append((time.time() * 1000, data["conversation_id"], data["message_id"]))
    pubsub.close()


def _open_pages(pw, url: str, password: str, pages: int, contexts: int):
    """Chromium pages on /conversations, and the first frame a page sends its websocket."""
    browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
    opened, cookies, boot = [], [], []
    users = [settings.demo_email, "agent@sunrise-bakery.example"]
    for c in range(contexts):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(60_000)
        login = context.new_page()
        for attempt in range(3):  # a page still hydrating may drop the first typing
            login.goto(url + "/login?next=%2Fconversations")
            login.get_by_label("Email").fill(users[c % len(users)])
            login.get_by_label("Password").fill(password)
            login.get_by_role("button", name="Log in").click()
            try:
                expect(login.get_by_role("region", name="Conversation list")).to_be_visible(
                    timeout=20_000
                )
                break
            except AssertionError:
                if attempt == 2:
                    raise
        cookies.append("; ".join(f"{k['name']}={k['value']}" for k in context.cookies()))
        opened.append(login)
        for _ in range(pages // contexts - 1 + (c < pages % contexts)):
            page = context.new_page()
            page.goto(url + "/conversations")
            opened.append(page)
    # The frame a page sends when its websocket connects (its page-load event), to replay.
    probe = opened[0].context.new_page()
    probe.on("websocket", lambda ws: ws.on(
        "framesent", lambda f: boot.append(str(f)) if str(f).startswith("40") else None
    ))  # fmt: skip
    probe.goto(url + "/conversations")
    expect(probe.get_by_role("region", name="Conversation list")).to_be_visible()
    probe.close()
    for page in opened:
        expect(page.get_by_role("region", name="Conversation list")).to_be_visible()
    return browser, opened, cookies, boot[0]


class SocketTab(threading.Thread):
    """A Conversations tab without a browser: Reflex's websocket, fed the frames a page sends."""

    def __init__(self, url: str, cookie: str, boot: str, pattern: str) -> None:
        super().__init__(daemon=True)
        ws_url = url.replace("http", "ws", 1) + f"/_event/?token={uuidlib.uuid4()}&EIO=4"
        self.ws = simple_websocket.Client.connect(
            ws_url + "&transport=websocket", headers={"Cookie": cookie}
        )
        self.boot, self.pattern = boot, re.compile(pattern)
        self.seen: dict[str, float] = {}
        self.ready = threading.Event()
        self.stop = False

    def run(self) -> None:
        while not self.stop:
            try:
                frame = self.ws.receive(timeout=1)
            except simple_websocket.ConnectionClosed:
                return
            if frame is None:
                continue
            now = time.time() * 1000
            if frame.startswith("0"):
                self.ws.send(self.boot)  # connect to the namespace with the page-load event
            elif frame == "2":
                self.ws.send("3")  # engine.io ping
            elif frame.startswith("42"):
                if "conversations_state" in frame and "rows" in frame:
                    self.ready.set()
                for token in self.pattern.findall(frame):
                    self.seen.setdefault(token, now)

    def close(self) -> None:
        self.stop = True
        self.ws.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:3000")
    parser.add_argument("--pages", type=int, default=20, help="open Conversations tabs")
    parser.add_argument("--browser-pages", type=int, default=4, help="of them in Chromium")
    parser.add_argument("--contexts", type=int, default=2, help="browser contexts (sign-ins)")
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--mode", choices=["human", "ai"], default="human")
    args = parser.parse_args()

    with session_scope() as session:
        seed = seed_demo(session, reset_password=False)
    owner_id = None
    with session_scope() as session:
        from backend.auth import repository as auth_repo

        owner_id = auth_repo.find_user_by_login_email(session, email=seed.email).id
    owner = Actor(user_id=owner_id, business_id=seed.business_id, role=Role.OWNER)
    cfg = _cfg(seed.business_id)
    run = uuid.uuid4().hex[:6]
    senders, _ = _prepare_senders(cfg, owner, args.senders, run, args.mode == "human")
    password = os.environ.get("DEMO_PASSWORD") or settings.demo_password

    total = int(args.rate * args.seconds)
    texts = [f"Any update on my order? bench-{run}-{i:05d}" for i in range(total)]
    accepted: dict[str, float] = {}
    published: list = []
    stop = threading.Event()
    watcher = threading.Thread(target=_published, args=(seed.business_id, stop, published))
    watcher.start()
    pattern = rf"bench-{run}-\d{{5}}"
    with sync_playwright() as pw:
        browser, pages, cookies, boot = _open_pages(
            pw, args.url, password, args.browser_pages, args.contexts
        )
        sockets = [
            SocketTab(args.url, cookies[n % len(cookies)], boot, pattern)
            for n in range(max(0, args.pages - len(pages)))
        ]
        for tab in sockets:
            tab.start()
        for tab in sockets:
            if not tab.ready.wait(60):
                raise SystemExit("a websocket tab did not load the Conversations page")
        for page in pages:
            page.evaluate(OBSERVE, pattern)
        start = time.monotonic()
        for i, text in enumerate(texts):
            due = start + i / args.rate
            if (delay := due - time.monotonic()) > 0:
                time.sleep(delay)
            sender = senders[i % len(senders)]
            _receive(cfg, sender, text)
            accepted[text.rsplit(" ", 1)[1]] = time.time() * 1000
        sent_for = time.monotonic() - start
        # Wait until every tab shows the last message of each sender (or give up).
        last = {t.rsplit(" ", 1)[1] for t in texts[-len(senders) :]}
        deadline = time.monotonic() + 60
        seen: list[dict] = []
        while time.monotonic() < deadline:
            seen = [page.evaluate("window.__seen") for page in pages]
            if all(last <= set(s) for s in seen + [t.seen for t in sockets]):
                break
            time.sleep(0.5)
        browser.close()
        for tab in sockets:
            tab.close()
    stop.set()
    watcher.join()

    tokens = list(accepted)
    stride = len(senders)

    def latencies(tabs: list[dict[str, float]]) -> tuple[list[float], int]:
        found, missing = [], 0
        for tab_seen in tabs:
            for n, token in enumerate(tokens):
                if token in tab_seen:
                    found.append(tab_seen[token] - accepted[token])
                    continue
                # Replaced in the same update by the sender's next message: shown with it.
                later = [tab_seen[t] for t in tokens[n + stride :: stride] if t in tab_seen]
                if later:
                    found.append(later[0] - accepted[token])
                else:
                    missing += 1
        return found, missing

    def summary(values: list[float]) -> dict[str, float | None]:
        if not values:
            return {"p50_ms": None, "p95_ms": None, "max_ms": None}
        return {
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(_pct(values, 0.95), 1),
            "max_ms": round(max(values), 1),
        }

    in_browser, missing_browser = latencies(seen)
    in_sockets, missing_sockets = latencies([t.seen for t in sockets])
    # The pipeline's part: accepted → the worker published message.created; the rest is the
    # live push: published → shown.
    published_at: dict[str, float] = {}
    with session_scope() as session:
        for at, _conversation_id, message_id in published:
            message = session.get(Message, message_id)
            token = (message.text or "").rsplit(" ", 1)[-1] if message else ""
            if token in accepted:
                published_at[token] = at
    pipeline = [published_at[t] - accepted[t] for t in published_at]
    push = [
        tab_seen[t] - published_at[t]
        for tab_seen in [*seen, *[tab.seen for tab in sockets]]
        for t in published_at
        if t in tab_seen
    ]
    result = {
        "mode": args.mode,
        "tabs": len(seen) + len(sockets),
        "browser_pages": len(seen),
        "websocket_tabs": len(sockets),
        "messages": total,
        "rate_per_s": round(total / sent_for, 1),
        "accepted_to_shown_all": summary(in_browser + in_sockets),
        "accepted_to_rendered_browser": summary(in_browser),
        "accepted_to_update_websocket": summary(in_sockets),
        "accepted_to_published": summary(pipeline),
        "published_to_shown": summary(push),
        "not_shown": missing_browser + missing_sockets,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
