"""Hostile submissions in the Docker sandbox: each is contained, the failure says what
happened, the next request (a fresh runner) is served normally, and no container is left."""

import io
import tarfile
from pathlib import Path

import pytest

from harness.backends import Limits
from workers.docker_backend import DockerBackend
from harness.runner_client import Runner, RunnerCrashed, RunnerFailure, RunnerTimeout
from harness.suite import package_tar

HOSTILE = Path(__file__).parent / "hostile"
LIMITS = Limits(wall_s=60, memory_mb=256, cpus=1.0, pids=32, tmpfs_mb=32)
HANG_S = 2.0        # how long a probe that never answers is given (others get the default)
PROBE = "__import__('tinytorch').probe()"


@pytest.fixture
def sandbox(sandbox_image, no_containers_left):
    """Opens a runner on a hostile repo; closes it and checks a fresh runner still works."""
    opened = []

    def open_runner(case=None, tar=None):
        runner = Runner(DockerBackend(sandbox_image), LIMITS,
                        tar if tar is not None else package_tar(HOSTILE / case))
        opened.append(runner)
        return runner

    yield open_runner
    for runner in opened:
        runner.close()
    healthy = open_runner(tar=package_tar(HOSTILE / "busy_loop"))
    assert healthy.eval("__import__('tinytorch').add(20, 22)") == 42
    healthy.close()


def test_fork_bomb_stops_at_the_pid_limit(sandbox):
    runner = sandbox("fork_bomb")
    runner.eval("1")                            # started and loaded, within the default limit
    with pytest.raises(RunnerTimeout, match="no answer within 2.0 s"):
        runner.eval(PROBE, timeout=HANG_S)


def test_memory_bomb_is_oom_killed(sandbox):
    runner = sandbox("memory_bomb")
    with pytest.raises(RunnerCrashed, match="ran out of memory \\(limit 256 MB\\)"):
        runner.eval(PROBE)


def test_infinite_loop_at_import_times_out(sandbox):
    runner = sandbox("import_loop")
    runner.eval("1")
    with pytest.raises(RunnerTimeout):
        runner.eval("__import__('tinytorch')", timeout=HANG_S)


def test_busy_loop_fails_only_its_own_check(sandbox):
    runner = sandbox("busy_loop")
    assert runner.eval("__import__('tinytorch').add(1, 2)") == 3
    with pytest.raises(RunnerTimeout, match="stopped and restarted"):
        runner.eval(PROBE, timeout=HANG_S)
    assert runner.eval("__import__('tinytorch').add(2, 2)") == 4
    assert runner.restarts == 1


def test_sleep_past_the_limit_times_out(sandbox):
    runner = sandbox("sleep_past_limit")
    runner.eval("1")
    with pytest.raises(RunnerTimeout):
        runner.eval(PROBE, timeout=HANG_S)


def test_network_has_only_loopback_and_no_name_lookup(sandbox):
    seen = sandbox("network_probe").eval(PROBE)
    assert seen["interfaces"] == ["lo"]
    assert seen["lookup"].startswith("failed: gaierror")


def test_no_host_resolver_and_a_tiny_dev_shm(sandbox):
    runner = sandbox("busy_loop")
    nameservers = runner.eval("[line.split()[1] for line in open('/etc/resolv.conf') "
                              "if line.startswith('nameserver')]")
    assert nameservers == ["127.0.0.1"]
    assert runner.eval("__import__('os').statvfs('/dev/shm').f_blocks * "
                       "__import__('os').statvfs('/dev/shm').f_frsize") <= 4 * 2**20


def test_disk_fill_stops_at_the_tmpfs_and_root_is_read_only(sandbox):
    seen = sandbox("disk_fill").eval(PROBE, timeout=20)
    assert seen["tmp"]["error"] == "ENOSPC" and seen["tmp"]["written"] <= 32 * 1024 * 1024
    assert seen["root"] == {"error": "EROFS", "written": 0}
    assert seen["opt"]["error"] in ("EROFS", "EACCES") and seen["opt"]["written"] == 0


def test_100_mb_of_stdout_is_capped_and_frames_stay_intact(sandbox):
    runner = sandbox("stdout_flood")
    assert runner.eval(PROBE, timeout=60) == "done"
    tail = runner.handle.stderr_tail()
    assert len(tail) < 64 * 1024 and "bytes dropped" in tail and tail.rstrip().endswith("eggs")


def test_no_secret_of_the_worker_is_visible(sandbox, monkeypatch):
    secret = "worker-secret-0xC0FFEE"
    monkeypatch.setenv("AUTOGRADER_SECRET_KEY", secret)
    seen = sandbox("secrets").eval(PROBE)
    assert secret not in repr(seen)
    assert not any(key.startswith("AUTOGRADER") for key in seen["environ"])
    assert (seen["uid"], seen["gid"]) == (65534, 65534)
    assert len(seen["pids"]) <= 3, f"processes outside the sandbox are visible: {seen['pids']}"
    assert "/work" not in seen["/proc/mounts"]


def symlink_escape_tar() -> bytes:
    """A repo whose ``tinytorch/passwd`` links to the host's /etc/passwd. Built here, not
    committed: a checkout or a copy of the tree may turn a symlink into a plain file."""
    probe = b"from pathlib import Path\n\n\ndef probe():\n" \
            b"    return (Path(__file__).parent / 'passwd').read_text()\n"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        module = tarfile.TarInfo("tinytorch/__init__.py")
        module.size = len(probe)
        tar.addfile(module, io.BytesIO(probe))
        link = tarfile.TarInfo("tinytorch/passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    return buf.getvalue()


def test_symlink_to_a_host_path_is_refused(sandbox):
    runner = sandbox(tar=symlink_escape_tar())
    with pytest.raises(RunnerFailure, match="symlink escapes the repo"):
        runner.eval(PROBE)


@pytest.mark.parametrize("name", ["../evil.py", "tinytorch/../../evil.py", "/tmp/evil.py"])
def test_file_names_with_dot_dot_are_refused(sandbox, name):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = 4
        tar.addfile(info, io.BytesIO(b"x=1\n"))
    runner = sandbox(tar=buf.getvalue())
    with pytest.raises(RunnerFailure, match="unsafe path in repo"):
        runner.eval("1")
