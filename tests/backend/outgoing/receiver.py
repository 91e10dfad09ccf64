"""A local HTTP server standing in for a business's webhook receiver, for tests.

It verifies signatures the way docs/webhooks.md tells receivers to (its own code, not
BizBot's), keeps every request, and answers as scripted: `answer(500, "oops")` for the next
request, `hang()` to never answer (the sender's timeout fires), `ok` otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    """One POST as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        """The body, parsed."""
        return json.loads(self.body)


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver-side check from docs/webhooks.md."""
    timestamp = headers["bizbot-webhook-timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    signatures = headers["bizbot-webhook-signature"].split(",")
    return any(hmac.compare_digest("v1=" + expected.hexdigest(), s.strip()) for s in signatures)


class Receiver:
    """`with Receiver() as r:` a server on 127.0.0.1 and a free port; `r.url` is its base."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._script: deque[tuple[int, str] | None] = deque()
        self._release = threading.Event()
        # Set once a request has been answered (tests across processes wait on it).
        self.answered = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append(Received(self.path, headers, body))
                step = receiver._script.popleft() if receiver._script else (200, '{"ok":true}')
                if step is None:  # hang until the test ends; the sender times out first
                    receiver._release.wait()
                    return
                status, text = step
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                receiver.answered.set()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, status: int, text: str = "", *, times: int = 1) -> None:
        """Answer the next `times` requests with this status and body."""
        self._script.extend([(status, text)] * times)

    def hang(self) -> None:
        """Never answer the next request."""
        self._script.append(None)

    def __enter__(self) -> Receiver:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
