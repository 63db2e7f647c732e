"""Speed and memory, graded against the reference measured in the same job, on proof of work.

Absolute times vary with the machine's load, so the reference runs the same workload through
the same kind of runner right beside the student's and only the ratio is graded.  A reply is
a claim, never proof (docs/ARCHITECTURE.md, "Every verdict from a trusted value"), so:

- a timed request is an ``eval`` whose reply carries the computed result: the time measured
  here covers computing it and sending it back;
- every repetition runs on inputs drawn for it from the check's secret ``rng``, so a reply
  cached from an earlier request is wrong; the hand-over is timed (and its memory measured)
  too, so a result computed while the inputs arrive is paid for;
- the student's result is compared here with the reference runner's on the same inputs, and
  only then does the time count;
- memory is the kernel's count for the runner (cgroup or ``/proc``), in a fresh runner, while
  a verified result is computed; never a number the student's process reports.
"""

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from harness.checkpoints.expect import assert_array


@dataclass(frozen=True)
class Workload:
    """What a speed or memory check runs, in both runners.

    ``setup`` runs once (imports, building a model); ``draw(rng)`` gives the fresh inputs of
    one repetition (``{name: plain data}``, bound in the runner by ``put``); ``prepare`` runs
    untimed after they arrive; ``result`` is the measured expression, whose value is the
    computed result; ``verify(student_value, reference_value, inputs)`` raises
    AssertionError when the student's result is wrong (default: same array, dtype included).
    """
    setup: str
    draw: Callable
    result: str
    prepare: str = ""
    verify: Callable = None
    what: str = "the result"
    rtol: float = 1e-4
    atol: float = 1e-5

    def check(self, student_value, reference_value, inputs):
        if self.verify is not None:
            return self.verify(student_value, reference_value, inputs)
        if type(reference_value) is not np.ndarray:
            raise TypeError(f"the reference gave {type(reference_value).__name__} for "
                            f"{self.result}; a speed check compares arrays")
        assert_array(student_value, reference_value, dtype=reference_value.dtype,
                     rtol=self.rtol, atol=self.atol, what=f"{self.what} on fresh inputs")


# How much longer than the reference's the student's hand-over of the same inputs may take
# before the difference counts as its work: both run the same runner code on the same data.
HAND_OVER_SLACK = 1.2


def _hand_over(session, work, inputs):
    for name, value in inputs.items():
        session.put(name, value)
    if work.prepare:
        session.exec(work.prepare)


def timed_round(student, reference, rng, work, repeat, timeout=None):
    """``repeat`` verified repetitions; returns the student's and the reference's times.

    Each runner gets its inputs right before its own timed request, so nothing can be
    computed ahead while the other runner works.  The timed reply carries a checksum of the
    result (its sum and sum of squares): sending the whole result inside the window would
    add the same transfer time to both sides and hide a slow kernel behind it.  The result
    itself is fetched untimed, verified against the reference's, and its checksum against
    the one sent inside the window.

    Handing the inputs over is timed too: the student's runner may spend that time computing
    the result ahead of the timed request, so whatever it takes beyond the reference's
    hand-over (past ``HAND_OVER_SLACK``) is added to its time."""
    student_s, reference_s = [], []
    for _ in range(repeat):
        inputs = work.draw(rng)
        measured = []
        for session in (student, reference):
            started = time.perf_counter()
            _hand_over(session, work, inputs)
            handed = time.perf_counter() - started
            claimed, seconds = session.timed_eval(f"_checksum((_timed := {work.result}))",
                                                  timeout=timeout)
            measured.append((session.eval("_timed", timeout=timeout), claimed, seconds,
                             handed))
        (student_value, claimed, student_time, student_handed), \
            (reference_value, _, reference_time, reference_handed) = measured
        work.check(student_value, reference_value, inputs)
        if not _matches(claimed, student_value):
            raise AssertionError(f"the timed reply for {work.what} does not match the result "
                                 "fetched after it: the time is not counted")
        student_s.append(student_time + max(
            0.0, student_handed - reference_handed * HAND_OVER_SLACK))
        reference_s.append(reference_time)
    return student_s, reference_s


CHECKSUM = """
def _flat(value):
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _flat(item)
    elif isinstance(value, (str, bytes)):
        yield from (float(c) for c in (value.encode() if isinstance(value, str) else value))
    else:
        data = value if isinstance(value, np.ndarray) else getattr(value, "data", value)
        yield from np.ravel(np.asarray(data, dtype=np.float64))

def _checksum(value):
    data = value if isinstance(value, np.ndarray) else getattr(value, "data", None)
    if not isinstance(data, np.ndarray) or data.dtype.kind not in "biuf":
        data = np.fromiter(_flat(value), dtype=np.float64)
    return [float(data.sum(dtype=np.float64)), float(np.square(data, dtype=np.float64).sum())]
"""
_here = {"np": np}
exec(CHECKSUM, _here)    # the same definition the runner gets, for checking its claim here
checksum = _here["_checksum"]


