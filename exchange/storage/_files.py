"""Files the exchange writes are private: created 0600, in folders it creates 0700. Records, keys,
audit trails, quarantine reports, exports and briefings all hold partnership data; nothing the
exchange writes should be readable by another account on the machine, not even for a moment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

__all__ = ["FILE_MODE", "FOLDER_MODE", "make_private", "open_private", "private_folder"]

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: str | os.PathLike[str]) -> Path:
    """Create `path` and any missing parents 0700 (folders that exist already are left as they are)."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode is filtered by the umask
    return path


def make_private(path: str | os.PathLike[str]) -> Path:
    """Create the file 0600 if it is missing (and its folder 0700); tighten it to 0600 if it exists."""
    path = Path(path)
    private_folder(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    os.chmod(path, FILE_MODE)
    return path


def open_private(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> IO[Any]:
    """`open(path, mode)` for writing, the file created (or reset) to 0600 before anything is written."""
    if not any(flag in mode for flag in "wax"):
        raise ValueError("open_private is for writing")
    make_private(path)
    return open(path, mode, **kwargs)
