"""Each bug charged once, in its own module.

Module N's suite runs on the student's whole package, so a bug in ``tensor.py`` would also
fail checks of 07, 09, 13...  With isolation, a module whose suite has failures is run again
with every other module's files (``workers/module_files.yaml``) taken from the reference and
the rest, module N's files included, the student's: the starter fixes everything outside the
solution blocks, so the files are interchangeable.  The course option ``isolation`` chooses
the grade:

- ``best_of`` (default): the better of the two runs (the second run only when the first
  has failures), so a student is never charged for a bug outside the module and never
  harmed by the substitution;
- ``own``: the student's whole package only (no second run);
- ``reference``: only the isolated run.

Each run has the module's whole ``wall_s`` (``Limits``): the isolated run starts a fresh
runner with its own wall clock rather than what the first run left, because a first run
slowed by a bug outside the module (the very case isolation is for) must not cut the run
that grades the module on its own.  So a module can take up to ``suite_runs(mode)`` times
its ``wall_s``, which the job's time budget counts (``workers.grading.check_time_budget``).

Each check of the result document says which run it came from (``"run": "own"`` or
``"isolated"``), and the document's ``isolation`` entry says what was chosen and why; a
check that failed on the student's whole package but passes in isolation says, in its
message, which earlier module to look at first.

The reference is the solution key, and the isolated run puts part of it beside the student's
code, which could read it. So the isolated package holds the reference's solutions only of
the modules before N (the ones N builds on), the later ones as the starter has them; and
nothing the student's code could write leaves that run: each of its checks carries the
message of the student's own run, never its own.
"""

from autograder.starter import strip_solutions
from contract.modules import MODULE_IDS
from workers.module_files import files_of, module_files
from workers.package_files import files_of_checkout, files_of_tar, tar_of
from harness.suite import REFERENCE_ROOT

MODES = ("best_of", "own", "reference")
OWN, ISOLATED = "own", "isolated"


def suite_runs(mode):
    """The most times a module's suite runs under ``mode``: twice for ``best_of`` (the
    student's package, then the isolated one), once otherwise."""
    if mode not in MODES:
        raise ValueError(f"isolation {mode!r}: use one of {', '.join(MODES)}")
    return 2 if mode == "best_of" else 1


def isolated_package(module_id, student_tar, reference=REFERENCE_ROOT):
    """Tar of the student's package with every other module's files taken from the
    reference, solved for the modules before ``module_id`` and stubbed as in the starter for
    the later ones: module N's files (even a missing one) and any file of no module stay the
    student's."""
    student, ours = files_of_tar(student_tar), files_of_checkout(reference)
    mine = set(files_of(module_id))
    earlier = set(MODULE_IDS[:MODULE_IDS.index(module_id)])
    taken = {}
    for module, files in module_files().items():
        for path in set(files) - mine:
            taken[path] = ours[path] if module in earlier else \
                strip_solutions(ours[path].decode(), path).encode()
    return tar_of({**student, **taken})


def _failing(results):
    return [c for c in results["checks"] if c["outcome"] != "passed"]


def _marked(results, run):
    for check in results["checks"]:
        check["run"] = run
    return results


def cause_line(module_id, broken_before):
    """The one line a student reads: where the bug these checks met really is."""
    if broken_before:
        return (f"passes with the reference's code for the modules before {module_id}: "
                f"look at {broken_before[0]} first")
    return f"passes with the reference's code for the other modules: the bug is outside " \
           f"{module_id}"


def grade_isolated(module_id, mode, repo_tar, run, score, broken_before=(),
                   reference=REFERENCE_ROOT):
    """``(results, scored)`` of one module under ``mode``.

    ``run(tar, own)`` runs the module's suite on a package (``own``: the student's); ``score
    (results)`` scores it with the rubric; ``broken_before``: earlier modules of this job
    that fail even in isolation (their own bug), in course order, to name as the cause.
    """
    suite_runs(mode)   # refuses an unknown mode before anything runs
    if mode == "reference":
        results = _marked(run(isolated_package(module_id, repo_tar, reference), False), ISOLATED)
        results["isolation"] = {"mode": mode, "chosen": ISOLATED}
        return results, score(results)
    own = _marked(run(repo_tar, True), OWN)
    scored = score(own)
    own["isolation"] = {"mode": mode, "chosen": OWN}
    if mode == "own" or own["infrastructure_error"] or not _failing(own):
        return own, scored
    isolated = _marked(run(isolated_package(module_id, repo_tar, reference), False), ISOLATED)
    isolated_scored = None if isolated["infrastructure_error"] else score(isolated)
    own["isolation"].update(own_points=scored.points, isolated_points=getattr(
        isolated_scored, "points", None))
    if isolated_scored is None or isolated_scored.points <= scored.points:
        return own, scored
    line = cause_line(module_id, list(broken_before))
    _own_messages(isolated, own, line)
    isolated["isolation"] = {**own["isolation"], "chosen": ISOLATED, "cause": line}
    return isolated, isolated_scored


def _own_messages(isolated, own, line):
    """Give each check of the isolated run a message from the student's own run instead of
    its own, which the student's code could have filled with the reference's solutions."""
    own_checks = {c["id"]: c for c in own["checks"]}
    for check in isolated["checks"]:
        mine = own_checks.get(check["id"])
        said = mine["message"] if mine else ""
        if check["outcome"] == "passed":
            check["message"] = f"{line} (with your whole package: {said[:300]})" \
                if mine and mine["outcome"] != "passed" else ""
        elif mine and mine["outcome"] != "passed":
            check["message"] = said
        else:
            check["message"] = ("fails with the reference's code for the other modules and "
                                "passes with your whole package (this run's message is not "
                                "shown: it ran beside the reference's code)")


def still_broken(results):
    """True when the module fails checks even in the run chosen for it: its own bug."""
    return bool(_failing(results)) and not results["infrastructure_error"]
