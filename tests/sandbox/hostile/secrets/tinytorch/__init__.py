import glob
import os


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"unreadable: {type(exc).__name__}"


def probe():
    """Collect everything a secret could hide in: environment, every process's environ and
    command line, the mounts, our credentials."""
    found = {"environ": dict(os.environ), "uid": os.getuid(), "gid": os.getgid()}
    for path in glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline"):
        found[path] = _read(path)
    for path in ("/proc/self/status", "/proc/mounts", "/etc/hostname"):
        found[path] = _read(path)
    found["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    return found
