"""Structured logs with `structlog`: JSON lines in production, readable lines in development.

Every `logging` call in BizBot and its libraries goes through the same processors, so a
worker's log line carries whatever ids are bound for the work at hand (`bind(job_id=…,
business_id=…, conversation_id=…, event_id=…)`, kept in contextvars and cleared with
`clear()` when the work ends).
"""

from __future__ import annotations

import logging
import sys
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
    root.handlers[:] = [handler]
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
