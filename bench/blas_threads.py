"""How many OpenBLAS threads a training bench uses: every core when the machine is idle, one
when it is not. Import this module before NumPy: OpenBLAS reads the variable when it loads.

Issue 17's wall-time targets are for both cores of a quiet machine, and there a second thread
speeds the GEMMs up (TinyGPT's (1024 x 128) @ (128 x 512) ran 1.9x faster; a whole training
step 1.35x, 17.5k tokens/s against 13.0k). When other work holds a core, a waiting OpenBLAS
thread spins instead of sleeping: at load 6 on 2 cores TinyGPT trained at 1.1k tokens/s on
two threads and at 6.8k on one, and at load 2 a second two-thread profile fell to 1.7k. So:
all cores below a load average of 1, else one. ``OPENBLAS_NUM_THREADS`` set by the caller always wins. The graded
milestones always run one thread (``PLANS`` in workers/milestones/job.py).
"""

from __future__ import annotations

import os

QUIET_LOAD = 1.0

os.environ.setdefault("OPENBLAS_NUM_THREADS",
                      str(os.cpu_count() or 1) if os.getloadavg()[0] < QUIET_LOAD else "1")
