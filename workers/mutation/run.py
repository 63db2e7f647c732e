"""Run a module's suite on each of its mutants, in parallel, through the graders' runner.

A mutant is *killed* when some check of its module's suite (public and hidden) does not pass.
To keep a run short, a mutant's suite stops at its first non-passing check, and the
performance checks (those timing against the ``reference``) run only for a mutant the other
checks let through.  A generated survivor is then run once more as the differential package
of :mod:`workers.mutation.equivalence`: if the suite still passes, the mutant behaved like the
reference on every input tried, and, once a tripwire run shows the suite does reach the
mutated line, it is reported as *probably equivalent*, not counted.
"""

import ast
import difflib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from harness.backends import Limits
from harness.checkpoints.registry import SUITE_ROOTS, suite_files, suites_rootdir
from workers.module_files import files_of
from workers.mutation.corpus import load_corpus
from workers.mutation.equivalence import differential_files, line_tripwire
from workers.mutation.operators import OPERATORS, generate
from workers.package_files import files_of_checkout, tar_of
from harness.suite import REFERENCE_ROOT, run_suite

KILLED, SURVIVED, EQUIVALENT, ERROR = "killed", "survived", "equivalent", "error"
CALL_TIMEOUT_S = 10.0   # the slowest reference call of any check takes a few seconds
# Every mutant is judged on the same checks' inputs, run after run, so a kill rate is
# reproducible; graders draw a secret seed per job instead.
JOB_SEED = 20261206


@dataclass(frozen=True)
class MutantResult:
    mutant: object          # the Mutant
    status: str             # KILLED, SURVIVED, EQUIVALENT or ERROR
    killed_by: str = ""     # the first check that did not pass
    detail: str = ""        # an infrastructure error, or why equivalence was ruled out
    diff: str = ""

    def as_dict(self):
        m = self.mutant
        return {"id": m.id, "operator": m.operator, "file": m.file, "line": m.line,
                "description": m.description, "status": self.status,
                "killed_by": self.killed_by, "detail": self.detail, "diff": self.diff}


def backend_named(name):
    """The graders' backend by name: ``local`` (default) or ``docker``."""
    if name == "local":
        from harness.backends.local import LocalBackend
        return LocalBackend()
    if name == "docker":
        from workers.docker_backend import DockerBackend
        return DockerBackend()
    raise ValueError(f"unknown backend {name!r}: use local or docker")


def performance_checks(module_id, suites_dir=SUITE_ROOTS):
    """pytest node ids of the module's checks that time against the reference (relative to
    the suites' rootdir, as pytest names them)."""
    nodes, rootdir = [], suites_rootdir(suites_dir)
    for path in suite_files(module_id, root=suites_dir):
        tree = ast.parse(path.read_text(), filename=str(path))
        node_path = os.path.relpath(path, rootdir)
        nodes += [f"{node_path}::{node.name}" for node in tree.body
                  if isinstance(node, ast.FunctionDef) and node.name.startswith("test")
                  and "reference" in {arg.arg for arg in node.args.args}]
    return nodes


def module_mutants(module_id, generated=True, curated=True, reference=REFERENCE_ROOT,
                   corpus_dir=None, operators=OPERATORS):
    """The module's mutants: generated from its files' solution blocks, then curated."""
    files = files_of(module_id)
    texts = {path: (reference / path).read_text() for path in files}
    mutants = []
    if generated:
        for path in files:
            mutants += generate(texts[path], path, operators)
    if curated:
        extra = {} if corpus_dir is None else {"corpus_dir": corpus_dir}
        mutants += load_corpus(module_id, files, texts.__getitem__, **extra)
    return mutants


def _first_failure(results):
    if results["infrastructure_error"]:
        return None, results["infrastructure_error"]
    failed = [c["id"] for c in results["checks"] if c["outcome"] != "passed"]
    return (failed[0] if failed else ""), ""


