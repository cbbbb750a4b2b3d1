"""The data directory is private to the user running the server: folders 0700, files 0600.

It holds the link-signing secret and every download token, so anything another local user can
read lets them forge download links. `secure` tightens a directory left open by an older server
(or created by hand) and says whether it was open, so the caller can replace the secret that may
have been read. SQLite creates its `-wal` and `-shm` files with the database file's mode, so
creating the database file 0600 first (`private_file`) covers them.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "private_dir", "private_file", "secure"]

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> None:
    """Create `path` (and missing parents) as a 0700 folder, or make an existing one 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)


def private_file(path: Path) -> None:
    """Create `path` empty and 0600 if it does not exist (before another library opens it)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    os.chmod(path, FILE_MODE)


def secure(root: Path) -> bool:
    """Make `root` and everything in it private; True if a file in it was readable by others."""
    private_dir(root)
    was_open = False
    for folder, dirs, files in os.walk(root):
        for name, mode in [(d, DIR_MODE) for d in dirs] + [(f, FILE_MODE) for f in files]:
            path = os.path.join(folder, name)
            current = os.lstat(path).st_mode
            if stat.S_ISLNK(current):
                continue
            readable = stat.S_ISREG(current) and bool(current & (stat.S_IRGRP | stat.S_IROTH))
            was_open = was_open or readable
            os.chmod(path, mode)
    return was_open
