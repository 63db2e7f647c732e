"""Runs the runner in a Docker container: the sandbox for untrusted student code.

The only module of the project that talks to Docker (Docker SDK for Python).  One container per
runner: no network, read-only root, a small tmpfs for the repo and scratch, user 65534, all
capabilities dropped, no-new-privileges, memory/CPU/pid limits, datasets mounted read-only,
no daemon-side logs (a 100 MB print must not land on the worker's disk).  The repo arrives
through stdin like every other frame.  Every container carries labels naming its owner and
an expiry, so ``sweep_orphans`` can remove what a killed worker left behind.
"""

import os
import socket
import threading
import time

import docker
import requests
from docker.types import LogConfig, Ulimit
from docker.utils.socket import STDOUT, frames_iter

from autograder.settings import Settings
from harness.backends import BackendUnavailable, Limits, MemoryMark, runner_environment
from harness.backends.local import OutputTail
from workers.owners import current_owner, owner_is_dead

LABEL = "org.tinytorch.sandbox"
OWNER_LABEL = f"{LABEL}.owner"      # "<hostname>:<pid>" of the process that started it
EXPIRES_LABEL = f"{LABEL}.expires"  # unix time after which it is an orphan whoever owns it
DEPLOYMENT_LABEL = f"{LABEL}.deployment"   # which service (or test run) it belongs to
EXPIRY_GRACE_S = 60
SPARE_MAX_IDLE_S = 600              # a warm spare older than this is replaced, not used
SANDBOX_USER = "65534:65534"        # nobody:nogroup
CGROUP_V1_MEMORY = "/sys/fs/cgroup/memory/docker/{id}"   # where a high-water mark can be reset
CGROUP_PEAK_FILES = (                # high-water mark of a container's memory cgroup
    "/sys/fs/cgroup/memory/docker/{id}/memory.max_usage_in_bytes",   # v1, cgroupfs (here)
    "/sys/fs/cgroup/system.slice/docker-{id}.scope/memory.peak",     # v2, systemd driver
    "/sys/fs/cgroup/docker/{id}/memory.peak",                        # v2, cgroupfs driver
)
RUNNER_COMMAND = ["python3", "-m", "sandbox.runner"]
NO_RESOLVER = "127.0.0.1"           # nothing listens there, and it names nothing of the host's
SHM_MB = 4                          # enough for multiprocessing's semaphores, no more


def container_options(limits: Limits, image: str, idle_s: float = 0.0, deployment="default"):
    """Keyword arguments of ``containers.create`` for one sandboxed runner that may wait
    ``idle_s`` as a warm spare before its job starts."""
    expires = int(time.time() + idle_s + limits.wall_s + EXPIRY_GRACE_S)
    return dict(
        image=image, command=RUNNER_COMMAND, stdin_open=True, tty=False, detach=True,
        hostname="sandbox", working_dir="/tmp", user=SANDBOX_USER,
        network_mode="none", read_only=True,
        dns=[NO_RESOLVER],              # not the host's resolver address in /etc/resolv.conf
        shm_size=f"{SHM_MB}m",          # /dev/shm is a tmpfs of its own: keep it tiny
        tmpfs={"/tmp": f"rw,nosuid,nodev,noexec,size={limits.tmpfs_mb}m,mode=1777"},
        cap_drop=["ALL"], security_opt=["no-new-privileges"],
        mem_limit=f"{limits.memory_mb}m", memswap_limit=f"{limits.memory_mb}m",
        nano_cpus=int(limits.cpus * 1e9), pids_limit=limits.pids,
        ulimits=[Ulimit(name="core", soft=0, hard=0), Ulimit(name="nofile", soft=256, hard=256)],
        volumes={host: {"bind": inside, "mode": "ro"} for host, inside in limits.datasets},
        environment=runner_environment(limits),
        labels={LABEL: "runner", OWNER_LABEL: current_owner(), EXPIRES_LABEL: str(expires),
                DEPLOYMENT_LABEL: deployment},
        log_config=LogConfig(type=LogConfig.types.NONE),
    )