def run_mutant(module_id, mutant, reference_files, backend_name, limits=Limits()):
    """Run the suite on one mutant; a :class:`MutantResult`."""
    backend = backend_named(backend_name)
    original = reference_files[mutant.file].decode()
    diff = "".join(difflib.unified_diff(original.splitlines(True), mutant.source.splitlines(True),
                                        f"a/{mutant.file}", f"b/{mutant.file}", n=1))
    package = tar_of({**reference_files, mutant.file: mutant.source})
    slow = performance_checks(module_id)

    def suite(tar, deselect):
        return run_suite(module_id, tar, backend, limits, call_timeout_s=CALL_TIMEOUT_S,
                         stop_at_first=True, deselect=deselect, job_seed=JOB_SEED)

    runs = [slow] + ([[]] if slow else [])   # correctness first, then timing if needed
    for deselect in runs:
        killed_by, error = _first_failure(suite(package, deselect))
        if error:
            return MutantResult(mutant, ERROR, detail=error, diff=diff)
        if killed_by:
            return MutantResult(mutant, KILLED, killed_by=killed_by, diff=diff)
    if mutant.operator == "curated" or not mutant.function:
        return MutantResult(mutant, SURVIVED, diff=diff)
    overlay = differential_files(original, mutant)
    differs, error = _first_failure(suite(tar_of({**reference_files, **overlay}), slow))
    if error or differs:
        return MutantResult(mutant, SURVIVED, diff=diff, detail=error or f"differs in {differs}")
    reached, error = _first_failure(suite(_tripwire(original, mutant, reference_files), slow))
    if error or not reached:
        return MutantResult(mutant, SURVIVED, diff=diff, detail=error or (
            f"the suite never reaches line {mutant.line} of {'.'.join(mutant.function)}"))
    return MutantResult(mutant, EQUIVALENT, diff=diff)


def _tripwire(original, mutant, reference_files):
    """The package whose suite fails only if it reaches the mutated line (or, where no
    statement fits there, calls the mutated function): agreeing on inputs that never reach
    the mutation proves nothing."""
    text = line_tripwire(original, mutant.line)
    overlay = {mutant.file: text} if text is not None else \
        differential_files(original, mutant, tripwire=True)
    return tar_of({**reference_files, **overlay})


def run_mutants(module_id, mutants, *, jobs=None, backend_name="local", on_result=None,
                reference=REFERENCE_ROOT):
    """Every mutant's result, in the order given; ``jobs`` processes (default: the cores).
    ``on_result(result, done, total)`` after each, for a progress bar."""
    return run_tasks([(module_id, m) for m in mutants], jobs=jobs, backend_name=backend_name,
                     on_result=on_result, reference=reference)


def run_tasks(tasks, *, jobs=None, backend_name="local", on_result=None,
              reference=REFERENCE_ROOT):
    """Like :func:`run_mutants` for ``[(module_id, mutant), ...]`` of several modules, so
    modules share the processes too."""
    reference_files = files_of_checkout(reference)
    jobs = max(1, jobs or os.cpu_count() or 1)
    results = {}
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(run_mutant, module_id, mutant, reference_files, backend_name): n
                   for n, (module_id, mutant) in enumerate(tasks)}
        for future in as_completed(futures):
            result = future.result()
            results[futures[future]] = result
            if on_result is not None:
                on_result(result, len(results), len(tasks))
    return [results[n] for n in range(len(tasks))]


def summary(results):
    """Counts of a module's results: generated and curated apart, kill rate over the
    non-equivalent generated mutants."""
    generated = [r for r in results if r.mutant.operator != "curated"]
    curated = [r for r in results if r.mutant.operator == "curated"]
    counted = [r for r in generated if r.status != EQUIVALENT]
    killed = sum(r.status == KILLED for r in counted)
    return {"generated": len(generated), "generated_killed": killed,
            "equivalent": len(generated) - len(counted),
            "errors": sum(r.status == ERROR for r in results),
            "kill_rate": round(killed / len(counted), 4) if counted else 1.0,
            "curated": len(curated), "curated_killed": sum(r.status == KILLED for r in curated)}
