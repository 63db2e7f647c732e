"""A package as ``{path: bytes}``, to and from the tar the runner loads.

Mutation testing and isolation both build a package from the reference's files with some
files replaced; this is the one place that reads and writes those tars.
"""

import io
import tarfile
from pathlib import Path

_SKIP_DIRS = {"__pycache__", ".git"}


def files_of_checkout(root, package="tinytorch"):
    """``{relative path: bytes}`` of every file of ``root/package`` (no caches)."""
    base = Path(root)
    return {str(p.relative_to(base)): p.read_bytes() for p in sorted((base / package).rglob("*"))
            if p.is_file() and not _SKIP_DIRS & set(p.parts) and p.suffix != ".pyc"}


def files_of_tar(data):
    """``{path: bytes}`` of the regular files of a tar (as ``git archive`` writes it)."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {member.name: tar.extractfile(member).read() for member in tar.getmembers()
                if member.isfile()}


def tar_of(files):
    """A tar (bytes) holding ``{path: str or bytes}``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, content in sorted(files.items()):
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()
