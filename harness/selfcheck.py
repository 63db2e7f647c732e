"""The student self-check: run the public checks on your own repo and see a report.

    python -m harness.selfcheck 02          # or 02_tensor, or tensor
    python -m harness.selfcheck             # every module that has public checks

It uses the same runner and checks as the grader, through the local backend (a plain
subprocess: fine for your own code, not a sandbox).  The score is the share of public checks
passed; the grade also counts hidden checks and the rubric's weights.
"""

import argparse
import os
import signal
import sys
from pathlib import Path

from harness.backends import Limits
from harness.backends.local import LocalBackend
from harness.checkpoints.registry import modules_with_suites
from harness.suite import run_suite

SYMBOLS = {"passed": ("PASS", "32"), "failed": ("FAIL", "31"), "error": ("ERR ", "35"),
           "timeout": ("TIME", "33")}


class Report:
    """Prints one line per check as it finishes, under a progress bar redrawn in place."""

    def __init__(self, out, colour, live):
        self.out, self.colour, self.live = out, colour, live

    def paint(self, text, code):
        return f"\033[{code}m{text}\033[0m" if self.colour else text

    def bar(self, done, total, width=30):
        filled = width * done // max(total, 1)
        return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"

    def on_result(self, result, done, total):
        label, code = SYMBOLS.get(result["outcome"], ("????", "31"))
        line = f"  {self.paint(label, code)} {result['id']}: {result['description']}"
        if result["outcome"] != "passed" and result["message"]:
            line += "\n" + "\n".join(f"         {m}" for m in result["message"].splitlines()[:12])
        if self.live:
            self.out.write("\r\033[K")
        self.out.write(line + "\n")
        if self.live:
            self.out.write(self.bar(done, total))
        self.out.flush()

    def summary(self, result):
        if self.live:
            self.out.write("\r\033[K")
        if result["infrastructure_error"]:
            self.out.write(self.paint(f"  could not run: {result['infrastructure_error']}\n",
                                      "31"))
            return 0.0
        checks = result["checks"]
        passed = sum(c["outcome"] == "passed" for c in checks)
        score = 100.0 * passed / max(len(checks), 1)
        code = "32" if passed == len(checks) else "33" if passed else "31"
        self.out.write(f"  {self.bar(passed, len(checks))}  "
                       f"{self.paint(f'score {score:.0f}%', code)} "
                       f"({passed} of {len(checks)} public checks passed)\n\n")
        return score


def resolve_module(name, available):
    """``02``, ``tensor`` or ``02_tensor`` -> ``02_tensor``."""
    matches = [m for m in available if name in (m, m.split("_", 1)[0], m.split("_", 1)[-1])]
    if len(matches) != 1:
        raise SystemExit(f"unknown module {name!r}; modules with checks: {', '.join(available)}")
    return matches[0]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m harness.selfcheck", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="module numbers or names (default: all)")
    parser.add_argument("--repo", type=Path, default=Path.cwd(),
                        help="folder holding your tinytorch/ (default: here)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--no-color", action="store_true", help="plain text output")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # `... | head` ends quietly, like any CLI

    available = modules_with_suites(visibility=("public",))
    modules = [resolve_module(m, available) for m in args.modules] or available
    tty = sys.stdout.isatty()
    report = Report(sys.stdout, colour=tty and not args.no_color and "NO_COLOR" not in
                    os.environ, live=tty)
    all_passed = True
    for module in modules:
        sys.stdout.write(report.paint(f"Module {module}\n", "1"))
        result = run_suite(module, args.repo, LocalBackend(), Limits(), visibility=("public",),
                           reference=None, call_timeout_s=args.timeout,
                           on_result=report.on_result)
        all_passed &= report.summary(result) == 100.0
    return 0 if all_passed else 1


if __name__ == "__main__":
    sys.exit(main())
