"""Module 01 - Setup: know the machine before measuring anything on it.

Every performance figure in this course (FLOP/s, speed-ups, ratios to the reference) depends
on the Python and NumPy versions, the BLAS library NumPy calls for matmul, and the number of
cores it may use. ``environment_report()`` gathers them; ``StudentInfo`` records who wrote
this copy of TinyTorch.

Systems cost:
    memory  - negligible.
    compute - negligible; ``threadpoolctl`` (if installed) inspects the loaded BLAS library,
              which is the most reliable way to see which one runs and with how many threads.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["EnvironmentReport", "StudentInfo", "environment_report", "blas_info", "cpu_count"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class StudentInfo:
    """Who wrote this TinyTorch; validated so a typo shows up now, not in the grade export."""

    name: str
    email: str
    student_id: str = ""

    def __post_init__(self):
        if not self.name.strip():
            raise ValueError("StudentInfo.name must not be empty")
        if not _EMAIL.match(self.email):
            raise ValueError(f"StudentInfo.email is not an email address: {self.email!r}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class EnvironmentReport:
    python: str
    platform: str
    numpy: str
    blas: str
    cores: int

    def __str__(self) -> str:
        return "\n".join(f"{key:>8}: {value}" for key, value in asdict(self).items())


def cpu_count() -> int:
    """Cores this process may run on (the affinity mask, which containers restrict), not the host's total."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def blas_info() -> str:
    """Name, version and thread count of NumPy's BLAS: from threadpoolctl if installed, else
    from NumPy's build configuration (which knows the library but not the threads), else
    ``"unknown"`` (NumPy < 1.26 has no machine-readable build configuration)."""
    ### BEGIN SOLUTION
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            p = pools[0]
            return f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads)"
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name', 'unknown')} {blas.get('version', '')}".strip()
    except (TypeError, KeyError):  # NumPy < 1.26 has no mode="dicts"
        return "unknown"
    ### END SOLUTION


def environment_report() -> EnvironmentReport:
    """The facts that explain a benchmark figure."""
    ### BEGIN SOLUTION
    return EnvironmentReport(
        python=sys.version.split()[0],
        platform=platform.platform(),
        numpy=np.__version__,
        blas=blas_info(),
        cores=cpu_count(),
    )
    ### END SOLUTION
