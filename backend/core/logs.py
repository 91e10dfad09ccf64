"""Structured logs with `structlog`: JSON lines in production, readable lines in development.

Every `logging` call in BizBot and its libraries goes through the same processors, so a
worker's log line carries whatever ids are bound for the work at hand (`bind(job_id=…,
business_id=…, conversation_id=…, event_id=…)`, kept in contextvars and cleared with
`clear()` when the work ends).
"""

from __future__ import annotations

import json as _json
import logging
import sys
import threading
import traceback
from datetime import UTC, datetime
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


class ErrorRecorder(logging.Handler):
    """Keeps the last ERRORS_KEPT error lines of every process in Redis (newest first).

    Each entry: time, level, logger, event, the exception's last line, business and job ids.
    Recording never raises and never recurses (an error logged while recording is dropped)."""

    _busy = threading.local()

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        """Push the record to the Redis list (trimmed to ERRORS_KEPT)."""
        if getattr(self._busy, "on", False):
            return
        self._busy.on = True
        try:
            from backend.core.redis import get_redis

            entry = _error_entry(record)
            with get_redis().pipeline(transaction=False) as pipe:
                pipe.lpush(ERRORS_KEY, _json.dumps(entry, default=str))
                pipe.ltrim(ERRORS_KEY, 0, ERRORS_KEPT - 1)
                pipe.execute()
        except Exception:  # noqa: S110 - Redis down: the line still reaches stderr anyway.
            pass
        finally:
            self._busy.on = False


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
