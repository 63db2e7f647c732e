"""Leftovers of pushes killed mid-transfer: git receives each pack into a quarantine
directory (``objects/tmp_objdir-incoming-*``) and removes it itself when a push fails,
unless its process was killed (``kill -9``, a container stopped).  Each leftover holds up to
a whole pack (tens of MB).  Swept when the API starts and after pushes, at most every
``SWEEP_EVERY_S`` per process; only directories untouched for ``STALE_S`` go, so a push
still receiving is never touched."""
from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path

STALE_S = 15 * 60          # a live push writes its pack continuously
SWEEP_EVERY_S = 10 * 60
PATTERN = "*/*.git/objects/tmp_objdir-incoming-*"
log = logging.getLogger(__name__)
_last_sweep = {"at": float("-inf")}
_lock = threading.Lock()


def newest_change(directory: Path) -> float:
    """The latest modification time of ``directory`` or anything in it."""
    return max((path.lstat().st_mtime for path in (directory, *directory.rglob("*"))),
               default=0.0)


def sweep_quarantines(repos_dir: Path, stale_s: float = STALE_S) -> list[Path]:
    """Remove abandoned quarantine directories of every repo; returns those removed."""
    cutoff = time.time() - stale_s
    removed = []
    for directory in repos_dir.glob(PATTERN):
        try:
            if newest_change(directory) < cutoff:
                shutil.rmtree(directory)
                removed.append(directory)
        except FileNotFoundError:   # another process swept it, or git just finished
            continue
    if removed:
        log.warning("removed %d abandoned push quarantine dir(s): %s", len(removed),
                    [str(path) for path in removed])
    return removed


def sweep_now_and_then(repos_dir: Path) -> None:
    """Sweep unless this process did so in the last ``SWEEP_EVERY_S``."""
    with _lock:
        now = time.monotonic()
        if now - _last_sweep["at"] < SWEEP_EVERY_S:
            return
        _last_sweep["at"] = now
    sweep_quarantines(repos_dir)
