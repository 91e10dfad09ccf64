"""What kind of image a byte string holds, from its first bytes (uploads are never trusted by
their file name or declared type)."""

from __future__ import annotations

from collections.abc import Collection

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
)


def image_extension(data: bytes, allowed: Collection[str]) -> str | None:
    """ ".png", ".jpg", ".gif" or ".webp" when `data` is such an image and the extension is in
    `allowed`, else None."""
    ext = next((ext for magic, ext in _MAGIC if data.startswith(magic)), None)
    if ext is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        ext = ".webp"
    return ext if ext in allowed else None
