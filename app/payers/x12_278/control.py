"""Interchange and group control numbers (ISA13, GS06) unique across restarts and processes.

The numbers come from a small counter file, read and advanced under an exclusive `fcntl` lock, so
every process of a host (server, workers, restarts) draws from one sequence; it wraps after
999999999 as X12 allows. Processes on several hosts need one file on shared storage, or a
sender id each (the numbers are unique per sender).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path

MAX_CONTROL = 999_999_999


class ControlNumbers:
    """Draws the next control number from `path` (created on first use)."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def _draw(self) -> int:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.read(fd, 32).decode("ascii", "replace").strip()
            last = int(raw) if raw.isdigit() else 0
            number = last % MAX_CONTROL + 1
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, f"{number}\n".encode("ascii"))
            os.fsync(fd)
            return number
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    async def next(self) -> int:
        """The next number (the file work runs in a thread, off the event loop)."""
        return await asyncio.to_thread(self._draw)
