"""Every listener of the product runs in every process, without an import to remember."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from backend import listeners
from backend.core.config import settings
from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.core.redis import get_redis
from backend.live import tenant_channel
from tests.factories import make_business, make_conversation

ROOT = Path(__file__).resolve().parents[3]


def _modules_using_listener() -> set[str]:
    found = set()
    for path in (ROOT / "backend").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for deco in node.decorator_list:
                    func = deco.func if isinstance(deco, ast.Call) else deco
                    name = getattr(func, "id", None) or getattr(func, "attr", None)
                    if name == "listener":
                        found.add(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return found


def test_every_module_with_listeners_is_installed():
    missing = _modules_using_listener() - set(listeners.LISTENER_MODULES)
    assert not missing, f"add these to backend.listeners.LISTENER_MODULES: {sorted(missing)}"
    assert "backend.live" in listeners.LISTENER_MODULES


@pytest.mark.usefixtures("committed")
def test_a_fresh_process_that_imports_no_listener_still_reaches_them_all():
    with session_scope() as session:
        business = make_business(session)
        conversation = make_conversation(session, business=business)
        ids = {"business_id": business.id, "conversation_id": conversation.id}
    pubsub = get_redis().pubsub()
    pubsub.subscribe(tenant_channel(business.id))
    assert pubsub.get_message(timeout=5)["type"] == "subscribe"
    script = textwrap.dedent(f"""
        import sys
        from backend import events
        from backend.core.db import session_scope
        loaded = [m for m in ("backend.live", "backend.handoff.tasks") if m in sys.modules]
        assert not loaded, f"a listener module was imported before the event: {{loaded}}"
        with session_scope() as session:
            events.publish(session, "handoff.requested", business_id={business.id},
                           conversation_id={conversation.id}, reason="customer_request")
    """)
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "PYTHONWARNINGS": "ignore"}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr

    pushed = pubsub.get_message(timeout=5)  # published before the subprocess exited
    assert pushed is not None
    assert pushed["type"] == "message"
    assert json.loads(pushed["data"]) == {
        "event": "handoff.requested",
        "conversation_id": ids["conversation_id"],
        "reason": "customer_request",
    }
    [job] = get_queue("default").jobs
    assert job.func_name == "backend.handoff.tasks.route_handoff"
    assert job.args == (ids["conversation_id"],)


def test_install_is_idempotent():
    listeners.install()
    from backend.events import _listeners

    counts = {name: len(funcs) for name, funcs in _listeners.items()}
    listeners.install()
    assert {name: len(funcs) for name, funcs in _listeners.items()} == counts
    assert counts["*"] >= 1
    assert counts["handoff.requested"] >= 1
