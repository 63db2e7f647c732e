"""Module 18 - MLOps: public checks (shipped to students with the starter).

State files are written by the student's code into a temporary directory of the runner; the
check's own code (NumPy only, never the student's) then reads or alters them there, so a file
the student's loader must refuse is made by this side.  Drift statistics are recomputed here.
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.public.test_13_attention import assign, literal

IMPORT = ("import os, json, tempfile\n"
          "from tinytorch.core.activations import ReLU\n"
          "from tinytorch.core.layers import Linear, Sequential\n"
          "from tinytorch.perf.mlops import (save_state, read_state, load_state, state_hash, "
          "StateFileError, ModelRegistry, population_stability_index, ks_statistic, DriftMonitor)")
NET = "Sequential(Linear(3, 4), ReLU(), Linear(4, 2))"


def random_net(seed):
    rng = np.random.default_rng(seed)
    return {"model.layers[0].weight": rng.normal(size=(3, 4)),
            "model.layers[0].bias": rng.normal(size=4),
            "model.layers[2].weight": rng.normal(size=(4, 2)),
            "model.layers[2].bias": rng.normal(size=2)}


def saved_net(student, seed=33):
    """``model`` with weights from here, saved by the student's code to ``base`` in a temp dir
    and read back once (so a loader that refuses everything gains nothing from the refusal
    checks); ``fresh`` is a second, differently initialised model.  Returns the weights."""
    weights = random_net(seed)
    student.exec(f"{IMPORT}\nfolder = tempfile.mkdtemp()\nbase = os.path.join(folder, 'ckpt')\n"
                 f"model, fresh = {NET}, {NET}")
    assign(student, weights)
    student.exec("save_state(model, base)\nread_state(base)")
    return weights


def fresh_weights(student):
    return [student.array(f"fresh.layers[{i}].{part}")
            for i in (0, 2) for part in ("weight", "bias")]


def psi(reference, live, bins=10, floor=1e-4):
    """PSI over bins at the reference's quantiles, shares floored at ``floor``."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))

    def shares(values):
        counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=edges.size + 1)
        return np.maximum(counts / values.size, floor)

    expected, actual = shares(reference), shares(live)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def ks(reference, live):
    """The largest gap between the two empirical CDFs."""
    reference, live = np.sort(reference), np.sort(live)
    points = np.concatenate([reference, live])
    gap = (np.searchsorted(reference, points, side="right") / reference.size
           - np.searchsorted(live, points, side="right") / live.size)
    return float(np.abs(gap).max())


@check("mlops.state.round_trip", "save_state writes <path>.npz and <path>.json; load_state puts "
       "the same weights into another model", "public")
def test_state_round_trip(student):
    weights = saved_net(student)
    assert_equal(student.eval("sorted(os.listdir(folder))"), ["ckpt.json", "ckpt.npz"],
                 what="the files save_state(model, folder/ckpt) wrote")
    assert_equal(student.eval("sorted(np.load(base + '.npz', allow_pickle=False).files)"),
                 ["layers.0.bias", "layers.0.weight", "layers.2.bias", "layers.2.weight"],
                 what="the arrays in ckpt.npz")
    student.exec("load_state(fresh, base)")
    for got, expected in zip(fresh_weights(student), weights.values()):
        assert_array(got, expected.astype(np.float32), what="a weight after save_state/load_state")


@check("mlops.state.tampered_refused", "load_state refuses a state file whose arrays were changed "
       "after saving (hash mismatch)", "public")
def test_state_tampered_refused(student):
    saved_net(student)
    student.exec("arrays = dict(np.load(base + '.npz', allow_pickle=False))\n"
                 "arrays['layers.0.bias'] = arrays['layers.0.bias'] + 0.5\n"
                 "np.savez(base + '.npz', **arrays)")
    student.raises("load_state(fresh, base)", "StateFileError")


@check("mlops.state_hash.sensitive", "state_hash is a SHA-256 hex digest that changes with any "
       "value, shape, dtype or name", "public")
