"""The module -> files map (``workers/module_files.yaml``): which package files are a module's.

Kept as data, not derived from the module's name, because a module may own several files and
a file's name need not follow the module's.  Every path must exist in the reference package.
"""

import functools
from pathlib import Path

import yaml

MAP_FILE = Path(__file__).with_name("module_files.yaml")
REFERENCE_ROOT = Path(__file__).resolve().parent.parent


class ModuleMapError(ValueError):
    """The map file is malformed (names file and module)."""


@functools.lru_cache(maxsize=None)
def module_files(path=MAP_FILE, root=REFERENCE_ROOT):
    """``{module_id: (relative path, ...)}``, validated against the reference checkout."""
    data = yaml.safe_load(Path(path).read_text())
    if not isinstance(data, dict):
        raise ModuleMapError(f"{path}: expected a mapping of module id to a list of files")
    found = {}
    for module_id, files in data.items():
        if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
            raise ModuleMapError(f"{path}: {module_id}: expected a non-empty list of file paths")
        missing = [f for f in files if not (Path(root) / f).is_file()]
        if missing:
            raise ModuleMapError(f"{path}: {module_id}: no such file in {root}: "
                                 f"{', '.join(missing)}")
        found[str(module_id)] = tuple(files)
    return found


def files_of(module_id):
    """The files of ``module_id``; a clear error for a module the map does not know."""
    files = module_files()
    if module_id not in files:
        raise ModuleMapError(f"{MAP_FILE}: no entry for module {module_id!r}")
    return files[module_id]
