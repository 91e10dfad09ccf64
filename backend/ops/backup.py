"""Backups: the database (`pg_dump`) and the files under `data/`, in one `.tar.gz`; and restore.

A backup holds `manifest.json` (schema revision, time, what is inside), `database.dump`
(`pg_dump --format=custom`) and `files/` (everything under DATA_DIR except the database's own
directory, Redis, metrics and the secret key). The secret key is left out on purpose: with it,
anyone holding the backup could decrypt the stored channel and payment credentials. Keep it
(SECRET_KEY in `.env`, or `data/secret_key` in development) somewhere safe, apart from the
backups: without it, a restored installation cannot decrypt those credentials.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from backend.core.config import settings

# Under DATA_DIR but never in a backup: live server state, and the key (see the module doc).
SKIPPED = frozenset({"pg", "redis", "metrics", "secret_key", "backups"})
KEY_REMINDER = (
    "The backup does not contain the secret key (SECRET_KEY in .env, or data/secret_key in "
    "development). Keep it safe separately: without it, restored channel and payment "
    "credentials and 2FA secrets cannot be decrypted."
)


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class BackupInfo:
    """What a backup command made or read."""

    path: str
    revision: str | None
    created_at: str
    files: int
    bytes: int


def libpq_url() -> str:
    """The database URL in the form pg_dump and pg_restore accept."""
    from backend.core.db import database_url

    url = database_url()
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _tool(name: str) -> str:
    """pg_dump / pg_restore: the one shipped with the embedded PostgreSQL, else from PATH."""
    try:
        import pgserver

        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / name
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which(name)
    if not found:
        msg = f"{name} was not found: install the PostgreSQL client tools (e.g. postgresql-client)"
        raise BackupError(msg)
    return found


def _run(args: list[str]) -> None:
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        msg = f"{Path(args[0]).name} failed: {' '.join(detail[-3:]) or result.returncode}"
        raise BackupError(msg)


def current_revision() -> str | None:
    """The database's alembic revision."""
    from backend.core.db import get_engine

    with get_engine().connect() as conn:
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _data_files(data_dir: Path) -> list[Path]:
    if not data_dir.exists():
        return []
    return sorted(
        p
        for top in data_dir.iterdir()
        if top.name not in SKIPPED and not top.name.startswith(".")
        for p in ([top] if top.is_file() else top.rglob("*"))
        if p.is_file()
    )


def backup(output: Path | None = None, *, data_dir: Path | None = None) -> BackupInfo:
    """Write a backup archive and return what it holds."""
    data_dir = Path(data_dir or settings.data_dir).resolve()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    output = Path(output or data_dir / "backups" / f"bizbot-{stamp}.tar.gz").resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    files = _data_files(data_dir)
    with tempfile.TemporaryDirectory(prefix="bizbot-backup-") as tmp:
        dump = Path(tmp) / "database.dump"
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--file={dump}", f"--dbname={libpq_url()}"])  # fmt: skip
        manifest = {
            "format": 1,
            "created_at": datetime.now(UTC).isoformat(),
            "revision": current_revision(),
            "files": [str(p.relative_to(data_dir)) for p in files],
            "note": KEY_REMINDER,
        }
        partial = output.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            info = tarfile.TarInfo("manifest.json")
            raw = json.dumps(manifest, indent=2).encode()
            info.size = len(raw)
            info.mtime = int(datetime.now(UTC).timestamp())
            tar.addfile(info, io.BytesIO(raw))
            tar.add(dump, arcname="database.dump")
            for path in files:
                tar.add(path, arcname=f"files/{path.relative_to(data_dir)}")
        partial.replace(output)  # never a half-written archive under the final name
    return BackupInfo(
        path=str(output),
        revision=manifest["revision"],
        created_at=manifest["created_at"],
        files=len(files),
        bytes=output.stat().st_size,
    )


def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = []
    for member in tar.getmembers():
        name = Path(member.name)
        if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
            msg = f"refusing a backup with an unsafe entry {member.name!r}"
            raise BackupError(msg)
        members.append(member)
    return members


def read_manifest(archive: Path) -> dict:
    """The manifest of a backup archive, or BackupError saying what is wrong with the file."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            handle = tar.extractfile("manifest.json")
            if handle is None:
                raise KeyError("manifest.json")
            return json.load(handle)
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        msg = f"{archive} is not a BizBot backup ({type(exc).__name__}: {exc})"
        raise BackupError(msg) from exc


def has_data() -> bool:
    """True when the database already holds a business (a restore would replace it)."""
    from backend.core.db import get_engine

    with get_engine().connect() as conn:
        try:
            return bool(conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM business)")).scalar())
        except sa.exc.ProgrammingError:
            return False


def restore(archive: Path, *, data_dir: Path | None = None) -> BackupInfo:
    """Replace the database and the files under DATA_DIR with a backup's, then migrate up."""
    from backend.core import migrate
    from backend.core.db import get_engine

    archive = Path(archive).resolve()
    manifest = read_manifest(archive)
    data_dir = Path(data_dir or settings.data_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="bizbot-restore-") as tmp:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(tmp, members=_safe_members(tar), filter="data")
        get_engine().dispose()
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", f"--dbname={libpq_url()}",
              str(Path(tmp) / "database.dump")])  # fmt: skip
        restored = Path(tmp) / "files"
        count = 0
        if restored.exists():
            for path in sorted(p for p in restored.rglob("*") if p.is_file()):
                target = data_dir / path.relative_to(restored)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
                count += 1
    get_engine().dispose()
    migrate.upgrade()  # a backup from an older version comes up to this one's schema
    return BackupInfo(
        path=str(archive),
        revision=manifest.get("revision"),
        created_at=manifest.get("created_at", ""),
        files=count,
        bytes=archive.stat().st_size,
    )