def _matches(claimed, value, rtol=1e-4, atol=1e-6) -> bool:
    """Whether ``claimed`` (a reply: two floats) is the checksum of ``value``, computed here."""
    try:
        expected = checksum(value)
    except (TypeError, ValueError):
        return False
    return (type(claimed) is list and len(claimed) == 2
            and all(type(c) is float for c in claimed)
            and bool(np.allclose(claimed, expected, rtol=rtol, atol=atol, equal_nan=True)))


def ratio_to_reference(student, reference, rng, work, repeat=5, timeout=None,
                       confirm_above=1.5, rounds=3):
    """Best verified time of ``work`` in the student's runner over the reference's; records
    ``ratio_to_reference`` and ``reference_s``.

    A ratio above ``confirm_above`` is measured again, up to ``rounds`` rounds in all, keeping
    the best times: load on a shared worker slows some runs, so only a slowness that persists
    should cost a student marks.
    """
    for session in (student, reference):
        session.exec(f"{work.setup}\n{CHECKSUM}", timeout=timeout)
    student_s, reference_s = [], []
    for _ in range(rounds):
        more_student, more_reference = timed_round(student, reference, rng, work, repeat,
                                                   timeout)
        student_s += more_student
        reference_s += more_reference
        ratio = min(student_s) / max(min(reference_s), 1e-9)
        if confirm_above is None or ratio <= confirm_above:
            break
    student.figure("ratio_to_reference", round(ratio, 3))
    student.figure("reference_s", round(min(reference_s), 6))
    return ratio


# Sent inside the measured window instead of the result itself: two reductions that need the
# whole result and allocate nothing (sending the result would cost a few copies of it in both
# runners and drown the difference being measured).  The result is fetched and verified after.
# What two honest runners may differ by, in memory held before a memory window or taken while
# its inputs are handed over: their packages' own objects (a package importing PIL and a few
# standard modules the reference does not holds ~3 MiB more) and page rounding.  More than
# this is charged to the student, so a memory check's workload must be large enough that
# hiding a temporary needs a ballast well beyond it (16_kernels: a 16 MiB input).
HELD_SLACK_BYTES = 4 * 2**20

DIGEST = ("def _digest(value):\n"
          "    data = value if isinstance(value, np.ndarray) else value.data\n"
          "    axes = list(range(data.ndim))\n"
          "    return [float(data.sum()), float(np.einsum(data, axes, data, axes, []))]")


def peak_ratio_to_reference(student, reference, rng, work, baseline_bytes=0):
    """Memory the kernel saw each runner take, above its level just before, while computing
    ``work.result``; in a fresh runner per side, the result verified.  Records
    ``memory_ratio`` and ``peak_bytes`` (the student's); returns ``(ratio, student_peak,
    reference_peak)``.

    The ratio is ``(student peak + baseline_bytes) / (reference peak + baseline_bytes)``:
    ``baseline_bytes`` is memory both touch anyway (e.g. the input), so the kernel's page
    granularity over a near-zero reference peak does not read as a large factor.

    What the student's runner could have done outside the window counts as done in it,
    beyond what the reference's runner did there (past ``HELD_SLACK_BYTES``): memory taken
    while the inputs were handed over (the result computed ahead), and memory held when the
    window opens (a ballast freed inside the window to make room for a temporary the peak
    would then never show).  Every request between the inputs and the result is inside one
    of the two windows.
    """
    inputs = work.draw(rng)
    measured = []
    for session in (student, reference):
        session.restart()
        session.exec(f"{work.setup}\n{DIGEST}")
        session.exec("_digest(np.ones((2, 2), dtype=np.float32))")   # its first call's imports
        _, handing, _ = session.memory_during(lambda: _hand_over(session, work, inputs))
        claimed, peak, held = session.memory_during(
            lambda: session.eval(f"_digest((_measured := {work.result}))"))
        measured.append((session.eval("_measured"), claimed, peak, held, handing))
    (student_value, claimed, rise, student_held, student_handing), \
        (reference_value, _, reference_peak, reference_held, reference_handing) = measured
    student_peak = rise + sum(max(0, mine - theirs - HELD_SLACK_BYTES) for mine, theirs in (
        (student_held, reference_held), (student_handing, reference_handing)))
    work.check(student_value, reference_value, inputs)
    if not _matches(claimed, student_value, rtol=1e-3, atol=1e-8):
        raise AssertionError(f"while its memory was measured, {work.what} was not computed "
                             "(the sums sent back do not match the result)")
    ratio = (student_peak + baseline_bytes) / max(reference_peak + baseline_bytes, 1)
    student.figure("memory_ratio", round(ratio, 3))
    student.figure("peak_bytes", student_peak)
    return ratio, student_peak, reference_peak
