"""Build submission tars for the grading tests from the reference checkout and small edits."""

import tempfile
from pathlib import Path

from autograder.starter import generate_starter
from contract.modules import MODULE_IDS, module_path
from deploy.seeded_bugs import patched
from workers.package_files import tar_of  # noqa: F401 - the grading tests' tar builder

CHECKOUT = Path(__file__).resolve().parents[2]


def package_files(root=CHECKOUT, package="tinytorch"):
    """``{relative path: text}`` of every .py file of ``root/package``."""
    base = Path(root)
    return {str(p.relative_to(base)): p.read_text()
            for p in sorted((base / package).rglob("*.py")) if "__pycache__" not in p.parts}


def starter_package_files():
    """``package_files`` of a freshly generated starter repo."""
    with tempfile.TemporaryDirectory() as tmp:
        return package_files(generate_starter(f"{tmp}/repo"))


def prepended(files, path, code):
    return {**files, path: code + "\n" + files[path]}


def progressive(starter, reference, module_id):
    """The starter with modules 1..N (N = ``module_id``'s number) taken from the reference."""
    last = int(module_id.split("_", 1)[0])
    done = {module_path(m) for m in MODULE_IDS if int(m[:2]) <= last}
    return {path: reference[path] if path in done else text for path, text in starter.items()}
