import os


def probe():
    """Every process forks forever; the pid limit must stop it."""
    while True:
        try:
            os.fork()
        except OSError:
            pass