class DockerHandle:
    """A started container: frames in through the attached stdin, stdout demultiplexed into a
    pipe for the harness, stderr kept as a capped tail, removed on ``close``."""

    def __init__(self, container, attach):
        self.container = container
        self.created = time.monotonic()
        self._attach = attach
        self._raw = attach._sock
        self._raw.settimeout(None)        # a long silent check is not an error
        self.stdin = self._raw.makefile("wb")
        read_fd, write_fd = os.pipe()
        self.stdout = open(read_fd, "rb")
        self._sink = open(write_fd, "wb")
        self._stderr = OutputTail()
        self._peak = None
        self._cache_at_mark = None        # page cache + tmpfs when the last memory mark was set
        self._exit = None                 # (exit code, OOM killed) once known
        self._pump = threading.Thread(target=self._demultiplex, daemon=True)
        self._pump.start()
        self._deadline = None

    def arm(self, wall_s):
        """Start the job's wall clock (a backstop, whatever the harness does): at hand-over,
        so time a warm spare spent waiting is not charged to the student."""
        self._deadline = threading.Timer(wall_s, self.kill)
        self._deadline.daemon = True
        self._deadline.start()

    @property
    def alive(self):
        return self._pump.is_alive()

    def _demultiplex(self):
        sink = self._sink
        try:
            for stream, chunk in frames_iter(self._raw, tty=False):
                if stream != STDOUT:
                    self._stderr.add(chunk)
                elif sink is not None:
                    try:
                        sink.write(chunk)
                        sink.flush()
                    except (BrokenPipeError, ValueError):
                        sink = None       # the harness stopped listening; keep draining
        except OSError:
            pass                          # the socket was shut down by close()
        finally:
            try:
                self._sink.close()
            except OSError:
                pass

    def stderr_tail(self):
        return self._stderr.text()

    def peak_memory_bytes(self):
        """The cgroup's memory high-water mark, remembered after the container is gone;
        never anything the student process says about itself."""
        peak = _cgroup_peak(self.container.id)
        if peak is None:
            try:
                stats = self.container.stats(stream=False, one_shot=True)
                peak = stats.get("memory_stats", {}).get("max_usage")
            except (docker.errors.DockerException, requests.RequestException):
                pass
        if peak:
            self._peak = max(self._peak or 0, int(peak))
        return self._peak

    def memory_mark(self):
        """Reset the cgroup's high-water mark to its current usage and return that usage, so
        :meth:`peak_since_mark` is the peak of what runs from now on (the kernel's count,
        nothing the student says).  None where the cgroup cannot be reset (cgroup v2 before
        Linux 6.12, or a worker without write access to it)."""
        self.peak_memory_bytes()        # the lifetime peak survives the reset
        folder = CGROUP_V1_MEMORY.format(id=self.container.id)
        try:
            with open(f"{folder}/memory.max_usage_in_bytes", "w") as peak:
                peak.write("0")
            with open(f"{folder}/memory.usage_in_bytes") as usage:
                level = int(usage.read())
            counts = _memory_stat(self.container.id)
            self._cache_at_mark = counts["total_cache"]
            return MemoryMark(level, counts["total_rss"] + counts["total_shmem"])
        except (OSError, ValueError, KeyError):
            return None

    def peak_since_mark(self):
        """The peak since the mark, plus the page cache (and tmpfs) the container gave up
        since then: cache charged to it and dropped inside the window (``posix_fadvise``,
        a deleted file) made room for a temporary the peak would never show, and honest
        code does not drop cache while a kernel runs."""
        peak = _cgroup_peak(self.container.id)
        try:
            dropped = self._cache_at_mark - _memory_stat(self.container.id)["total_cache"]
        except (OSError, ValueError, KeyError, TypeError):
            return peak
        return None if peak is None else peak + max(0, dropped)

    def wait(self, timeout):
        """Exit code once the container has stopped, ``None`` while it still runs."""
        self._pump.join(timeout)
        if self._pump.is_alive():
            return None
        if self._exit is None:
            try:
                code = self.container.wait(timeout=max(timeout, 1.0))["StatusCode"]
                self.container.reload()
                self._exit = (code, bool(self.container.attrs["State"].get("OOMKilled")))
            except (docker.errors.DockerException, requests.RequestException):
                return None
        return self._exit[0]

    def oom_killed(self):
        if self._exit is None:
            self.wait(1.0)
        return bool(self._exit and self._exit[1])

    def kill(self):
        self.peak_memory_bytes()
        try:
            self.container.kill()
        except (docker.errors.APIError, requests.RequestException):
            pass                          # already stopped or already gone

    def close(self):
        """Remove the container whatever state it is in, then release the streams."""
        if self._deadline is not None:
            self._deadline.cancel()
        _remove(self.container)
        try:
            self._raw.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._pump.join(10)
        for stream in (self.stdin, self._raw, self._attach, self.stdout):
            try:
                stream.close()
            except OSError:
                pass


def _memory_stat(container_id):
    """The container's cgroup v1 ``memory.stat`` as ``{name: bytes}``."""
    with open(f"{CGROUP_V1_MEMORY.format(id=container_id)}/memory.stat") as stat:
        return {name: int(value) for name, value in (line.split() for line in stat if line.strip())}


def _cgroup_peak(container_id):
    """A file read, ~0.1 ms, where the stats API can take half a second; None when no
    known layout is found (then the stats API answers)."""
    for template in CGROUP_PEAK_FILES:
        try:
            with open(template.format(id=container_id)) as peak:
                return int(peak.read())
        except (OSError, ValueError):
            continue
    return None


def _remove(container, attempts=20):
    """Force-remove; a removal can race with the daemon's own cleanup ("removal already in
    progress"), so retry briefly rather than leave the container behind."""
    for attempt in range(attempts):
        try:
            container.remove(force=True)
            return
        except docker.errors.NotFound:
            return
        except (docker.errors.APIError, requests.RequestException):
            time.sleep(0.25)


