"""The registry-free sandbox image: reused when nothing changed, keyed by its inputs, and it
runs NumPy under every restriction the Docker backend applies."""

import shutil
import time

import numpy as np

from deploy import build_sandbox
from tests.grading.submission_tars import tar_of
from harness.backends import Limits
from workers.docker_backend import DockerBackend
from harness.runner_client import Runner


def test_existing_image_is_reused(sandbox_image, docker_client):
    build_sandbox.ensure_image()   # the runner files may have changed since the session began
    image_id = docker_client.images.get(sandbox_image).id
    started = time.monotonic()
    assert build_sandbox.ensure_image() == sandbox_image
    assert time.monotonic() - started < 5.0
    assert docker_client.images.get(sandbox_image).id == image_id
    labels = docker_client.images.get(sandbox_image).labels
    assert labels[build_sandbox.INPUTS_LABEL] == build_sandbox.runner_hash()


def test_inputs_hash_follows_the_runner_files(tmp_path, monkeypatch):
    for name in build_sandbox.CONTEXT_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(build_sandbox.REPO / name, tmp_path / name)
    monkeypatch.setattr(build_sandbox, "REPO", tmp_path)
    before = build_sandbox.runner_hash()
    assert build_sandbox.runner_hash() == before
    with open(tmp_path / "sandbox" / "runner.py", "a") as runner:
        runner.write("\n# changed\n")
    assert build_sandbox.runner_hash() != before


def test_numpy_runs_under_every_restriction(sandbox_image, no_containers_left):
    limits = Limits(wall_s=30, memory_mb=256, cpus=1.0, pids=32, tmpfs_mb=16)
    runner = Runner(DockerBackend(sandbox_image), limits,
                    tar_of({"tinytorch/__init__.py": "import numpy\nVERSION = numpy.__version__\n"}))
    try:
        assert runner.eval("__import__('tinytorch').VERSION") == np.__version__
        attrs = runner.handle.container.attrs
        host = attrs["HostConfig"]
        assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True
        assert host["CapDrop"] == ["ALL"] and host["SecurityOpt"] == ["no-new-privileges"]
        assert host["Memory"] == 256 * 1024 * 1024 and host["PidsLimit"] == 32
        assert host["NanoCpus"] == 1_000_000_000 and host["LogConfig"]["Type"] == "none"
        assert "size=16m" in host["Tmpfs"]["/tmp"]
        assert attrs["Config"]["User"] == "65534:65534"
        status = runner.eval("open('/proc/self/status').read()")
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        assert fields["Uid"].split()[0] == "65534"
        assert int(fields["CapEff"], 16) == 0 and fields["NoNewPrivs"].strip() == "1"
        assert runner.eval("sorted(__import__('os').listdir('/sys/class/net'))") == ["lo"]
        peak = runner.handle.peak_memory_bytes()
        assert peak is not None and 1 << 20 < peak <= 256 * 1024 * 1024
    finally:
        runner.close()


def test_the_sandbox_pins_what_the_hosts_install():
    """The Docker backend must compute exactly what the local backend (and the self-check on a
    student's machine set up by install.sh) computes: the same NumPy and Pillow."""
    def pins(path):
        lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
        return dict(line.lower().split("==") for line in lines if line)
    sandbox = pins(build_sandbox.REPO / "deploy" / "sandbox" / "requirements.txt")
    hosts = pins(build_sandbox.REPO / "deploy" / "constraints.txt")
    assert sandbox and {name: hosts.get(name) for name in sandbox} == sandbox
