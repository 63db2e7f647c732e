"""The hook client and the API-side bridge it talks to, without a push around them."""
from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from autograder.pushes.bridge import HookBridge
from autograder.pushes.hooks_dir import HOOK_CLIENT
from autograder.pushes.decide import PushContext

UPDATE = f"{'0' * 40} {'a' * 40} refs/heads/main\n"


def run_client(env, stdin=UPDATE, pass_fds=()):
    return subprocess.run([sys.executable, "-I", "-S", str(HOOK_CLIENT), "pre-receive"],
                          input=stdin, capture_output=True, text=True, env=env,
                          pass_fds=pass_fds, timeout=30)


def test_the_client_refuses_a_push_that_did_not_come_through_the_api():
    done = run_client({"PATH": os.environ["PATH"]})
    assert done.returncode == 1
    assert "the grader could not take this push (KeyError)" in done.stderr


def test_the_client_relays_the_api_answer_and_exit_code():
    ours, theirs = socket.socketpair()
    with ours:
        with theirs:
            child = subprocess.Popen(
                [sys.executable, "-I", "-S", str(HOOK_CLIENT), "pre-receive"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, pass_fds=(theirs.fileno(),),
                env={"PATH": os.environ["PATH"], "AUTOGRADER_HOOK_FD": str(theirs.fileno())})
        child.stdin.write(UPDATE)
        child.stdin.close()
        request = json.loads(ours.makefile("rb").readline())
        ours.sendall(json.dumps({"code": 1, "stdout": "", "stderr": "no, because\n"}).encode()
                     + b"\n")
        assert child.wait(30) == 1 and child.stderr.read() == "no, because\n"
    assert request == {"hook": "pre-receive", "updates": [
        {"old": "0" * 40, "new": "a" * 40, "ref": "refs/heads/main", "fast_forward": True,
         "package_files": []}]}


def test_the_bridge_refuses_what_it_cannot_read_and_stops_when_git_lets_go():
    context = PushContext(sessionmaker(), repo_id=1, public_url="http://x", broker_url="",
                          repos_dir=Path("/nonexistent"))
    bridge = HookBridge(context, logging.getLogger("test"))
    hook_end = socket.socket(fileno=os.dup(bridge.child_fd))   # what git would inherit
    bridge.start()
    with hook_end, hook_end.makefile("rb") as replies:
        for line in (b"not json\n", b'{"hook": "pre-receive", "updates": [{"old": 1}]}\n',
                     b'{"hook": "update"}\n'):
            hook_end.sendall(line)
            reply = json.loads(replies.readline())
            assert reply["code"] == 1 and reply["stderr"], reply
    bridge.close()
    assert not bridge._thread.is_alive()
