"""``tinytorch check [MODULE ...]``: a student's self-check against the public checkpoints.

The checks themselves live outside the package (``workers/``, shipped in the starter repo);
they run your code in a separate process, exactly as the grader does, minus the sandbox.
"""

from __future__ import annotations

import sys


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "check":
        print("usage: tinytorch check [MODULE ...]   (e.g. tinytorch check 02)", file=sys.stderr)
        return 2
    from harness import selfcheck  # imported late: tinytorch itself needs NumPy only

    return selfcheck.main(argv[1:])
