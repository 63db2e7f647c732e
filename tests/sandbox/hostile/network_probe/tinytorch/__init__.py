import os
import socket


def probe():
    """Report the interfaces and whether a name resolves. Only loopback may exist, so the
    lookup can send nothing anywhere."""
    try:
        resolved = socket.getaddrinfo("pypi.org", 443)[0][4][0]
    except OSError as exc:
        resolved = f"failed: {type(exc).__name__}"
    return {"interfaces": sorted(os.listdir("/sys/class/net")), "lookup": resolved}
