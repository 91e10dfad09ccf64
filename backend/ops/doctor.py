"""`python -m backend.cli doctor`: check every dependency and setting, and say what to fix.

Each check returns a `Finding`: ok, warn (works, but something a deployer should know) or fail
(BizBot cannot work properly until fixed). A check never raises: whatever goes wrong becomes
its finding, with the fix in words a deployer can act on.
"""

from __future__ import annotations

import shutil
import smtplib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

from backend.core.config import PROJECT_ROOT, ConfigError, settings

OK, WARN, FAIL = "ok", "warn", "fail"
MIN_BUN = (1, 4, 4)
MIN_FREE_BYTES = 1 << 30


@dataclass(frozen=True)
class Finding:
    """One check's verdict; `fix` says what to do when it is not ok."""

    name: str
    status: str
    detail: str
    fix: str = ""


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def check_configuration() -> Finding:
    """The settings load and are safe for the environment they declare."""
    try:
        settings.check_production()
    except ConfigError as exc:
        return Finding("configuration", FAIL, str(exc), "edit .env as the message says")
    mode = settings.bizbot_env
    if settings.is_production and not settings.public_url.startswith("https://"):
        return Finding(
            "configuration",
            WARN,
            f"{mode}, PUBLIC_URL {settings.public_url} is not HTTPS",
            "serve BizBot behind TLS and set PUBLIC_URL=https://…: channels and payment "
            "providers refuse plain-HTTP webhooks, and cookies are only Secure over HTTPS",
        )
    return Finding("configuration", OK, f"{mode}, PUBLIC_URL {settings.public_url}")


