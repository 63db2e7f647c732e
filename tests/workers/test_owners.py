"""Owner ids: a dead process, a zombie and a live one are told apart on this host."""

import os
import signal
import socket
import subprocess
import sys
import time

from workers.owners import current_owner, owner_is_dead


def owner_of(pid):
    return f"{socket.gethostname()}:{pid}"


def test_this_process_is_alive_and_another_hosts_process_is_presumed_alive():
    assert not owner_is_dead(current_owner())
    assert not owner_is_dead("some-other-host:1")


def test_an_exited_and_reaped_process_is_dead():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert owner_is_dead(owner_of(child.pid))


def test_a_killed_but_unreaped_process_a_zombie_is_dead():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert not owner_is_dead(owner_of(child.pid))
        os.kill(child.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not owner_is_dead(owner_of(child.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)                # not reaped: the kernel keeps it as a zombie
        os.kill(child.pid, 0)               # still signalable, so only /proc tells
        assert owner_is_dead(owner_of(child.pid))
    finally:
        child.kill()
        child.wait()


def test_an_id_we_did_not_write_counts_as_dead():
    assert owner_is_dead(f"{socket.gethostname()}:not-a-pid")
