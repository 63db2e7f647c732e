"""Build the sandbox runner image with no container registry, and reuse it when nothing changed.

    python3 -m deploy.build_sandbox [--tag tinytorch-sandbox:latest] [--force]

Steps (each skipped when an image labelled with the hash of its inputs already exists):
1. base: ``debootstrap --variant=minbase`` a Debian bookworm with Python 3.11, then
   ``docker import`` it (nothing is pulled);
2. runner: ``pip download`` cp311 manylinux wheels of ``deploy/sandbox/requirements.txt`` on
   the host, then ``docker build`` ``deploy/sandbox/Dockerfile`` FROM that local base with
   ``--no-index``, in a small context holding only the runner files and the wheels.

The image that courses with a registry build (``docker build -f deploy/sandbox/Dockerfile .``)
is the same runner on ``python:3.11-slim``.  A deploy tool, so it drives the docker CLI, which
streams a 300 MB root filesystem without holding it in memory.
"""

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SANDBOX = REPO / "deploy" / "sandbox"
# The runner is the sandbox package, the whole folder: nothing else of the checkout goes in.
CONTEXT_FILES = ("deploy/sandbox/Dockerfile", "deploy/sandbox/requirements.txt") + tuple(
    f"sandbox/{path.name}" for path in sorted((REPO / "sandbox").glob("*.py")))
DEFAULT_TAG = "tinytorch-sandbox:latest"
KEEP_RECENT = 4                 # images of other inputs kept (other checkouts, other branches)
BASE_REPO = "tinytorch-sandbox-base"
INPUTS_LABEL = "org.tinytorch.sandbox.inputs"
SUITE = "bookworm"
DEBOOTSTRAP = ("debootstrap", "--variant=minbase",
               "--include=python3,python3-venv,python3-pip", SUITE)
# The image's Python is Debian bookworm's 3.11; glibc 2.36 accepts manylinux up to 2_36.
WHEEL_PLATFORM = ("--only-binary=:all:", "--implementation", "cp", "--python-version", "3.11",
                  "--abi", "cp311", "--platform", "manylinux_2_28_x86_64",
                  "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_17_x86_64")


class BuildError(RuntimeError):
    """A build step failed; the message names the step and carries its output's tail."""


def run(cmd, step, **kwargs):
    """Run one command; raise BuildError naming ``step`` with the end of its output."""
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-3000:]
        raise BuildError(f"{step} failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}")
    return proc.stdout


def sha256_of(parts):
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def base_hash():
    return sha256_of(DEBOOTSTRAP)


def runner_hash():
    """Hash of everything that goes into the runner image, computable with no network."""
    return sha256_of([base_hash(), *WHEEL_PLATFORM]
                     + [part for name in CONTEXT_FILES
                        for part in (name, (REPO / name).read_bytes())])


def image_with_label(value):
    """Id of a local image carrying ``INPUTS_LABEL=value``, or None."""
    out = run(["docker", "image", "ls", "-q", "--filter", f"label={INPUTS_LABEL}={value}"],
              "docker image ls")
    ids = out.split()
    return ids[0] if ids else None


def ensure_debootstrap():
    """A fresh CI machine may lack debootstrap: install it through apt (we run as root)."""
    if shutil.which("debootstrap"):
        return
    print("build_sandbox: installing debootstrap with apt-get", file=sys.stderr)
    run(["apt-get", "update", "-qq"], "apt-get update")
    run(["apt-get", "install", "-y", "-qq", "debootstrap"], "apt-get install debootstrap",
        env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})


def ensure_base():
    """The imported Debian base image, built once per set of debootstrap arguments."""
    label = base_hash()
    tag = f"{BASE_REPO}:{label}"
    if image_with_label(label):
        return tag
    ensure_debootstrap()
    with tempfile.TemporaryDirectory(prefix="tinytorch-rootfs-", dir="/var/tmp") as tmp:
        rootfs = Path(tmp) / "rootfs"
        run([*DEBOOTSTRAP, str(rootfs)], "debootstrap")
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (rootfs / cache).glob("*"):
                if item.is_file():
                    item.unlink()
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        try:
            run(["docker", "import", "--change", f"LABEL {INPUTS_LABEL}={label}",
                 "--change", "ENV LANG=C.UTF-8", "-", tag], "docker import", stdin=tar.stdout)
        finally:
            tar.stdout.close()
            tar.wait()
    return tag


def stage_context(dest):
    """The build context: only the Dockerfile, the runner files and the downloaded wheels."""
    for name in CONTEXT_FILES:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / name, dest / name)
    wheels = dest / "deploy" / "sandbox" / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         *WHEEL_PLATFORM, "-d", str(wheels), "-r", str(SANDBOX / "requirements.txt")],
        "pip download of the sandbox wheels")


def ensure_image(tag=DEFAULT_TAG, force=False):
    """Point ``tag`` at a runner image built from the current inputs; return that image's
    content-addressed tag (``<repository>:<inputs hash>``), which another checkout retagging
    ``tag`` at the same time cannot move under the caller."""
    label = runner_hash()
    pinned = f"{tag.rsplit(':', 1)[0]}:{label}"
    existing = None if force else image_with_label(label)
    if existing:
        run(["docker", "tag", existing, tag], "docker tag")
        run(["docker", "tag", existing, pinned], "docker tag")
        return pinned
    base = ensure_base()
    with tempfile.TemporaryDirectory(prefix="tinytorch-sandbox-context-") as tmp:
        context = Path(tmp)
        stage_context(context)
        run(["docker", "build", "--quiet", "--file", "deploy/sandbox/Dockerfile",
             "--build-arg", f"BASE={base}", "--build-arg", "PIP_OFFLINE=--no-index",
             "--label", f"{INPUTS_LABEL}={label}", "--tag", tag,
             "--tag", pinned, "."], "docker build", cwd=context)
    remove_stale(tag.rsplit(":", 1)[0], keep={label, tag.rsplit(":", 1)[1]})
    return pinned


def remove_stale(repository, keep, recent=KEEP_RECENT):
    """Untag runner images built from older inputs, so rebuilds do not pile up on disk; the
    ``recent`` newest stay, as other checkouts sharing this Docker host may be using them
    (an image still used by a running container stays too, and that is fine)."""
    listing = run(["docker", "image", "ls", "--format", "{{.Tag}}", repository],
                  "docker image ls")       # newest first
    tags = [t for t in listing.split() if t not in keep and t != "<none>"]
    stale = [f"{repository}:{t}" for t in tags[recent:]]
    if stale:
        subprocess.run(["docker", "rmi", *stale], capture_output=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tag", default=DEFAULT_TAG, help="image name to (re)point")
    parser.add_argument("--force", action="store_true", help="rebuild the runner layer")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        tag = ensure_image(args.tag, args.force)
    except BuildError as exc:
        print(f"build_sandbox: {exc}", file=sys.stderr)
        return 1
    print(f"{tag} ready in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
