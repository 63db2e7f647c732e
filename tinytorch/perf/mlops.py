"""Module 18 - MLOps: shipping a model safely and noticing when the world changes under it.

Three tools a deployed model needs:

* ``save_state`` / ``load_state`` write a model's parameters and buffers as ``<path>.npz``
  plus a JSON manifest ``<path>.json`` holding a format version and a SHA-256 of the arrays.
  No pickle anywhere: unpickling runs arbitrary code, so a checkpoint from a stranger could
  take over the machine. Arrays are read with ``allow_pickle=False``, and a file whose content
  does not hash to its manifest's value is refused rather than half-loaded.
* ``ModelRegistry`` keeps numbered versions of named models in a directory, each with its
  metadata; a version appears atomically (built in a temporary directory, then renamed), so
  a reader never sees half a model.
* ``DriftMonitor`` compares live inputs with a reference batch, feature by feature, using the
  population stability index (PSI) and the two-sample Kolmogorov-Smirnov statistic, and
  flags features whose distribution has moved.

Systems cost:
    memory  - saving and loading hold the state once more in memory (the arrays, then their
              bytes for hashing); a registry version costs the model's size on disk.
              ``DriftMonitor`` keeps the reference batch: rows x features float64 numbers.
    compute - hashing is O(bytes) at ~1 GB/s; each check sorts reference and batch per feature,
              O((n + m) log(n + m)) for KS and PSI's quantiles: cheap beside a forward pass.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from tinytorch.core.tensor import Tensor
from tinytorch.core.training import CheckpointError, atomic_write

__all__ = [
    "FORMAT_VERSION",
    "StateFileError",
    "state_hash",
    "save_state",
    "read_state",
    "load_state",
    "ModelRegistry",
    "population_stability_index",
    "ks_statistic",
    "ks_critical_value",
    "FeatureDrift",
    "DriftReport",
    "DriftMonitor",
]

FORMAT_VERSION = 1
_FORMAT_NAME = "tinytorch-state"


class StateFileError(CheckpointError):
    """A state file that is corrupt, tampered with, pickled or from another format version.

    A ``CheckpointError`` (module 08), so one ``except`` catches every untrustworthy file.
    """


# ------------------------------------------------------------------ state files
def _state_of(model_or_state) -> dict[str, np.ndarray]:
    """Accept a Module (anything with ``state_dict()``) or a name -> array mapping."""
    state = model_or_state.state_dict() if hasattr(model_or_state, "state_dict") else model_or_state
    if not isinstance(state, dict):
        raise TypeError(f"expected a model with state_dict() or a dict of arrays, got {type(model_or_state).__name__}")
    arrays = {}
    for name, value in state.items():
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind not in "biufc":
            raise TypeError(f"state '{name}' has dtype {array.dtype}; only numeric arrays can be saved without pickle")
        arrays[str(name)] = array
    return arrays


def _paths(path) -> tuple[Path, Path]:
    """``ckpt`` or ``ckpt.npz`` -> (``ckpt.npz``, ``ckpt.json``)."""
    base = Path(path)
    if base.suffix in (".npz", ".json"):
        base = base.with_suffix("")
    return base.with_name(base.name + ".npz"), base.with_name(base.name + ".json")


def state_hash(state: dict[str, np.ndarray]) -> str:
    """SHA-256 over every array's name, dtype, shape and bytes, in name order.

    Hashing the arrays rather than the .npz file keeps the hash independent of zip
    timestamps, and covering name, dtype and shape catches a reshaped or relabelled array.
    """
    ### BEGIN SOLUTION
    digest = hashlib.sha256()
    for name in sorted(state):
        array = np.ascontiguousarray(state[name])
        digest.update(json.dumps([name, array.dtype.str, list(array.shape)]).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
    ### END SOLUTION


def save_state(model_or_state, path) -> Path:
    """Write ``<path>.npz`` (the arrays) and ``<path>.json`` (the manifest); return the .npz path.

    The manifest is written last, so a crash in between leaves a pair that fails the hash
    check instead of one that silently loads stale weights.
    """
    state = _state_of(model_or_state)
    npz_path, manifest_path = _paths(path)
    ### BEGIN SOLUTION
    manifest = {
        "format": _FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "sha256": state_hash(state),
        "arrays": {name: {"dtype": a.dtype.str, "shape": list(a.shape)} for name, a in sorted(state.items())},
        "created_at": datetime.now(timezone.utc).isoformat(),
    }
    npz_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(npz_path, lambda f: np.savez(f, **state))
    atomic_write(manifest_path, lambda f: f.write(json.dumps(manifest, indent=2).encode()))
    ### END SOLUTION
    return npz_path


def _read_manifest(manifest_path: Path) -> dict:
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StateFileError(f"{manifest_path}: manifest missing; a state file is only loaded with its manifest") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise StateFileError(f"{manifest_path}: manifest is not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT_NAME:
        raise StateFileError(f"{manifest_path}: not a TinyTorch state manifest (expected \"format\": \"{_FORMAT_NAME}\")")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise StateFileError(
            f"{manifest_path}: written in format version {manifest.get('format_version')!r}, "
            f"this TinyTorch reads version {FORMAT_VERSION}"
        )
    if not isinstance(manifest.get("sha256"), str) or not isinstance(manifest.get("arrays"), dict):
        raise StateFileError(f"{manifest_path}: manifest lacks the fields \"sha256\" and \"arrays\"")
    return manifest


def _read_arrays(npz_path: Path) -> dict[str, np.ndarray]:
    try:
        archive = np.load(npz_path, allow_pickle=False)
    except FileNotFoundError:
        raise StateFileError(f"{npz_path}: state file missing") from None
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise StateFileError(f"{npz_path}: not a readable .npz archive ({error})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise StateFileError(f"{npz_path}: holds a single array, not a named state archive")
    arrays = {}
    with archive:
        for name in archive.files:
            try:
                arrays[name] = archive[name]
            except ValueError as error:  # object arrays need pickle, which is refused
                raise StateFileError(f"{npz_path}: array '{name}' cannot be read without pickle ({error}); refusing it") from None
    return arrays


def read_state(path) -> dict[str, np.ndarray]:
    """The verified arrays of a state file; ``StateFileError`` if anything does not check out."""
    npz_path, manifest_path = _paths(path)
    manifest = _read_manifest(manifest_path)
    arrays = _read_arrays(npz_path)
    ### BEGIN SOLUTION
    if set(arrays) != set(manifest["arrays"]):
        raise StateFileError(
            f"{npz_path}: arrays {sorted(arrays)} do not match the manifest's {sorted(manifest['arrays'])}"
        )
    actual = state_hash(arrays)
    if actual != manifest["sha256"]:
        raise StateFileError(
            f"{npz_path}: content hash mismatch (manifest {manifest['sha256'][:12]}..., arrays {actual[:12]}...); "
            "the file was modified or corrupted, refusing to load it"
        )
    return arrays
    ### END SOLUTION


def load_state(model, path):
    """Verify the state file at ``path`` and copy it into ``model`` in place; return the model."""
    model.load_state_dict(read_state(path))
    return model


# --------------------------------------------------------------------- registry
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_VERSION_DIR = re.compile(r"v(\d{4,})")


class ModelRegistry:
    """Numbered versions of named models under ``root/<name>/v0001/``.

    Each version directory holds ``state.npz``, ``state.json`` (the manifest) and
    ``metadata.json`` (name, version, time, and the caller's metadata).
    """

    def __init__(self, root):
        self.root = Path(root)

    def _model_dir(self, name: str) -> Path:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(
                f"model name {name!r} must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        return self.root / name

    def names(self) -> list[str]:
        """Every model name with at least one version."""
        if not self.root.is_dir():
            return []
        return sorted(d.name for d in self.root.iterdir() if _NAME.fullmatch(d.name) and self.versions(d.name))

    def versions(self, name: str) -> list[int]:
        model_dir = self._model_dir(name)
        if not model_dir.is_dir():
            return []
        return sorted(int(m.group(1)) for d in model_dir.iterdir() if (m := _VERSION_DIR.fullmatch(d.name)))

    def _version_dir(self, name: str, version: int | None) -> tuple[int, Path]:
        known = self.versions(name)
        if not known:
            raise LookupError(f"no model named {name!r} in registry {self.root}; known models: {self.names()}")
        version = known[-1] if version is None else version
        if version not in known:
            raise LookupError(f"model {name!r} has no version {version}; known versions: {known}")
        return version, self._model_dir(name) / f"v{version:04d}"

    def register(self, name: str, model_or_state, metadata: dict | None = None) -> int:
        """Store a new version of ``name``; return its number (1 for the first)."""
        model_dir = self._model_dir(name)
        metadata = {} if metadata is None else metadata
        try:
            json.dumps(metadata)
        except (TypeError, ValueError) as error:
            raise ValueError(f"metadata for {name!r} must be JSON-serialisable: {error}") from None
        model_dir.mkdir(parents=True, exist_ok=True)
        staging = model_dir / f".staging-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            save_state(model_or_state, staging / "state")
            ### BEGIN SOLUTION
            while True:  # another writer may take the number first: then try the next one
                version = (self.versions(name) or [0])[-1] + 1
                record = {"name": name, "version": version,
                          "created_at": datetime.now(timezone.utc).isoformat(), "metadata": metadata}
                (staging / "metadata.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
                try:
                    os.rename(staging, model_dir / f"v{version:04d}")
                    return version
                except OSError:
                    if not (model_dir / f"v{version:04d}").exists():
                        raise
            ### END SOLUTION
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def metadata(self, name: str, version: int | None = None) -> dict:
        """The record stored with a version (the latest by default)."""
        _, directory = self._version_dir(name, version)
        return json.loads((directory / "metadata.json").read_text(encoding="utf-8"))

    def read(self, name: str, version: int | None = None) -> dict[str, np.ndarray]:
        """The verified arrays of a version (the latest by default)."""
        _, directory = self._version_dir(name, version)
        return read_state(directory / "state")

    def load(self, name: str, model, version: int | None = None) -> int:
        """Copy a version (the latest by default) into ``model``; return the version loaded."""
        version, directory = self._version_dir(name, version)
        load_state(model, directory / "state")
        return version


# ------------------------------------------------------------------------ drift
def _finite_1d(values, what: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"{what} must be a non-empty set of finite numbers")
    return values


def _quantile_edges(reference: np.ndarray, bins: int) -> np.ndarray:
    """Inner bin edges at the reference's quantiles, so each bin holds ~1/bins of it."""
    return np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))


