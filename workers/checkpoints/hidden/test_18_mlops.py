"""Module 18 - MLOps: hidden checks (graders only): more ways a state file can be forged, the
drift monitor's decisions, and tampering inside the registry."""

import json

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.public.test_13_attention import literal
from harness.checkpoints.public.test_18_mlops import (IMPORT, fresh_weights, ks, psi,
                                                      random_net, saved_net)

REWRITE = ("arrays = dict(np.load(base + '.npz', allow_pickle=False))\n{edit}\n"
           "np.savez(base + '.npz', **arrays)")


def assert_refused_and_unchanged(student, call="load_state(fresh, base)"):
    before = fresh_weights(student)
    student.raises(call, "StateFileError")
    for got, expected in zip(fresh_weights(student), before):
        assert_array(got, expected, rtol=0, atol=0, what="a weight of the model after the refusal")


@check("mlops.state.foreign_manifest_refused", "a state file pair written by someone else, "
       "whose manifest's hash does not match its arrays, is refused", "hidden")
def test_foreign_manifest_refused(student):
    saved_net(student)
    arrays = {path.removeprefix("model.").replace("[", ".").replace("]", ""): value.astype("<f4")
              for path, value in random_net(40).items()}   # the names state_dict() uses
    manifest = {"format": "tinytorch-state", "format_version": 1, "sha256": "0" * 64,
                "arrays": {name: {"dtype": "<f4", "shape": list(value.shape)}
                           for name, value in sorted(arrays.items())}}
    entries = ", ".join(f"{name!r}: {literal(value)}" for name, value in arrays.items())
    student.exec(f"np.savez(base + '.npz', **{{{entries}}})\n"
                 f"with open(base + '.json', 'w') as f:\n    f.write({json.dumps(manifest)!r})")
    assert_refused_and_unchanged(student)


@check("mlops.state.reshaped_refused", "a state file with an array reshaped after saving (same "
       "bytes) is refused", "hidden")
def test_reshaped_refused(student):
    saved_net(student)
    student.exec(REWRITE.format(edit="arrays['layers.0.weight'] = "
                                "arrays['layers.0.weight'].reshape(4, 3)"))
    student.raises("read_state(base)", "StateFileError")


@check("mlops.state.extra_array_refused", "a state file with an array added after saving is "
       "refused and the model is left as it was", "hidden")
def test_extra_array_refused(student):
    saved_net(student)
    student.exec(REWRITE.format(edit="arrays['backdoor'] = np.ones(3)"))
    assert_refused_and_unchanged(student)


@check("mlops.registry.tampered_refused", "the registry refuses to read a version whose state "
       "file was changed", "hidden")
def test_registry_tampered_refused(student):
    saved_net(student)
    student.exec("registry = ModelRegistry(os.path.join(folder, 'registry'))\n"
                 "version = registry.register('net', model)\n"
                 "base = os.path.join(folder, 'registry', 'net', f'v{version:04d}', 'state')\n"
                 + REWRITE.format(edit="arrays['layers.2.bias'] = arrays['layers.2.bias'] * 2"))
    student.raises("registry.read('net')", "StateFileError")


def drift_data():
    """Reference (600, 3); live (500, 3) with feature b moved a little and c a lot."""
    rng = np.random.default_rng(38)
    reference = rng.normal(size=(600, 3))
    live = rng.normal(size=(500, 3)) + [0.0, 0.3, 1.0]
    return reference, live


@check("mlops.drift.monitor", "DriftMonitor flags a feature when its PSI or its KS statistic "
       "is over the limit, and reports both", "hidden")
def test_drift_monitor(student):
    reference, live = drift_data()
    student.exec(f"{IMPORT}\nmonitor = DriftMonitor({literal(reference)}, ['a', 'b', 'c'])\n"
                 f"report = monitor.check({literal(live)})")
    got = student.eval("[[f.feature, float(f.psi), float(f.ks), bool(f.drifted)] "
                       "for f in report.features]")
    critical = np.sqrt(-np.log(0.01 / 2) / 2) * np.sqrt((600 + 500) / (600 * 500))
    for (name, got_psi, got_ks, drifted), column in zip(got, range(3)):
        expected_psi, expected_ks = psi(reference[:, column], live[:, column]), ks(
            reference[:, column], live[:, column])
        assert_array(np.array([got_psi, got_ks]), [expected_psi, expected_ks], rtol=1e-9,
                     what=f"[PSI, KS] of feature {name}")
        assert_equal(drifted, bool(expected_psi > 0.2 or expected_ks > critical),
                     what=f"whether feature {name} drifted (PSI {expected_psi:.3f} vs 0.2, "
                     f"KS {expected_ks:.3f} vs {critical:.3f})")
    assert_equal(student.eval("report.drifted_features"), ["b", "c"],
                 what="report.drifted_features")


@check("mlops.drift.stable", "DriftMonitor flags nothing when the live batch comes from the "
       "reference's distribution", "hidden")
def test_drift_stable(student):
    rng = np.random.default_rng(43)   # KS well below the critical 0.10
    reference, live = rng.normal(size=(800, 2)), rng.normal(size=(400, 2))
    student.exec(f"{IMPORT}\nreport = DriftMonitor({literal(reference)}).check({literal(live)})")
    assert_equal(student.eval("[bool(report.drifted), report.drifted_features]"), [False, []],
                 what="[report.drifted, report.drifted_features]")
    assert_array(np.array(student.eval("[float(f.ks) for f in report.features]")),
                 [ks(reference[:, i], live[:, i]) for i in range(2)], rtol=1e-9,
                 what="the KS statistic of each feature")
