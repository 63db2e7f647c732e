"""Module 18 - MLOps: hidden checks (graders only): more ways a state file can be forged, the
drift monitor's decisions, and tampering inside the registry; each on fixed weights or
samples and on ones drawn for the job.  A refusal is asked in the same request as the change
it refuses, so no reply recorded in another job answers it."""

import json

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import _sizes, floats, literal
from harness.checkpoints.public.test_18_mlops import (ARRAYS, IMPORT, REWRITE, fresh_weights,
                                                      ks, psi, random_net, refuses_rewrite,
                                                      saved_net)


def assert_refused_and_unchanged(student, change, call="load_state(fresh, base)"):
    before = fresh_weights(student)
    student.raises(f"{change}\n{call}", "StateFileError")
    for got, expected in zip(fresh_weights(student), before):
        assert_array(got, expected, rtol=0, atol=0, what="a weight of the model after the refusal")


@check("mlops.state.foreign_manifest_refused", "a state file pair written by someone else, "
       "whose manifest's hash does not match its arrays, is refused", "hidden")
def test_foreign_manifest_refused(student, rng):
    for weights, digest in ((40, "0" * 64), (rng, rng.bytes(32).hex())):
        saved_net(student)
        arrays = {path.removeprefix("model.").replace("[", ".").replace("]", ""):
                  value.astype("<f4")
                  for path, value in random_net(weights).items()}   # the names state_dict() uses
        manifest = {"format": "tinytorch-state", "format_version": 1, "sha256": digest,
                    "arrays": {name: {"dtype": "<f4", "shape": list(value.shape)}
                               for name, value in sorted(arrays.items())}}
        entries = ", ".join(f"{name!r}: {literal(value)}" for name, value in arrays.items())
        assert_refused_and_unchanged(
            student, f"np.savez(base + '.npz', **{{{entries}}})\n"
            f"with open(base + '.json', 'w') as f:\n    f.write({json.dumps(manifest)!r})")


@check("mlops.state.reshaped_refused", "a state file with an array reshaped after saving (same "
       "bytes) is refused", "hidden")
def test_reshaped_refused(student, rng):
    shapes = [(4, 3), (2, 6), (6, 2), (12,), (1, 12), (12, 1)]
    for seed, shape in ((33, (4, 3)), (rng, shapes[rng.integers(len(shapes))])):
        saved_net(student, seed)
        refuses_rewrite(student, "arrays['layers.0.weight'] = "
                        f"arrays['layers.0.weight'].reshape{shape}", "read_state(base)")


@check("mlops.state.extra_array_refused", "a state file with an array added after saving is "
       "refused and the model is left as it was", "hidden")
def test_extra_array_refused(student, rng):
    drawn = f"extra_{rng.integers(10**6)}", literal(floats(rng, _sizes(rng, 1)))
    for seed, (name, array) in ((33, ("backdoor", "np.ones(3)")), (rng, drawn)):
        saved_net(student, seed)
        assert_refused_and_unchanged(student, REWRITE.format(edit=f"arrays[{name!r}] = {array}"))


@check("mlops.registry.tampered_refused", "the registry refuses to read a version whose state "
       "file was changed", "hidden")
def test_registry_tampered_refused(student, rng):
    drawn = ARRAYS[rng.integers(len(ARRAYS))], round(float(rng.uniform(1.5, 3)), 4)
    for seed, (name, factor) in ((33, ("layers.2.bias", 2)), (rng, drawn)):
        saved_net(student, seed)
        student.exec("registry = ModelRegistry(os.path.join(folder, 'registry'))\n"
                     "version = registry.register('net', model)\n"
                     "base = os.path.join(folder, 'registry', 'net', f'v{version:04d}', 'state')")
        refuses_rewrite(student, f"arrays[{name!r}] = arrays[{name!r}] * {factor}",
                        "registry.read('net')")


# os.rename and os.replace made to fail as on a full disk when they would create a version
# directory (vNNNN); a register that keeps retrying is stopped after a few calls with a
# RuntimeError instead of looping for ever.
FAILING_RENAME = """import errno, re
_renames = []
_saved_renames = os.rename, os.replace
def _failing(real):
    def rename(src, dst, *args, **kwargs):
        if not re.fullmatch(r'v[0-9]+', os.path.basename(os.fspath(dst).rstrip(os.sep))):
            return real(src, dst, *args, **kwargs)
        _renames.append(dst)
        if len(_renames) > 5:
            raise RuntimeError('register retried a rename that failed with ENOSPC 5 times')
        raise OSError(errno.ENOSPC, 'No space left on device')
    return rename
os.rename, os.replace = map(_failing, _saved_renames)
"""


@check("mlops.registry.rename_error", "register lets an error of the final rename through "
       "(other than a version taken by another writer) and leaves no version behind", "hidden")
