"""Widget benchmark: gzipped size, click → panel visible, visitor's message → AI reply rendered.

    make run                                  # in another terminal (BizBot on :3000)
    .venv/bin/python bench/widget.py          # or --url http://127.0.0.1:PORT --rounds 30

Serves a host page from a second local origin (127.0.0.1, a free port) that embeds the demo
widget, and drives Debian's Chromium with Playwright. Each round is a fresh browser context (a
new visitor, nothing cached but the HTTP cache of widget.js), so "click → panel" includes the
config and session calls the panel makes when it opens. Times are taken in the page with
performance.now(), from the click event to the first frame where the element is visible.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from backend.api.widget import minified_script  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
QUESTIONS = ["What are your opening hours?", "Do you deliver?", "Do you have gluten-free bread?",
             "How can I pay?", "Can I order a birthday cake?"]  # fmt: skip
# Resolves with ms from the launcher's click to the first frame the hook is visible.
TIME_UNTIL_VISIBLE = """([trigger, hook, count]) => new Promise(resolve => {
  const root = document.querySelector('bizbot-widget').shadowRoot;
  const seen = () => { const all = root.querySelectorAll(hook);
    const el = all[count]; return el && el.getBoundingClientRect().height > 0; };
  const start = performance.now();
  const tick = () => seen() ? resolve(performance.now() - start) : requestAnimationFrame(tick);
  root.querySelector(trigger).click(); tick();
})"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _site(url: str, key: str) -> ThreadingHTTPServer:
    page = (f'<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body>'
            f'<h1>Shop</h1><script src="{url}/widget.js" data-bizbot-key="{key}" async></script>'
            f"</body></html>").encode()  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:3000")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    source = (ROOT / "widget" / "widget.js").read_bytes()
    raw = minified_script()
    with urllib.request.urlopen(args.url + "/widget.js") as resp:
        served = resp.read()
    assert served == raw, "the running BizBot serves a different widget.js"
    seed = subprocess.run([sys.executable, "-m", "backend.cli", "demo", "seed"], cwd=ROOT,
                          env=os.environ, capture_output=True, text=True, check=True)  # fmt: skip
    key = json.loads(seed.stdout)["widget_key"]
    site = _site(args.url, key)
    host = f"http://127.0.0.1:{site.server_address[1]}/"
    opens, replies = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        for n in range(args.rounds):
            context = browser.new_context()
            page = context.new_page()
            page.goto(host)
            page.locator("bizbot-widget [data-bizbot='launcher']").wait_for()
            opens.append(
                page.evaluate(
                    TIME_UNTIL_VISIBLE, ["[data-bizbot='launcher']", "[data-bizbot='input']", 0]
                )
            )
            page.locator("bizbot-widget [data-bizbot='input']").fill(QUESTIONS[n % len(QUESTIONS)])
            replies.append(
                page.evaluate(TIME_UNTIL_VISIBLE, ["[data-bizbot='send']", "[data-sender='ai']", 0])
            )
            context.close()
        browser.close()
    site.shutdown()
    result = {
        "source_bytes": len(source),
        "source_gzip_bytes": len(gzip.compress(source, 9)),
        "widget_js_bytes": len(raw),
        "widget_js_gzip_bytes": len(gzip.compress(raw, 9)),
        "click_to_panel_p50_ms": round(statistics.median(opens), 1),
        "click_to_panel_p95_ms": round(_pct(opens, 0.95), 1),
        "message_to_reply_p50_ms": round(statistics.median(replies), 1),
        "message_to_reply_p95_ms": round(_pct(replies, 0.95), 1),
        "rounds": args.rounds,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