def _bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=edges.size + 1)
    return counts / values.size


def population_stability_index(reference, live, bins: int = 10, floor: float = 1e-4) -> float:
    """PSI = sum over bins of (live% - ref%) * ln(live% / ref%), bins at reference quantiles.

    Rule of thumb: below 0.1 stable, 0.1-0.2 a moderate shift, above 0.2 a significant one.
    Empty bins are floored at ``floor`` so the logarithm stays finite.
    """
    reference, live = _finite_1d(reference, "reference"), _finite_1d(live, "live batch")
    if bins < 2:
        raise ValueError(f"PSI needs at least 2 bins, got {bins}")
    ### BEGIN SOLUTION
    edges = _quantile_edges(reference, bins)
    expected = np.maximum(_bin_shares(reference, edges), floor)
    actual = np.maximum(_bin_shares(live, edges), floor)
    return float(np.sum((actual - expected) * np.log(actual / expected)))
    ### END SOLUTION


def ks_statistic(reference, live) -> float:
    """Two-sample Kolmogorov-Smirnov D: the largest gap between the two empirical CDFs."""
    reference, live = _finite_1d(reference, "reference"), _finite_1d(live, "live batch")
    ### BEGIN SOLUTION
    reference, live = np.sort(reference), np.sort(live)
    points = np.concatenate([reference, live])
    cdf_reference = np.searchsorted(reference, points, side="right") / reference.size
    cdf_live = np.searchsorted(live, points, side="right") / live.size
    return float(np.max(np.abs(cdf_reference - cdf_live)))
    ### END SOLUTION


