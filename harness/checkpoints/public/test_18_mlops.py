"""Module 18 - MLOps: public checks (shipped to students with the starter).

State files are written by the student's code into a temporary directory of the runner; the
check's own code (NumPy only, never the student's) then reads or alters them there, so a file
the student's loader must refuse is made by this side.  Drift statistics are recomputed here.
Each check runs on fixed weights or samples and again on ones drawn for the job.
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import Cases, _sizes, fixed, floats, literal
from harness.checkpoints.public.test_13_attention import assign

IMPORT = ("import os, json, tempfile\n"
          "from tinytorch.core.activations import ReLU\n"
          "from tinytorch.core.layers import Linear, Sequential\n"
          "from tinytorch.perf.mlops import (save_state, read_state, load_state, state_hash, "
          "StateFileError, ModelRegistry, population_stability_index, ks_statistic, DriftMonitor)")
NET = "Sequential(Linear(3, 4), ReLU(), Linear(4, 2))"
ARRAYS = ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]   # NET's
REWRITE = ("arrays = dict(np.load(base + '.npz', allow_pickle=False))\n{edit}\n"
           "np.savez(base + '.npz', **arrays)")


def random_net(seed):
    """Weights for NET from a seed (fixed ones) or from the check's ``rng`` (drawn ones)."""
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
def test_state_round_trip(student, rng):
    for seed in (33, rng):
        weights = saved_net(student, seed)
        assert_equal(student.eval("sorted(os.listdir(folder))"), ["ckpt.json", "ckpt.npz"],
                     what="the files save_state(model, folder/ckpt) wrote")
        assert_equal(student.eval("sorted(np.load(base + '.npz', allow_pickle=False).files)"),
                     sorted(ARRAYS),
                     what="the arrays in ckpt.npz")
        student.exec("load_state(fresh, base)")
        for got, expected in zip(fresh_weights(student), weights.values()):
            assert_array(got, expected.astype(np.float32),
                         what="a weight after save_state/load_state")


@check("mlops.state.tampered_refused", "load_state refuses a state file whose arrays were changed "
       "after saving (hash mismatch)", "public")
def test_state_tampered_refused(student, rng):
    drawn = ARRAYS[rng.integers(len(ARRAYS))], float(rng.uniform(0.01, 1))
    for seed, (name, change) in ((33, ("layers.0.bias", 0.5)), (rng, drawn)):
        saved_net(student, seed)
        refuses_rewrite(student, f"arrays[{name!r}] = arrays[{name!r}] + {change!r}")


def refuses_rewrite(student, edit, call="load_state(fresh, base)"):
    """``call`` raises StateFileError once ``edit`` changed the saved arrays: one request, so
    the refusal is of this job's change and no earlier job's reply answers it."""
    student.raises(f"{REWRITE.format(edit=edit)}\n{call}", "StateFileError")


@check("mlops.state_hash.sensitive", "state_hash is a SHA-256 hex digest that changes with any "
       "value, shape, dtype or name", "public")
def test_state_hash_sensitive(student, rng):
    rows, cols = _sizes(rng, 2)   # distinct: the reshaped array has another shape
    weight, bias = floats(rng, (rows, cols), dtype=np.float64), floats(rng, cols, dtype=np.float64)
    changed = bias.copy()
    changed[rng.integers(cols)] += 0.5
    fixed_state = "np.arange(6.0).reshape(2, 3)", "np.ones(3)", "np.array([1.0, 1.0, 1.5])"
    for w, b, changed in (fixed_state, (literal(weight), literal(bias), literal(changed))):
        student.exec(f"{IMPORT}\nw = {w}\nbase = {{'w': w, 'b': {b}}}\n"
                     f"variants = [{{'b': {b}, 'w': w.copy()}},\n"
                     f"    {{'w': w.reshape(w.shape[::-1]), 'b': {b}}},\n"
                     f"    {{'w': w, 'b': {changed}}},\n"
                     f"    {{'w': w.astype(np.float32), 'b': {b}}},\n"
                     f"    {{'w2': w, 'b': {b}}}]\n"
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
def test_psi_values(student, rng):
    for generator, bins in ((fixed(34), 4), (rng, int(rng.integers(2, 30)))):
        reference, live = generator.normal(size=1000), generator.normal(0.5, 1.3, size=700)
        cases = Cases(f"{IMPORT}\nreference, live = {literal(reference)}, {literal(live)}")
        for expr, expected in [("population_stability_index(reference, live)",
                                psi(reference, live)),
                               ("population_stability_index(reference, reference[:500])",
                                psi(reference, reference[:500])),
                               (f"population_stability_index(reference, live, bins={bins})",
                                psi(reference, live, bins=bins))]:
            cases.expect(f"np.array(float({expr}))", expected, expr, rtol=1e-9)
        expect_inputs_kept(cases, {"reference": reference, "live": live}, "PSI")
        cases.check(student)


@check("mlops.ks.values", "ks_statistic is the largest gap between the two empirical CDFs, "
       "whichever sample is larger, and leaves its samples alone", "public")
def test_ks_values(student, rng):
    for generator in (fixed(35), rng):
        a, b = generator.normal(size=300), generator.normal(0.4, 1.0, size=200)
        ties = generator.integers(0, 5, size=100)
        cases = Cases(f"{IMPORT}\na, b, ties = {literal(a)}, {literal(b)}, {literal(ties)}")
        for expr, expected in [("ks_statistic(a, b)", ks(a, b)), ("ks_statistic(b, a)", ks(b, a)),
                               ("ks_statistic(ties, ties[::-1] + 1)", ks(ties, ties[::-1] + 1))]:
            cases.expect(f"np.array(float({expr}))", expected, expr, rtol=1e-12)
        expect_inputs_kept(cases, {"a": a, "b": b}, "ks_statistic")
        cases.check(student)


def expect_inputs_kept(cases, arrays, function):
    """The runner's float64 ``arrays`` must still hold what was sent: a statistic that sorts
    its caller's samples in place scrambles their rows."""
    for name, array in arrays.items():
        cases.expect(name, array, f"the float64 sample `{name}` after {function} (it must not "
                     "be sorted or changed in place)", dtype=np.float64, rtol=0, atol=0)


@check("mlops.registry.versions", "ModelRegistry numbers versions 1, 2, ..., keeps their metadata "
       "and loads the one asked for", "public")
def test_registry_versions(student, rng):
    drawn = (rng, rng, {"accuracy": round(float(rng.uniform(0.5, 1)), 4),
                        "run": int(rng.integers(1000))})
    for first_seed, second_seed, metadata in ((36, 37, {"accuracy": 0.9}), drawn):
        first = saved_net(student, first_seed)
        student.exec("registry = ModelRegistry(os.path.join(folder, 'registry'))\n"
                     f"v1 = registry.register('net', model, {metadata!r})")
        assign(student, random_net(second_seed))
        student.exec("v2 = registry.register('net', model)\n"
                     "loaded = registry.load('net', fresh, 1)")
        assert_equal(student.eval("[v1, v2, registry.versions('net')]"), [1, 2, [1, 2]],
                     what="[first version, second version, registry.versions('net')]")
        assert_equal(student.eval("registry.metadata('net', 1)['metadata']"), metadata,
                     what="the metadata stored with version 1")
        for got, expected in zip(fresh_weights(student), first.values()):
            assert_array(got, expected.astype(np.float32), what="a weight after loading version 1")
