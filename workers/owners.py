"""Who is doing something ("<host>:<pid>") and whether that process is still alive.

A SIGKILLed worker cannot clean up after itself; whatever it marked with its owner id (sandbox
containers, a claimed submission) is recognised as orphaned by the next worker on the host.
"""

import os
import socket


def current_owner():
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_is_dead(owner):
    """True only when ``owner`` is a process of this host that no longer exists; an owner on
    another host is presumed alive (its own host's worker judges it)."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ValueError:
        return True           # not an owner id we wrote
    except ProcessLookupError:
        return True
    except PermissionError:
        return False          # alive, belongs to another user
    return _is_zombie(int(pid))


def _is_zombie(pid):
    """A SIGKILLed worker's pool processes can linger as zombies when the init process does
    not reap them (as in some VMs and containers): still signalable, but dead."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False
