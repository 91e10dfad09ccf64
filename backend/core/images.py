"""Uploaded images: what kind of image a byte string holds, from its first bytes (uploads are
never trusted by their file name or declared type), and `store_image`, which keeps the files
on disk in step with the database rows that point at them."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from pathlib import Path

from sqlalchemy.orm import Session

from backend.core.config import settings
from backend.core.db import call_after_commit, call_after_rollback

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
)


class ImageRejected(ValueError):
    """An upload `store_image` refused; `reason` is "empty", "too_large" or "not_an_image"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def image_extension(data: bytes, allowed: Collection[str]) -> str | None:
    """ ".png", ".jpg", ".gif" or ".webp" when `data` is such an image and the extension is in
    `allowed`, else None."""
    ext = next((ext for magic, ext in _MAGIC if data.startswith(magic)), None)
    if ext is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        ext = ".webp"
    return ext if ext in allowed else None


def data_file(relative: str) -> Path:
    """Where a stored file (as its row records it, relative to DATA_DIR) lives on disk."""
    return Path(settings.data_dir) / relative


def store_image(
    session: Session,
    *,
    folder: str,
    data: bytes,
    allowed: Collection[str],
    max_bytes: int,
    replaces: str | None = None,
) -> str:
    """Write `data`, an image of an `allowed` type and at most `max_bytes`, under a new name in
    DATA_DIR/`folder` and return its path relative to DATA_DIR. The file it `replaces` is
    deleted once `session` commits, the new one if it rolls back; raises ImageRejected."""
    if not data:
        raise ImageRejected("empty")
    if len(data) > max_bytes:
        raise ImageRejected("too_large")
    ext = image_extension(data, allowed)
    if ext is None:
        raise ImageRejected("not_an_image")
    # A new name for every upload: a rollback may delete it without touching a file some row
    # still points at, and its URL changes whenever the image does.
    name = f"{hashlib.sha256(data).hexdigest()}-{secrets.token_hex(4)}{ext}"
    relative = f"{folder}/{name}"
    path = data_file(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{name}.part")
    part.write_bytes(data)
    part.replace(path)
    call_after_rollback(session, lambda: _remove(relative))
    remove_after_commit(session, replaces)
    return relative


def remove_after_commit(session: Session, relative: str | None) -> None:
    """Delete a stored file (relative to DATA_DIR) once `session` commits; kept if it rolls
    back, since its row still points at it."""
    if relative:
        call_after_commit(session, lambda: _remove(relative))


def _remove(relative: str) -> None:
    data_file(relative).unlink(missing_ok=True)
