"""Structured logs with `structlog`: JSON lines in production, readable lines in development.

Every `logging` call in BizBot and its libraries goes through the same processors, so a
worker's log line carries whatever ids are bound for the work at hand (`bind(job_id=…,
business_id=…, conversation_id=…, event_id=…)`, kept in contextvars and cleared with
`clear()` when the work ends).
"""

from __future__ import annotations

import atexit
import contextlib
import json as _json
import logging
import logging.handlers
import os
import sys
import threading
import time
import traceback
from datetime import UTC, datetime
from queue import Full, Queue
from typing import Any

import structlog

from backend.core.config import settings

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


def configure(*, json: bool | None = None, level: str | None = None) -> None:
    """Route `logging` and structlog through one renderer (JSON when `json`, default: prod)."""
    json = settings.is_production if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=False, pad_event_to=40)
    )
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if json else _keep,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler, ErrorRecorder()]
    root.setLevel(level or settings.log_level)


def _keep(logger: Any, method: str, event: dict) -> dict:
    return event


def bind(**ids: Any) -> None:
    """Attach ids (job, business, conversation, event) to every log line of this context."""
    structlog.contextvars.bind_contextvars(**{k: v for k, v in ids.items() if v is not None})


def clear() -> None:
    """Forget the ids bound for the work that just ended."""
    structlog.contextvars.clear_contextvars()


def get_logger(name: str | None = None) -> Any:
    """A structlog logger (key-value events) for new code; `logging` loggers work as well."""
    return structlog.get_logger(name)


# The System page's "last errors": every process pushes its ERROR lines to one capped list.
ERRORS_KEY = "bizbot:errors"
ERRORS_KEPT = 200
# Error lines waiting for the writer thread; beyond this they are dropped, never waited for.
ERRORS_QUEUED = 1000
# The writer's Redis timeouts, and how long it skips writing after Redis failed it.
WRITE_TIMEOUT_SECONDS = 1.0
PAUSE_AFTER_FAILURE_SECONDS = 5.0


class ErrorRecorder(logging.handlers.QueueHandler):
    """Keeps the last ERRORS_KEPT error lines of every process in Redis (newest first).

    Each entry: time, level, logger, event, the exception's last line, business and job ids.
    The logging call only queues the entry (dropped when the queue is full); a listener thread
    writes it with its own short-timeout Redis client. Recording never raises, never blocks and
    never recurses (an error logged while recording is dropped)."""

    _busy = threading.local()

    def __init__(self) -> None:
        super().__init__(_PIPE.queue)
        self.setLevel(logging.ERROR)

    @property  # type: ignore[override]
    def queue(self) -> Queue:
        """This process's queue of entries (a forked child gets its own)."""
        return _PIPE.queue

    @queue.setter
    def queue(self, value: Queue) -> None:
        pass  # QueueHandler.__init__ sets it; the process's pipe owns the queue

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """The entry as JSON, read here: the bound ids live in this thread's context."""
        entry = _json.dumps(_error_entry(record), default=str)
        return logging.makeLogRecord(
            {"name": record.name, "levelno": record.levelno, "levelname": record.levelname,
             "msg": entry, "created": record.created}
        )  # fmt: skip

    def enqueue(self, record: logging.LogRecord) -> None:
        """Hand the entry to the writer thread, or drop it when the queue is full."""
        _PIPE.put(record)

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the record for the Redis list (trimmed to ERRORS_KEPT)."""
        if getattr(self._busy, "on", False):
            return
        self._busy.on = True
        try:
            self.enqueue(self.prepare(record))
        except Exception:  # noqa: S110 - the line still reaches stderr anyway.
            pass
        finally:
            self._busy.on = False


class _RedisWriter(logging.Handler):
    """The listener thread's end: pushes each entry to the Redis list with its own client."""

    def __init__(self) -> None:
        super().__init__()
        self._client: Any = None
        self._client_for: str | None = None
        self._paused_until = 0.0

    def _redis(self) -> Any:
        # Built here, not shared: the shared client waits 10 s and retries, this one never does.
        if self._client is None or self._client_for != settings.redis_url:
            from redis import Redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            from backend.core.redis import redis_url

            if self._client is not None:
                self._client.close()
            self._client_for, self._paused_until = settings.redis_url, 0.0
            self._client = Redis.from_url(
                redis_url(),
                socket_timeout=WRITE_TIMEOUT_SECONDS,
                socket_connect_timeout=WRITE_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), 0),
            )
        return self._client

    def emit(self, record: logging.LogRecord) -> None:
        ErrorRecorder._busy.on = True  # what the Redis client logs meanwhile is not recorded
        try:
            client = self._redis()
            if time.monotonic() < self._paused_until:
                return  # Redis failed moments ago: drop rather than wait on it again
            with client.pipeline(transaction=False) as pipe:
                pipe.lpush(ERRORS_KEY, record.getMessage())
                pipe.ltrim(ERRORS_KEY, 0, ERRORS_KEPT - 1)
                pipe.execute()
        except Exception:  # Redis down: the line still reached stderr in its own process.
            self._paused_until = time.monotonic() + PAUSE_AFTER_FAILURE_SECONDS
        finally:
            ErrorRecorder._busy.on = False