def test_registry_rename_error(student, rng):
    for seed, name in ((33, "net"), (rng, f"net_{rng.integers(10**6)}")):
        saved_net(student, seed)
        student.exec("registry = ModelRegistry(os.path.join(folder, 'registry'))\n"
                     + FAILING_RENAME)
        try:
            student.raises(f"registry.register({name!r}, model)", "OSError")
        finally:
            student.exec("os.rename, os.replace = _saved_renames")
        assert_equal(student.eval(f"[len(_renames) > 0, registry.versions({name!r})]"),
                     [True, []], what="[the version directory was renamed into place, "
                     f"registry.versions({name!r})] after a register whose rename failed")


def drift_data(seed):
    """Reference (600, 3); live (500, 3) with feature b moved a little and c a lot."""
    rng = np.random.default_rng(seed)
    reference = rng.normal(size=(600, 3))
    live = rng.normal(size=(500, 3)) + [0.0, 0.3, 1.0]
    return reference, live


@check("mlops.drift.monitor", "DriftMonitor flags a feature when its PSI or its KS statistic "
       "is over the limit, reports both, and keeps its reference from one check to the next",
       "hidden")
def test_drift_monitor(student, rng):
    critical = np.sqrt(-np.log(0.01 / 2) / 2) * np.sqrt((600 + 500) / (600 * 500))
    for reference, live in (drift_data(38), drift_data(rng)):
        student.exec(f"{IMPORT}\nmonitor = DriftMonitor({literal(reference)}, ['a', 'b', 'c'])\n"
                     f"live = {literal(live)}\n"
                     "reports = [monitor.check(live), monitor.check(live)]")
        for number in (0, 1):   # the second check of the batch compares with the reference too
            got = student.eval(f"[[f.feature, float(f.psi), float(f.ks), bool(f.drifted)] "
                               f"for f in reports[{number}].features]")
            flagged = []
            for (name, got_psi, got_ks, drifted), column in zip(got, range(3)):
                expected_psi, expected_ks = psi(reference[:, column], live[:, column]), ks(
                    reference[:, column], live[:, column])
                assert_array(np.array([got_psi, got_ks]), [expected_psi, expected_ks],
                             rtol=1e-9, what=f"[PSI, KS] of feature {name} in check "
                             f"{number + 1} of the batch")
                expected = bool(expected_psi > 0.2 or expected_ks > critical)
                assert_equal(drifted, expected, what=f"whether feature {name} drifted (PSI "
                             f"{expected_psi:.3f} vs 0.2, KS {expected_ks:.3f} vs {critical:.3f})")
                flagged += ["abc"[column]] * expected
            assert_equal(student.eval(f"reports[{number}].drifted_features"), flagged,
                         what=f"the drifted_features of check {number + 1}")


@check("mlops.drift.stable", "DriftMonitor flags nothing when the live batch comes from the "
       "reference's distribution", "hidden")
def test_drift_stable(student, rng):
    for reference, live in (stable_data(np.random.default_rng(43)), stable_data(rng)):
        student.exec(f"{IMPORT}\n"
                     f"report = DriftMonitor({literal(reference)}).check({literal(live)})")
        assert_equal(student.eval("[bool(report.drifted), report.drifted_features]"),
                     [False, []], what="[report.drifted, report.drifted_features]")
        assert_array(np.array(student.eval("[float(f.ks) for f in report.features]")),
                     [ks(reference[:, i], live[:, i]) for i in range(2)], rtol=1e-9,
                     what="the KS statistic of each feature")


def stable_data(rng):
    """Reference (800, 2) and live (400, 2) from one distribution, drawn again until each
    feature's KS statistic is under 0.09 (well below the critical 0.0997) and its PSI under
    0.2: a check of a monitor that flags nothing must not hinge on a 1-in-100 draw."""
    while True:
        reference, live = rng.normal(size=(800, 2)), rng.normal(size=(400, 2))
        if all(ks(reference[:, i], live[:, i]) < 0.09 and psi(reference[:, i], live[:, i]) < 0.2
               for i in range(2)):
            return reference, live


def psi_cases(rng):
    """(reference, live, bins, floor): live batches that leave bins empty (all in one tail,
    a single value), references with ties (fewer distinct edges), non-default floors."""
    reference = rng.normal(size=400)
    ties = rng.integers(0, 4, 300).astype(float)
    return [(reference, reference.max() + rng.uniform(1, 5, 50), 10, 1e-4),
            (reference, rng.normal(-3, 0.1, 80), 5, 1e-3),
            (reference, np.array([reference.min() - 1.0]), 20, 1e-4),
            (ties, rng.integers(2, 6, 200).astype(float), 10, 1e-2),
            (reference, rng.normal(0.2, 1.1, 300), int(rng.integers(2, 30)), 1e-4)]


@check("mlops.psi.empty_bins", "PSI stays finite and exact when the live batch leaves bins "
       "empty, with ties in the reference and any bins or floor", "hidden")
def test_psi_empty_bins(student, rng):
    student.exec(IMPORT)
    for reference, live, bins, floor in psi_cases(rng):
        expr = (f"population_stability_index({literal(reference)}, {literal(live)}, "
                f"bins={bins}, floor={floor})")
        assert_array(np.array(student.eval(f"float({expr})")), psi(reference, live, bins, floor),
                     rtol=1e-9, what=f"PSI with bins={bins}, floor={floor} of a live batch of "
                     f"{live.size} in [{live.min():.2f}, {live.max():.2f}] against a reference "
                     f"in [{reference.min():.2f}, {reference.max():.2f}]")


