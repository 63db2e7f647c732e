# At import: 100 MB to stdout, the scratch disk filled, every environment variable dumped.
import os
import sys

for _ in range(100):
    sys.stdout.write("x" * (1024 * 1024))
print(dict(os.environ))
try:
    with open("/tmp/fill.bin", "wb") as _out:
        while True:
            _out.write(b"\0" * (1024 * 1024))
except OSError as _full:
    print("disk full:", _full)