class _ErrorPipe:
    """This process's bounded queue of error entries and the listener thread that drains it."""

    def __init__(self) -> None:
        self.queue: Queue = Queue(maxsize=ERRORS_QUEUED)
        self._lock = threading.Lock()
        self._listener: logging.handlers.QueueListener | None = None
        self._closed = False

    def put(self, record: logging.LogRecord) -> None:
        if self._closed:
            return
        if self._listener is None:
            with self._lock:
                if self._listener is None and not self._closed:
                    listener = logging.handlers.QueueListener(self.queue, _RedisWriter())
                    listener.start()
                    self._listener = listener
        with contextlib.suppress(Full):  # full: dropped, the logging call never waits
            self.queue.put_nowait(record)

    def flush(self, timeout: float) -> bool:
        # Queue.join() without its endless wait: the listener calls task_done() per entry.
        if self._listener is None:
            return self.queue.unfinished_tasks == 0
        done = self.queue.all_tasks_done
        with done:
            return done.wait_for(lambda: self.queue.unfinished_tasks == 0, timeout)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(Full):  # full: the daemon thread ends with us
                listener.stop()


_PIPE = _ErrorPipe()


def flush(timeout: float = 5.0) -> bool:
    """Wait until the error lines this process logged so far are written to Redis (or dropped);
    False if `timeout` seconds passed first."""
    return _PIPE.flush(timeout)


def _new_pipe_after_fork() -> None:
    global _PIPE
    _PIPE = _ErrorPipe()  # the parent's listener thread does not exist in the child


def _close_at_exit() -> None:
    _PIPE.close()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_pipe_after_fork)
atexit.register(_close_at_exit)


def _error_entry(record: logging.LogRecord) -> dict[str, Any]:
    bound = structlog.contextvars.get_contextvars()
    if isinstance(record.msg, dict):  # a structlog call: its event dict carries the ids
        data = {**bound, **record.msg}
        event = str(data.get("event", ""))
        exc = data.get("exc_info") or record.exc_info
    else:
        data = bound
        event = record.getMessage()
        exc = record.exc_info
    if exc is True:
        exc = sys.exc_info()
    if isinstance(exc, BaseException):
        exc = (type(exc), exc, exc.__traceback__)
    error = ""
    if isinstance(exc, tuple) and exc[0] is not None:
        error = "".join(traceback.format_exception_only(exc[0], exc[1])).strip()
    elif "\n" in event:  # RQ logs a failed job's whole traceback as the message
        error = event.strip().splitlines()[-1]
    return {
        "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "event": event.strip().splitlines()[0][:300] if event.strip() else "",
        "error": error.splitlines()[-1][:500] if error else "",
        "business_id": data.get("business_id"),
        "job_id": data.get("job_id"),
    }


def capture_errors() -> None:
    """Record this process's ERROR lines for the System page (for processes that keep their own
    logging set-up, such as the Reflex backend; `configure()` already does it)."""
    root = logging.getLogger()
    if not any(isinstance(h, ErrorRecorder) for h in root.handlers):
        root.addHandler(ErrorRecorder())
