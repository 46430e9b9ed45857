"""Linux inotify through ctypes (no extra dependency): wake the recordings worker the moment a
finished recording is renamed into done/, instead of polling."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
from pathlib import Path

IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000


class DirWatch:
    """Wait until something is renamed or written into one folder (``wait`` -> True), or a timeout."""

    def __init__(self, folder: Path) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self._fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        folder.mkdir(parents=True, exist_ok=True)
        if libc.inotify_add_watch(self._fd, os.fsencode(folder), IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE) < 0:
            err = ctypes.get_errno()
            os.close(self._fd)
            raise OSError(err, f"inotify_add_watch {folder} failed")

    def wait(self, timeout: float) -> bool:
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return False
        try:
            while os.read(self._fd, 65536):  # drain: one pass handles every file that arrived
                pass
        except BlockingIOError:
            pass
        return True

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> DirWatch:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