def check_database() -> Finding:
    """PostgreSQL answers, has pgvector, and its schema is at the newest migration."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from backend.core.db import get_engine
    from backend.core.migrate import alembic_config

    try:
        with get_engine().connect() as conn:
            server = conn.execute(sa.text("SHOW server_version")).scalar()
            vector = conn.execute(
                sa.text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            ).scalar()
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:
        return Finding(
            "database",
            FAIL,
            _short(exc),
            "start it with `make run` (embedded), or set DATABASE_URL to a reachable "
            "PostgreSQL with pgvector",
        )
    if not vector:
        return Finding(
            "database",
            FAIL,
            f"PostgreSQL {server} without pgvector",
            "install pgvector on the server (`CREATE EXTENSION vector` needs it)",
        )
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    if current != heads:
        return Finding(
            "database",
            FAIL,
            f"schema at {', '.join(sorted(current)) or 'nothing'}, code expects "
            f"{', '.join(sorted(heads))}",
            "run `python -m backend.cli db upgrade` (make run does it on start)",
        )
    return Finding("database", OK, f"PostgreSQL {server}, pgvector {vector}, schema up to date")


def check_redis() -> Finding:
    """Redis answers."""
    from backend.core.redis import get_redis

    try:
        info = get_redis().info("server")
    except Exception as exc:
        return Finding(
            "redis",
            FAIL,
            _short(exc),
            "start it with `make run` (embedded), or set REDIS_URL to a reachable Redis",
        )
    return Finding("redis", OK, f"Redis {info.get('redis_version', '?')}")


def check_workers() -> Finding:
    """At least one RQ worker is alive, and no job sits in a failed registry."""
    from backend.ops.metrics import alive_workers, queue_stats

    try:
        alive = alive_workers()
        stats = queue_stats()
    except Exception as exc:
        return Finding("workers", FAIL, _short(exc), "fix Redis first")
    failed = sum(s[3] for s in stats)
    waiting = ", ".join(f"{name} {count}" for name, count, _, _ in stats if count)
    detail = f"{alive} alive; waiting: {waiting or 'none'}; failed: {failed}"
    if not alive:
        return Finding(
            "workers",
            FAIL,
            detail,
            "no worker is processing messages: `make run` starts one, or run "
            "`python -m backend.worker` on any host that reaches the same Redis",
        )
    if failed:
        return Finding(
            "workers",
            WARN,
            detail,
            "see them with `python -m backend.cli jobs failed`, run one again with "
            "`python -m backend.cli jobs retry ID`",
        )
    return Finding("workers", OK, detail)


def check_secrets() -> Finding:
    """Stored credentials decrypt with the current SECRET_KEY."""
    from backend.core.crypto import DecryptionError, decrypt
    from backend.core.db import get_engine

    try:
        with get_engine().connect() as conn:
            sample = conn.execute(
                sa.text(
                    "SELECT credentials_encrypted FROM channelintegration "
                    "WHERE credentials_encrypted IS NOT NULL LIMIT 1"
                )
            ).scalar()
    except Exception as exc:
        return Finding("secrets", WARN, f"could not read a sample: {_short(exc)}")
    if sample is None:
        return Finding("secrets", OK, "no stored credentials yet")
    try:
        decrypt(sample)
    except DecryptionError:
        return Finding(
            "secrets",
            FAIL,
            "stored channel credentials do not decrypt with this SECRET_KEY",
            "restore the SECRET_KEY the credentials were saved with (it must be backed up "
            "with the database), or re-enter the credentials on the Integrations page",
        )
    return Finding("secrets", OK, "stored credentials decrypt")


def check_email() -> Finding:
    """SMTP, when configured, accepts a connection."""
    if not settings.smtp_host:
        return Finding(
            "email",
            WARN,
            "SMTP_HOST is not set: notifications are in-app only and no email is sent",
            "set SMTP_HOST, SMTP_PORT, SMTP_USERNAME, SMTP_PASSWORD for password resets, "
            "invitations and email notifications",
        )
    try:
        cls = smtplib.SMTP_SSL if settings.smtp_security == "ssl" else smtplib.SMTP
        with cls(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
            smtp.noop()
    except Exception as exc:
        return Finding(
            "email",
            FAIL,
            f"{settings.smtp_host}:{settings.smtp_port}: {_short(exc)}",
            "check SMTP_HOST, SMTP_PORT and SMTP_SECURITY",
        )
    return Finding("email", OK, f"SMTP {settings.smtp_host}:{settings.smtp_port} answers")


def check_ai() -> Finding:
    """The OpenAI-compatible endpoint, when configured, lists models."""
    if not settings.openai_base_url and not settings.openai_api_key:
        return Finding(
            "ai",
            OK,
            "offline answerer (extractive, from your knowledge); set OPENAI_BASE_URL and "
            "OPENAI_API_KEY for generated answers",
        )
    base = (settings.openai_base_url or "https://api.openai.com/v1").rstrip("/")
    headers = {"Authorization": f"Bearer {settings.openai_api_key or ''}"}
    try:
        response = httpx.get(f"{base}/models", headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        return Finding("ai", FAIL, f"{base}: {_short(exc)}", "check OPENAI_BASE_URL")
    if response.status_code in (401, 403):
        return Finding("ai", FAIL, f"{base} refused the key", "check OPENAI_API_KEY")
    if response.status_code >= 400:
        return Finding("ai", WARN, f"{base}/models answered {response.status_code}")
    return Finding("ai", OK, f"LLM endpoint {base} answers (model {settings.llm_model})")


def check_disk() -> Finding:
    """The data directory exists, is writable, and has room."""
    data: Path = settings.data_dir
    try:
        data.mkdir(parents=True, exist_ok=True)
        probe = data / ".doctor-probe"
        probe.write_text("ok")
        probe.unlink()
        free = shutil.disk_usage(data).free
    except OSError as exc:
        return Finding("disk", FAIL, f"{data}: {_short(exc)}", "make DATA_DIR writable")
    detail = f"{data} writable, {free / (1 << 30):.1f} GB free"
    if free < MIN_FREE_BYTES:
        return Finding("disk", WARN, detail, "free some space: the database and files live here")
    return Finding("disk", OK, detail)


def check_bun() -> Finding:
    """bun ≥ 1.4.4 for Reflex's frontend build."""
    import subprocess

    path = shutil.which("bun") or str(PROJECT_ROOT / ".tools/node_modules/.bin/bun")
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=20, check=True
        ).stdout.strip()
        version = tuple(int(p) for p in out.split("-")[0].split(".")[:3])
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return Finding(
            "bun", FAIL, _short(exc), "run `make bun` (installs bun from npm into .tools/)"
        )
    if version < MIN_BUN:
        return Finding("bun", FAIL, f"bun {out}", "run `make bun` for bun ≥ 1.4.4")
    return Finding("bun", OK, f"bun {out}")


CHECKS: tuple[Callable[[], Finding], ...] = (
    check_configuration,
    check_database,
    check_redis,
    check_workers,
    check_secrets,
    check_email,
    check_ai,
    check_disk,
    check_bun,
)


def run_checks() -> list[Finding]:
    """Every check's finding, in order; a check that crashes is reported as failed."""
    findings = []
    for check in CHECKS:
        try:
            findings.append(check())
        except Exception as exc:  # A doctor reports; it never dies of what it examines.
            name = check.__name__.removeprefix("check_")
            findings.append(Finding(name, FAIL, f"the check itself failed: {_short(exc)}"))
    return findings


MARKS = {OK: "ok  ", WARN: "warn", FAIL: "FAIL"}


def render(findings: list[Finding]) -> str:
    """One line per check, its fix indented under it, and a verdict."""
    lines = []
    for f in findings:
        lines.append(f"{MARKS[f.status]}  {f.name:<13} {f.detail}")
        if f.fix and f.status != OK:
            lines.append(f"      {'':<13} → {f.fix}")
    failed = [f.name for f in findings if f.status == FAIL]
    lines.append(
        f"{len(failed)} problem(s) to fix: {', '.join(failed)}" if failed else "BizBot is healthy"
    )
    return "\n".join(lines)


def as_dicts(findings: list[Finding]) -> list[dict[str, str]]:
    """The findings as JSON-ready dicts."""
    return [asdict(f) for f in findings]
