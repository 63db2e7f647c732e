"""How the trusted side starts a runner: the contract every backend keeps.

The harness only ever talks bytes to a :class:`RunnerHandle`, so the same checks run against a
local subprocess (self-check, machines without Docker) or the Docker sandbox.
"""

from dataclasses import dataclass
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class Limits:
    wall_s: float = 300.0      # whole-job wall clock
    memory_mb: int = 1024
    cpus: float = 1.0
    pids: int = 128
    tmpfs_mb: int = 256
    datasets: tuple[tuple[str, str], ...] = ()   # (host_dir, container_dir), mounted read-only


def runner_environment(limits: Limits) -> dict:
    """Environment every runner gets: BLAS threads within the CPU limit, and a fixed malloc
    mmap threshold, so an array's memory goes back to the kernel when it is freed and a memory
    check's peak (the kernel's count) sees every large temporary, not a reused free heap."""
    threads = str(max(1, int(limits.cpus)))
    return {"OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads, "PYTHONIOENCODING": "utf-8",
            "MALLOC_MMAP_THRESHOLD_": "65536"}


@dataclass(frozen=True)
class MemoryMark:
    """Where a memory measurement starts, in bytes, both read from the kernel.

    ``level`` is the usage the peak is measured from. ``held`` is the anonymous and shared
    memory the runner holds at that moment: memory its code could free inside the window to
    make room for a temporary without the peak rising above ``level`` (a ballast), so the
    harness compares it with the reference runner's (``perf.peak_ratio_to_reference``).
    """
    level: int
    held: int


class BackendUnavailable(RuntimeError):
    """The runner could not be started at all (Docker down, image missing): an
    infrastructure error, retried and never graded as a zero."""


class RunnerHandle(Protocol):
    stdin: BinaryIO            # frames to the runner
    stdout: BinaryIO           # frames from the runner (nothing else is ever written here)

    def stderr_tail(self) -> str: ...        # capped student output, for messages
    def peak_memory_bytes(self) -> int | None: ...   # from the cgroup, never from the student
    def kill(self) -> None: ...
    def close(self) -> None: ...             # always removes the process / container
    # Beyond docs/ARCHITECTURE.md, so a dead runner gets a precise reason:
    def wait(self, timeout: float) -> int | None: ...   # exit code, None if still running
    def oom_killed(self) -> bool: ...        # the backend saw the memory limit kill it
    # For memory checks: reset the kernel's high-water mark, returning where usage stands (None
    # if this backend cannot); then the peak of what ran since, from the kernel too.
    def memory_mark(self) -> MemoryMark | None: ...
    def peak_since_mark(self) -> int | None: ...


class Backend(Protocol):
    name: str                  # "local" (unsafe for untrusted code) or "docker"

    def start(self, limits: Limits) -> RunnerHandle: ...
