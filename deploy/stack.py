"""The whole grading system on one machine, as child processes: ``redis-server`` on a free
loopback port, the API under gunicorn, and a Celery worker, all configured through the same
``AUTOGRADER_*`` variables an operator sets (see docs/OPERATORS.md).

The demo, the end-to-end tests and the burst bench all start the system through this one
class, so what they exercise is what gets deployed, and ``close()`` (also on Ctrl-C) stops
every process it started and nothing else.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

CHECKOUT = Path(__file__).resolve().parent.parent
CLI = "import sys; from autograder.cli import main; sys.exit(main())"


class StackError(RuntimeError):
    """A part of the system did not start; the message carries the end of its log."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_command(port: int, directory) -> list[str]:
    """A throwaway ``redis-server`` on loopback with no persistence (a restart loses all): how
    the stack and every test that needs a broker start one."""
    return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(directory)]


def redis_pings(url: str) -> bool:
    """True once the redis-server at ``url`` answers."""
    import redis
    try:
        return bool(redis.Redis.from_url(url).ping())
    except redis.ConnectionError:
        return False


class RedisServer:
    """One redis-server process of :func:`redis_command` that can stop and come back on the
    same port (for tests of a broker that goes away)."""

    def __init__(self, directory, port: int | None = None):
        self.directory, self.port, self.proc = directory, port or free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(redis_command(self.port, self.directory),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: redis_pings(self.url), 10, f"redis-server on port {self.port}")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def restart(self) -> RedisServer:
        self.stop()
        return self.start()


def docker_problem() -> str | None:
    """Why the Docker engine cannot run sandboxes here, or None when it can."""
    try:
        import docker
        docker.from_env().ping()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the engine means the same
        return f"{type(exc).__name__}: {exc}"
    return None


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise StackError(f"timed out after {timeout:.0f} s waiting for {what}")


class LocalStack:
    """Redis, API and worker under ``root`` (database, bare repos, logs), SQLite by default.

    ``sandbox`` is "docker" or "local" (the runner as a plain subprocess: UNSAFE for untrusted
    code); ``worker_env`` overrides worker settings (e.g. time limits in tests).
    """

    def __init__(self, root: Path, *, sandbox: str = "docker", concurrency: int = 2,
                 rubrics_dir: Path = CHECKOUT / "rubrics", sandbox_image: str | None = None,
                 database_url: str | None = None, worker_env: dict | None = None,
                 api_threads: int = 8):
        self.root = Path(root)
        self.logs = self.root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.redis_port, self.api_port = free_port(), free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.concurrency, self.api_threads = concurrency, api_threads
        self.env = {
            "AUTOGRADER_DATABASE_URL": database_url
            or f"sqlite:///{self.root / 'autograder.sqlite3'}",
            "AUTOGRADER_REPOS_DIR": str(self.root / "repos"),
            "AUTOGRADER_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "AUTOGRADER_RUBRICS_DIR": str(rubrics_dir),
            "AUTOGRADER_SANDBOX": sandbox,
            **({"AUTOGRADER_SANDBOX_IMAGE": sandbox_image} if sandbox_image else {}),
            **(worker_env or {}),
        }
        self._procs: list[tuple[str, subprocess.Popen]] = []

    # -- processes ---------------------------------------------------------------------------
    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")
        env = {**os.environ, **self.env,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(CHECKOUT),
                                                           os.environ.get("PYTHONPATH")]))}
        proc = subprocess.Popen(argv, cwd=self.root, env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)   # its own group: stopped as a whole
        log.close()
        self._procs.append((name, proc))
        return proc

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def _expect_running(self, name: str, proc: subprocess.Popen, ready) -> None:
        def up():
            if proc.poll() is not None:
                raise StackError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")
            return ready()
        try:
            wait_until(up, 60, name)
        except StackError as exc:
            raise StackError(f"{exc}\n--- {name} log ---\n{self.log_tail(name)}") from None

    def start_redis(self) -> None:
        proc = self._spawn("redis", redis_command(self.redis_port, self.root))
        broker = self.env["AUTOGRADER_BROKER_URL"]
        self._expect_running("redis", proc, lambda: redis_pings(broker))

    def start_api(self) -> None:
        proc = self._spawn("api", [sys.executable, "-m", "gunicorn", "--workers", "2",
                                   "--threads", str(self.api_threads), "--bind",
                                   f"127.0.0.1:{self.api_port}", "--timeout", "300",
                                   "autograder:create_app()"])

        def answers():
            try:
                return requests.get(f"{self.api_url}/api/v1/openapi.json", timeout=2).ok
            except requests.RequestException:
                return False
        self._expect_running("api", proc, answers)

    def start_worker(self, name: str = "worker") -> None:
        """A worker with the periodic reconciler (``--beat``): give it to one worker only."""
        proc = self._spawn(name, [sys.executable, "-m", "celery", "-A", "workers.celery_app",
                                  "worker", "--beat", "--schedule",
                                  str(self.root / f"{name}-beat-schedule"),
                                  "--concurrency", str(self.concurrency), "--loglevel", "INFO",
                                  "--without-gossip", "--without-mingle", "-n",
                                  f"{name}@%h"])
        self._expect_running(name, proc, lambda: b"ready." in (self.logs / f"{name}.log")
                             .read_bytes())

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """``autograder ARGS`` against this system's database and repos."""
        env = {**os.environ, **self.env}
        done = subprocess.run([sys.executable, "-c", CLI, *args], cwd=CHECKOUT, env=env,
                              capture_output=True, text=True, timeout=300)
        if check and done.returncode != 0:
            raise StackError(f"autograder {' '.join(args)} failed ({done.returncode}):\n"
                             f"{done.stdout}{done.stderr}")
        return done

    def start(self) -> LocalStack:
        """Everything, in dependency order; on failure what did start is stopped again."""
        missing = [tool for tool in ("redis-server", "git") if shutil.which(tool) is None]
        if missing:
            raise StackError(f"{' and '.join(missing)} not installed: run "
                             "`bash deploy/install.sh` first")
        try:
            self.start_redis()
            self.cli("init-db")
            self.start_api()
            self.start_worker()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop every started process group, newest first: a polite SIGTERM (the worker's warm
        shutdown removes its spare containers), then SIGKILL after a grace period."""
        while self._procs:
            name, proc = self._procs.pop()
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    _signal_group(proc, signal.SIGKILL)
                    proc.wait(10)
        if self.env["AUTOGRADER_SANDBOX"] == "docker":
            _sweep_sandboxes()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.close()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def _sweep_sandboxes() -> None:
    """Sandbox containers of a worker killed mid-job (their owner is dead) go too."""
    try:
        from workers.docker_backend import sweep_orphans
        sweep_orphans()
    except Exception as exc:  # noqa: BLE001 - Docker gone: nothing of ours can be left there
        print(f"stack: could not sweep sandbox containers: {exc}", file=sys.stderr)
