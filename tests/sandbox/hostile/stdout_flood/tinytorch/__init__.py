import os
import sys


def probe():
    """100 MB to stdout, through print and straight to file descriptor 1."""
    line = "spam " * 200 + "\n"
    for _ in range(50 * 1024 * 1024 // len(line)):
        sys.stdout.write(line)
    block = b"eggs" * (1024 * 1024 // 4)
    for _ in range(50):
        os.write(1, block)
    return "done"
