"""The one builder of the suite results document (docs/ARCHITECTURE.md).

Every producer goes through it (a checkpoint suite run, a suite that could not run, a
milestone job), so the document's shape is written down once. Standard library only: the
harness builds documents on students' machines too, where pydantic is not installed;
:mod:`contract.results` validates them where they are graded.
"""

OUTCOMES = ("passed", "failed", "error", "timeout")
VISIBILITIES = ("public", "hidden")


def check_result(id, description, visibility, outcome, message="", duration_s=0.0,
                 figures=None) -> dict:
    """One check's entry of ``checks``."""
    if outcome not in OUTCOMES:
        raise ValueError(f"check {id}: outcome must be one of {OUTCOMES}, got {outcome!r}")
    if visibility not in VISIBILITIES:
        raise ValueError(f"check {id}: visibility must be one of {VISIBILITIES}, "
                         f"got {visibility!r}")
    return {"id": id, "description": description, "visibility": visibility,
            "outcome": outcome, "message": message, "duration_s": duration_s,
            "figures": {} if figures is None else figures}


def results_document(module, suite, backend, started_at, duration_s, infrastructure_error,
                     checks, peak_mb) -> dict:
    """A whole document: one module (or milestone) of one job."""
    return {"module": module, "suite": suite, "backend": backend, "started_at": started_at,
            "duration_s": duration_s, "infrastructure_error": infrastructure_error,
            "checks": list(checks), "peak_mb": peak_mb}
