"""The API end of one push's hooks: a socket pair whose other end ``git http-backend`` (and
so git's hooks, ``hook_client.py``) inherits, and a thread that answers each hook with
``autograder.pushes.decide.answer``: one JSON line in, one JSON line out."""
from __future__ import annotations

import json
import socket
import threading

from autograder.pushes.decide import HookOutput, PushContext, answer, reject_unlanded

MAX_REQUEST_BYTES = 1 << 20     # one line per updated ref; far more than any push needs


class HookBridge:
    """One push's channel to its hooks: git inherits ``child_fd``; a thread here answers
    each hook (one JSON line in, one out) until every git process has let go of it."""

    def __init__(self, context: PushContext, logger):
        self.context, self.logger = context, logger
        self._ours, self._theirs = socket.socketpair()
        self._ours.settimeout(None)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._recorded: list[int] = []

    @property
    def child_fd(self) -> int:
        return self._theirs.fileno()

    def start(self) -> None:
        """Call once git has been started with ``child_fd``: our copy of it closes here."""
        self._theirs.close()
        self._thread.start()

    def close(self) -> None:
        """After git has exited: the serving thread sees the end of the stream and stops;
        submissions whose ref update git then refused are marked rejected."""
        self._theirs.close()
        if self._thread.is_alive():
            self._thread.join(30)
        self._ours.close()
        if self._recorded:
            try:
                reject_unlanded(self.context, self._recorded)
            except Exception:  # noqa: BLE001 - the workers' reconciler checks them again
                self.logger.exception("could not check which submissions of repo %s landed",
                                      self.context.repo_id)

    def _serve(self) -> None:
        with self._ours.makefile("rb") as requests:
            while line := requests.readline(MAX_REQUEST_BYTES):
                try:
                    out = answer(self.context, json.loads(line))
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    out = HookOutput()
                    out.refuse(f"the grader could not read the push ({type(exc).__name__})")
                except Exception:  # noqa: BLE001 - a bug here must refuse, not hang git
                    self.logger.exception("git hook for repo %s failed", self.context.repo_id)
                    out = HookOutput()
                    out.refuse("the grader failed on this push; nothing was recorded, try "
                               "again shortly")
                self._recorded.extend(out.recorded)
                try:
                    self._ours.sendall(json.dumps(out.as_reply()).encode() + b"\n")
                except OSError:     # the hook was killed while we answered: git is gone
                    return
