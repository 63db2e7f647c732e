"""git's pre-receive and post-receive hook: hands the push to the API process and relays
its answer.  Standard library only, run as ``python -I -S hook_client.py HOOK``.

A hook process that imported SQLAlchemy and Celery cost ~0.5 s of CPU, twice per push; at a
deadline rush those imports, not git, filled the machine.  The decisions are made by the API
process that serves the push (``autograder.pushes.decide``, warm imports and a pooled database), on
the end of a socket pair it handed to ``git http-backend`` (``AUTOGRADER_HOOK_FD``).  Only
what needs the push's quarantined objects runs here: whether each update fast-forwards.
"""
import json
import os
import socket
import subprocess
import sys

ZERO_SHA = "0" * 40


def fast_forwards(old: str, new: str) -> bool:
    """``new`` keeps ``old`` in its history (git sets GIT_DIR and the quarantine for us)."""
    if ZERO_SHA in (old, new):
        return True
    return subprocess.run(["git", "merge-base", "--is-ancestor", old, new]).returncode == 0


def package_files(new: str, package: str = "tinytorch") -> list:
    """``[path, size]`` of every file under ``package/`` at ``new``: what a grading job
    sends to the sandbox in one frame, so its total is checked before the push lands."""
    if new == ZERO_SHA:
        return []
    listed = subprocess.run(["git", "ls-tree", "-r", "-l", "--full-tree", "-z", new, "--",
                             f"{package}/"], capture_output=True, text=True)
    files = []
    for entry in listed.stdout.split("\0"):
        meta, _, path = entry.partition("\t")
        fields = meta.split()
        if len(fields) == 4 and fields[1] == "blob":
            files.append([path, int(fields[3])])
    return files


def read_updates(text: str, hook: str) -> list:
    updates = []
    for line in text.splitlines():
        if line.strip():
            old, new, ref = line.split()
            pre = hook == "pre-receive"
            updates.append({"old": old, "new": new, "ref": ref,
                            "fast_forward": fast_forwards(old, new) if pre else True,
                            "package_files": package_files(new) if pre else []})
    return updates


def ask_the_api(request: dict) -> dict:
    with socket.socket(fileno=os.dup(int(os.environ["AUTOGRADER_HOOK_FD"]))) as channel:
        channel.sendall(json.dumps(request).encode() + b"\n")
        reply = channel.makefile("rb").readline()
    if not reply:
        raise ConnectionError("no answer")
    return json.loads(reply)


def main(argv: list) -> int:
    hook = argv[1] if len(argv) > 1 else ""
    updates = read_updates(sys.stdin.read(), hook)
    try:
        answer = ask_the_api({"hook": hook, "updates": updates})
    except (KeyError, ValueError, OSError) as exc:
        print(f"the grader could not take this push ({type(exc).__name__}): push to the "
              "course's HTTP remote, and try again shortly", file=sys.stderr)
        return 1
    sys.stdout.write(answer.get("stdout", ""))
    sys.stderr.write(answer.get("stderr", ""))
    return int(answer.get("code", 1))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
