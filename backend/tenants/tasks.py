"""Jobs of the tenants domain: remove a deleted business's files."""

from __future__ import annotations

import shutil
from pathlib import Path

from backend.core.config import settings

# The folders under DATA_DIR that hold a business's files, each in a sub-folder named by its id:
# channel media, knowledge uploads, product images and the logo.
BUSINESS_FOLDERS = ("media", "uploads", "products", "logos")


def business_folders(business_id: int) -> list[Path]:
    """The folders under DATA_DIR holding the business's files."""
    root = Path(settings.data_dir)
    return [root / folder / str(int(business_id)) for folder in BUSINESS_FOLDERS]


def remove_business_files(business_id: int) -> int:
    """Delete the files of a deleted business; how many folders went (0 when run again)."""
    removed = 0
    for folder in business_folders(business_id):
        if folder.is_dir():
            shutil.rmtree(folder)
            removed += 1
    return removed