def ks_critical_value(n: int, m: int, alpha: float) -> float:
    """D above which two samples of sizes n and m differ at significance ``alpha`` (asymptotic)."""
    if not 0 < alpha < 1 or n < 1 or m < 1:
        raise ValueError(f"need 0 < alpha < 1 and positive sample sizes, got alpha={alpha}, n={n}, m={m}")
    return math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    psi: float
    ks: float
    ks_critical: float
    drifted: bool


@dataclass(frozen=True)
class DriftReport:
    features: tuple[FeatureDrift, ...]

    @property
    def drifted(self) -> bool:
        return any(f.drifted for f in self.features)

    @property
    def drifted_features(self) -> list[str]:
        return [f.feature for f in self.features if f.drifted]

    def __str__(self) -> str:
        rows = [f"{'feature':<16} {'PSI':>8} {'KS':>8} {'KS crit':>8}  drift"]
        rows += [f"{f.feature:<16} {f.psi:>8.4f} {f.ks:>8.4f} {f.ks_critical:>8.4f}  {'YES' if f.drifted else 'no'}"
                 for f in self.features]
        return "\n".join(rows)


def _as_rows(batch, what: str) -> np.ndarray:
    """(n,) or (n, features) finite floats -> (n, features)."""
    array = np.asarray(batch.data if isinstance(batch, Tensor) else batch, dtype=np.float64)
    array = array[:, None] if array.ndim == 1 else array
    if array.ndim != 2 or array.shape[0] == 0 or not np.all(np.isfinite(array)):
        raise ValueError(f"{what} must be a non-empty (rows, features) array of finite numbers, got shape {array.shape}")
    return array


