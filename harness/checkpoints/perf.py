"""Performance as a ratio to the reference implementation, measured in the same job.

Absolute times vary with the machine's load; the reference runs the same statement through
the same kind of runner right beside the student's, so only the ratio is graded.
"""

import textwrap


def ratio_to_reference(student, reference, setup, statement, repeat=5, timeout=None,
                       confirm_above=1.5, rounds=3):
    """Time ``statement`` (after ``setup``) in both runners, interleaved; the best of
    ``repeat`` each.  Records and returns ``ratio_to_reference`` (student / reference).

    A ratio above ``confirm_above`` is measured again, up to ``rounds`` rounds in all,
    keeping the best times: load on a shared worker slows some runs, so only a slowness
    that persists should cost a student marks.  ``confirm_above=None`` measures one round
    (for statements that can run only ``repeat`` times).
    """
    student.exec(setup, timeout=timeout)
    reference.exec(setup, timeout=timeout)
    student_s, reference_s = [], []
    for _ in range(1 if confirm_above is None else rounds):
        for _ in range(repeat):
            student_s.append(student.exec(statement, timeout=timeout))
            reference_s.append(reference.exec(statement, timeout=timeout))
        ratio = min(student_s) / max(min(reference_s), 1e-9)
        if confirm_above is None or ratio <= confirm_above:
            break
    student.figure("ratio_to_reference", round(ratio, 3))
    student.figure("reference_s", round(min(reference_s), 6))
    return ratio


def peak_ratio_to_reference(student, reference, setup, statement, baseline_bytes=0):
    """Peak memory tracemalloc sees while ``statement`` runs (after ``setup``), in both
    runners.  Records ``memory_ratio`` and ``peak_bytes`` (the student's); returns ``(ratio,
    student_peak, reference_peak)``.

    The ratio is ``(student peak + baseline_bytes) / (reference peak + baseline_bytes)``:
    ``baseline_bytes`` is memory both touch anyway (e.g. the input), so a few stray bytes
    over a near-zero reference peak do not read as a large factor.
    """
    measure = (f"{setup}\nimport tracemalloc\ntracemalloc.start()\ntry:\n"
               f"{textwrap.indent(statement, '    ')}\n"
               "    _peak_bytes = tracemalloc.get_traced_memory()[1]\n"
               "finally:\n    tracemalloc.stop()")
    peaks = []
    for runner in (student, reference):
        runner.exec(measure)
        peaks.append(runner.eval("int(_peak_bytes)"))
    ratio = (peaks[0] + baseline_bytes) / max(peaks[1] + baseline_bytes, 1)
    student.figure("memory_ratio", round(ratio, 3))
    student.figure("peak_bytes", peaks[0])
    return ratio, peaks[0], peaks[1]