@check("mlops.ks.samples", "ks_statistic is exact for one-value samples, ties, identical and "
       "disjoint samples, and very different sizes", "hidden")
def test_ks_samples(student, rng):
    sample = rng.normal(size=60)
    cases = [(sample, sample[:1]), (sample, sample), (sample, sample + 100.0),
             (rng.integers(0, 5, 40).astype(float), rng.integers(0, 5, 300).astype(float)),
             (rng.normal(size=7), rng.normal(0.5, 2, 500))]
    student.exec(IMPORT)
    for reference, live in cases:
        assert_array(np.array(student.eval(f"float(ks_statistic({literal(reference)}, "
                                           f"{literal(live)}))")), ks(reference, live),
                     rtol=1e-12, atol=1e-12,
                     what=f"ks_statistic of samples of {reference.size} and {live.size}")


@check("mlops.drift.options", "DriftMonitor uses its bins, PSI threshold and KS alpha, and the "
       "critical value of the two sample sizes", "hidden")
def test_drift_options(student, rng):
    rows, live_rows, bins = int(rng.integers(200, 600)), int(rng.integers(50, 150)), 4
    threshold, alpha = round(float(rng.uniform(0.05, 0.3)), 3), float(rng.choice([0.05, 0.001]))
    reference = rng.normal(size=(rows, 3))
    live = rng.normal(size=(live_rows, 3)) * [1.0, 1.5, 1.0] + [0.0, 0.0, 0.4]
    student.exec(f"{IMPORT}\nmonitor = DriftMonitor({literal(reference)}, bins={bins}, "
                 f"psi_threshold={threshold}, ks_alpha={alpha})\n"
                 f"report = monitor.check({literal(live)})")
    got = student.eval("[[float(f.psi), float(f.ks), float(f.ks_critical), bool(f.drifted)] "
                       "for f in report.features]")
    critical = np.sqrt(-np.log(alpha / 2) / 2) * np.sqrt((rows + live_rows) / (rows * live_rows))
    for column, (got_psi, got_ks, got_critical, drifted) in enumerate(got):
        expected = [psi(reference[:, column], live[:, column], bins),
                    ks(reference[:, column], live[:, column]), critical]
        what = (f"feature_{column} of DriftMonitor(bins={bins}, psi_threshold={threshold}, "
                f"ks_alpha={alpha}) for {rows} reference and {live_rows} live rows")
        assert_array(np.array([got_psi, got_ks, got_critical]), expected, rtol=1e-9,
                     what=f"[PSI, KS, KS critical value] of {what}")
        assert_equal(drifted, bool(expected[0] > threshold or expected[1] > critical),
                     what=f"whether {what} drifted")


def odd_state(rng):
    """Arrays of every numeric kind and awkward shape: 0-d, empty, size-1 dims, Fortran order."""
    return {"scalar": np.array(rng.normal()), "empty": np.zeros((0, 3), np.float32),
            "flags": rng.random(5) < 0.5, "counts": rng.integers(-5, 5, (2, 1, 3)),
            "half": rng.normal(size=4).astype(np.float16),
            "fortran": np.asfortranarray(rng.normal(size=(3, 2))),
            "complex": rng.normal(size=2) + 1j * rng.normal(size=2)}


@check("mlops.state.dtypes_shapes", "save_state / read_state keep every dtype and shape (0-d, "
       "empty, bool, int, float16, complex, Fortran order) in a folder save_state creates, and "
       "refuse a changed one", "hidden")
def test_state_dtypes_shapes(student, rng):
    state = odd_state(rng)
    student.exec(f"{IMPORT}\nfolder = tempfile.mkdtemp()\n"
                 "base = os.path.join(folder, 'not', 'yet', 'odd')\n"
                 "state = {" + ", ".join(f"{name!r}: {literal(a)}.reshape({a.shape})"
                                         for name, a in state.items())
                 + "}\nstate['fortran'] = np.asfortranarray(state['fortran'])\n"
                 "save_state(state, base)\nback = read_state(base)")
    assert_equal(student.eval("sorted(back)"), sorted(state), what="the names read back")
    for name, array in state.items():   # complex numbers travel as their (real, imag) parts
        got = student.eval(f"(lambda a: [str(a.dtype), list(a.shape), a.real.tolist(), "
                           f"a.imag.tolist() if a.dtype.kind == 'c' else None])(back[{name!r}])")
        expected = [str(array.dtype), list(array.shape), array.real.tolist(),
                    array.imag.tolist() if array.dtype.kind == "c" else None]
        assert_equal(got, expected,
                     what=f"[dtype, shape, real, imag] of {name!r} after save_state/read_state")
    refuses_rewrite(student, "arrays['counts'] = arrays['counts'].astype(np.int32)",
                    "read_state(base)")