class DriftMonitor:
    """Flag features whose live distribution has moved away from a reference batch.

    A feature drifts when its PSI exceeds ``psi_threshold`` or its KS statistic exceeds the
    critical value at significance ``ks_alpha`` for the two sample sizes. PSI reads as "how
    much did the mass move between bins", KS as "could these be the same distribution".
    """

    def __init__(self, reference, feature_names=None, bins: int = 10, psi_threshold: float = 0.2,
                 ks_alpha: float = 0.01):
        self.reference = _as_rows(reference, "reference")
        count = self.reference.shape[1]
        self.feature_names = [f"feature_{i}" for i in range(count)] if feature_names is None else list(feature_names)
        if len(self.feature_names) != count:
            raise ValueError(f"{len(self.feature_names)} feature names given for {count} features")
        if bins < 2 or psi_threshold <= 0 or not 0 < ks_alpha < 1:
            raise ValueError(f"need bins >= 2, psi_threshold > 0, 0 < ks_alpha < 1; got {bins}, {psi_threshold}, {ks_alpha}")
        self.bins, self.psi_threshold, self.ks_alpha = bins, psi_threshold, ks_alpha

    def check(self, batch) -> DriftReport:
        live = _as_rows(batch, "live batch")
        if live.shape[1] != self.reference.shape[1]:
            raise ValueError(f"live batch has {live.shape[1]} features, the reference has {self.reference.shape[1]}")
        ### BEGIN SOLUTION
        critical = ks_critical_value(self.reference.shape[0], live.shape[0], self.ks_alpha)
        features = []
        for i, name in enumerate(self.feature_names):
            psi = population_stability_index(self.reference[:, i], live[:, i], self.bins)
            ks = ks_statistic(self.reference[:, i], live[:, i])
            drifted = psi > self.psi_threshold or ks > critical
            features.append(FeatureDrift(name, psi, ks, critical, drifted))
        return DriftReport(tuple(features))
        ### END SOLUTION