class DockerBackend:
    """Starts one sandboxed container per runner from ``image``.

    With ``warm=n`` it keeps up to n started spares per set of limits, so a job does not wait
    for ``docker start`` and the runner's imports (about 0.5 s each on these machines).  A
    spare has seen no student data: each container still serves exactly one runner.  Spares
    idle for ``SPARE_MAX_IDLE_S`` are removed, so at most n per set of limits used in that
    time exist (about 35 MB each).
    """

    name = "docker"

    def __init__(self, image=None, client=None, warm=0, deployment=None):
        """``image`` and ``deployment`` default to the settings ``AUTOGRADER_SANDBOX_IMAGE``
        and ``AUTOGRADER_SANDBOX_DEPLOYMENT``, read now (a test names its own deployment)."""
        settings = Settings() if image is None or deployment is None else None
        self.image = image or settings.sandbox_image
        self.warm = warm
        self.deployment = deployment or settings.sandbox_deployment
        self._client = client
        self._spares = {}          # Limits -> [DockerHandle], started, never handed out
        self._refilling = {}       # Limits -> number of spares being started
        self._lock = threading.Lock()

    @property
    def client(self):
        if self._client is None:
            try:
                self._client = docker.from_env()
            except docker.errors.DockerException as exc:
                raise BackendUnavailable(f"Docker is not available: {exc}") from exc
        return self._client

    def start(self, limits: Limits) -> DockerHandle:
        handle = self._take_spare(limits) or self._launch(limits)
        handle.arm(limits.wall_s)
        self._refill(limits)
        self._retire_idle()
        return handle

    def ready_spares(self, limits):
        with self._lock:
            return len(self._spares.get(limits, []))

    def drain(self):
        """Remove every warm spare (at worker shutdown)."""
        with self._lock:
            spares = [h for handles in self._spares.values() for h in handles]
            self._spares.clear()
        for handle in spares:
            handle.close()

    def _launch(self, limits, idle_s=0.0):
        container = None
        try:
            container = self.client.containers.create(
                **container_options(limits, self.image, idle_s, self.deployment))
            attach = self.client.api.attach_socket(
                container.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            container.start()
        except docker.errors.ImageNotFound as exc:
            raise BackendUnavailable(
                f"sandbox image {self.image} is missing: build it with "
                "`python3 -m deploy.build_sandbox`") from exc
        except (docker.errors.DockerException, requests.RequestException) as exc:
            if container is not None:
                _remove(container)
            raise BackendUnavailable(f"could not start a sandbox container: {exc}") from exc
        return DockerHandle(container, attach)

    def _take_spare(self, limits):
        while True:
            with self._lock:
                spares = self._spares.get(limits)
                handle = spares.pop(0) if spares else None
            if handle is None:
                return None
            if handle.alive and time.monotonic() - handle.created < SPARE_MAX_IDLE_S:
                return handle
            handle.close()

    def _retire_idle(self):
        """Spares of limits no job asked for in ``SPARE_MAX_IDLE_S`` go (in the background),
        so a course with many different limits does not keep containers for all of them."""
        now = time.monotonic()
        with self._lock:
            idle = [h for handles in self._spares.values() for h in handles
                    if now - h.created >= SPARE_MAX_IDLE_S]
            for handles in self._spares.values():
                handles[:] = [h for h in handles if h not in idle]
        if idle:
            threading.Thread(target=lambda: [h.close() for h in idle], daemon=True).start()

    def _refill(self, limits):
        """Start spares in the background until ``warm`` are ready or on their way."""
        with self._lock:
            missing = (self.warm - len(self._spares.get(limits, []))
                       - self._refilling.get(limits, 0))
            if missing <= 0:
                return
            self._refilling[limits] = self._refilling.get(limits, 0) + missing
        for _ in range(missing):
            threading.Thread(target=self._add_spare, args=(limits,), daemon=True).start()

    def _add_spare(self, limits):
        try:
            handle = self._launch(limits, idle_s=SPARE_MAX_IDLE_S)
        except BackendUnavailable:
            handle = None          # the next job starts cold and reports the fault itself
        with self._lock:
            self._refilling[limits] -= 1
            if handle is not None:
                self._spares.setdefault(limits, []).append(handle)


def sweep_orphans(client=None, now=None):
    """Remove sandbox containers whose owner process on this host is dead, or that are past
    their expiry (whoever owns them).  Called at worker start; returns how many it removed."""
    client = client or docker.from_env()
    now = time.time() if now is None else now
    removed = 0
    for container in client.containers.list(all=True, filters={"label": LABEL},
                                            ignore_removed=True):
        labels = container.labels
        expired = now > float(labels.get(EXPIRES_LABEL, 0) or 0)
        if expired or owner_is_dead(labels.get(OWNER_LABEL, "")):
            try:
                container.remove(force=True)
                removed += 1
            except docker.errors.NotFound:
                pass
    return removed