def test_state_hash_sensitive(student):
    student.exec(f"{IMPORT}\nbase = {{'w': np.arange(6.0).reshape(2, 3), 'b': np.ones(3)}}\n"
                 "variants = [{'b': np.ones(3), 'w': np.arange(6.0).reshape(2, 3)},\n"
                 "    {'w': np.arange(6.0).reshape(3, 2), 'b': np.ones(3)},\n"
                 "    {'w': np.arange(6.0).reshape(2, 3), 'b': np.array([1.0, 1.0, 1.5])},\n"
                 "    {'w': np.arange(6.0).reshape(2, 3).astype(np.float32), 'b': np.ones(3)},\n"
                 "    {'w2': np.arange(6.0).reshape(2, 3), 'b': np.ones(3)}]\n"
                 "digests = [state_hash(base)] + [state_hash(v) for v in variants]")
    digests = student.eval("digests")
    first = digests[0]
    if type(first) is not str or len(first) != 64 or set(first) - set("0123456789abcdef"):
        raise AssertionError(f"state_hash should give 64 hex digits, got {first!r}")
    assert_equal(digests[1], first, what="the hash of the same arrays in another dict order")
    for digest, change in zip(digests[2:], ["a reshaped array", "a changed value",
                                            "a float32 copy", "a renamed array"]):
        if digest == first:
            raise AssertionError(f"state_hash did not change for {change}")


@check("mlops.psi.values", "population_stability_index matches PSI over 10 bins at the "
       "reference's quantiles and leaves its samples alone", "public")
def test_psi_values(student):
    rng = np.random.default_rng(34)
    reference, live = rng.normal(size=1000), rng.normal(0.5, 1.3, size=700)
    student.exec(f"{IMPORT}\nreference, live = {literal(reference)}, {literal(live)}")
    for expr, expected in [("population_stability_index(reference, live)", psi(reference, live)),
                           ("population_stability_index(reference, reference[:500])",
                            psi(reference, reference[:500])),
                           ("population_stability_index(reference, live, bins=4)",
                            psi(reference, live, bins=4))]:
        assert_array(np.array(student.eval(f"float({expr})")), expected, rtol=1e-9, what=expr)
    assert_inputs_kept(student, {"reference": reference, "live": live}, "PSI")


@check("mlops.ks.values", "ks_statistic is the largest gap between the two empirical CDFs, "
       "whichever sample is larger, and leaves its samples alone", "public")
def test_ks_values(student):
    rng = np.random.default_rng(35)
    a, b, ties = rng.normal(size=300), rng.normal(0.4, 1.0, size=200), rng.integers(0, 5, size=100)
    student.exec(f"{IMPORT}\na, b, ties = {literal(a)}, {literal(b)}, {literal(ties)}")
    for expr, expected in [("ks_statistic(a, b)", ks(a, b)), ("ks_statistic(b, a)", ks(b, a)),
                           ("ks_statistic(ties, ties[::-1] + 1)", ks(ties, ties[::-1] + 1))]:
        assert_array(np.array(student.eval(f"float({expr})")), expected, rtol=1e-12, what=expr)
    assert_inputs_kept(student, {"a": a, "b": b}, "ks_statistic")


def assert_inputs_kept(student, arrays, function):
    """The runner's float64 ``arrays`` must still hold what was sent: a statistic that sorts
    its caller's samples in place scrambles their rows."""
    for name, array in arrays.items():
        assert_array(student.array(name), array, dtype=np.float64, rtol=0, atol=0,
                     what=f"the float64 sample `{name}` after {function} (it must not be sorted "
                     "or changed in place)")


@check("mlops.registry.versions", "ModelRegistry numbers versions 1, 2, ..., keeps their metadata "
       "and loads the one asked for", "public")
def test_registry_versions(student):
    first = saved_net(student, 36)
    student.exec("registry = ModelRegistry(os.path.join(folder, 'registry'))\n"
                 "v1 = registry.register('net', model, {'accuracy': 0.9})")
    assign(student, random_net(37))
    student.exec("v2 = registry.register('net', model)\nloaded = registry.load('net', fresh, 1)")
    assert_equal(student.eval("[v1, v2, registry.versions('net')]"), [1, 2, [1, 2]],
                 what="[first version, second version, registry.versions('net')]")
    assert_equal(student.eval("registry.metadata('net', 1)['metadata']"), {"accuracy": 0.9},
                 what="the metadata stored with version 1")
    for got, expected in zip(fresh_weights(student), first.values()):
        assert_array(got, expected.astype(np.float32), what="a weight after loading version 1")
