"""Customers' files (and agents' attachments) on disk under `DATA_DIR/media/`, with limits.

Platform media URLs expire within minutes to days, so inbound files are downloaded when they
arrive (a job) and kept here; the message's attachment records the stored path, size and type.
"""

from __future__ import annotations

import fnmatch
import hashlib
import mimetypes
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from backend.channels.base import MediaError, MediaFile
from backend.core.config import settings

MEDIA_DIR = "media"
# Attachment types a customer can send that carry a file to download.
FILE_TYPES = ("image", "audio", "video", "document", "sticker", "file")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def max_bytes() -> int:
    """The largest file accepted (MEDIA_MAX_MB)."""
    return int(settings.media_max_mb * 1_000_000)


def allowed_types() -> list[str]:
    """The accepted MIME types (MEDIA_ALLOWED_TYPES), wildcards allowed (`image/*`)."""
    return [t.strip().lower() for t in settings.media_allowed_types.split(",") if t.strip()]


def is_allowed(mime_type: str) -> bool:
    """Whether a file of this MIME type may be stored."""
    mime = (mime_type or "").split(";")[0].strip().lower()
    return bool(mime) and any(fnmatch.fnmatchcase(mime, pattern) for pattern in allowed_types())


def root() -> Path:
    """The media folder under DATA_DIR."""
    return Path(settings.data_dir) / MEDIA_DIR


def _extension(mime_type: str, filename: str | None) -> str:
    if filename and "." in filename:
        ext = "." + _SAFE.sub("", filename.rsplit(".", 1)[1])[:10].lower()
        if len(ext) > 1:
            return ext
    return mimetypes.guess_extension(mime_type or "") or ".bin"


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, path)  # readers never see half a file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check(file: MediaFile) -> None:
    """MediaError when a downloaded or uploaded file breaks the size or type limits."""
    limit = max_bytes()
    if len(file.content) > limit:
        raise MediaError(
            f"the file is {len(file.content) / 1_000_000:.1f} MB, over the "
            f"{limit / 1_000_000:g} MB limit (MEDIA_MAX_MB)"
        )
    if not is_allowed(file.mime_type):
        raise MediaError(
            f"files of type {file.mime_type or 'unknown'} are not accepted (MEDIA_ALLOWED_TYPES)"
        )


def store(*, business_id: int, name: str, file: MediaFile) -> dict[str, Any]:
    """Check and write a file; what the message's attachment records about it."""
    check(file)
    digest = hashlib.sha256(file.content).hexdigest()
    relative = (
        Path(str(business_id))
        / f"{_SAFE.sub('-', name)}{_extension(file.mime_type, file.filename)}"
    )
    _write(root() / relative, file.content)
    return {
        "path": relative.as_posix(),
        "size": len(file.content),
        "mime_type": file.mime_type,
        "filename": file.filename,
        "sha256": digest,
    }


def resolve(business_id: int, relative: str) -> Path:
    """The absolute path of a stored file of this business; MediaError for anything else."""
    base = (root() / str(business_id)).resolve()
    target = (root() / relative).resolve()
    if base not in target.parents or not target.is_file():
        raise MediaError("no such file")
    return target


def pending(attachment: dict[str, Any]) -> bool:
    """Whether an inbound attachment still has a file to download."""
    return attachment.get("status") == "pending"
