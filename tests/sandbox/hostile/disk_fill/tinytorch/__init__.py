import errno
import os


def _fill(path):
    written = 0
    try:
        with open(path, "wb") as out:
            while True:
                out.write(b"\0" * (1024 * 1024))
                out.flush()
                written += 1024 * 1024
    except OSError as exc:
        return {"error": errno.errorcode.get(exc.errno, str(exc.errno)), "written": written}
    finally:
        if os.path.exists(path):
            os.remove(path)


def probe():
    """Fill the scratch tmpfs, then try the root filesystem."""
    return {"tmp": _fill("/tmp/fill.bin"), "root": _fill("/fill.bin"),
            "opt": _fill("/opt/venv/fill.bin")}
