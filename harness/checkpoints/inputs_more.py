"""Shared pieces of the checks of modules 10-18, used on the trusted side.

Generators take the check's ``rng`` fixture (seeded per job from a secret, so inputs are new
in every job and answers tabled for known inputs earn nothing); expected values are computed
here with NumPy from the very arrays sent to the runner.  The code strings are runner-side
stand-ins made by the grader (a scripted clock, a key/value cache), so a check never leans
on a later module or on wall time.
"""


def extreme_rows(rng, rows, cols, magnitude=1e3):
    """Rows whose values span ``magnitude`` (up to +-1e3): exp overflows unless shifted.

    Row 0 holds a tie for the maximum, row 1 is constant, the others mix one huge value
    with ordinary ones, so both overflow and underflow of a naive exp show up."""
    x = rng.normal(0, 3, (rows, cols))
    x[0, :2] = magnitude
    x[1] = -magnitude
    for r in range(2, rows):
        x[r, rng.integers(cols)] = rng.choice([-1, 1]) * magnitude * rng.uniform(0.5, 1)
    return x


SCRIPTED_CLOCK = """import time as _time
class ScriptedClock:
    '''A fake clock for the time module: each call of the timed function advances it by the
    next scripted duration, so a timing routine's statistics are exact.'''
    def __init__(self, durations):
        self.now, self.durations, self.calls = 1000.0, list(durations), 0
    def step(self, *args, **kwargs):
        self.now += self.durations[self.calls]
        self.calls += 1
    def seconds(self):
        return self.now
    def nanoseconds(self):
        return int(round(self.now * 1e9))
def scripted_timing(module, durations, run):
    '''Run ``run(clock.step)`` with every clock of ``time`` (and any copy of one in
    ``module``) replaced by a scripted clock; returns (result, clock).'''
    clock = ScriptedClock(durations)
    names = {'perf_counter': clock.seconds, 'monotonic': clock.seconds, 'time': clock.seconds,
             'process_time': clock.seconds, 'perf_counter_ns': clock.nanoseconds,
             'monotonic_ns': clock.nanoseconds, 'time_ns': clock.nanoseconds}
    real = {name: getattr(_time, name) for name in names}
    copies = {key: names[name] for key, value in vars(module).items()
              for name, fn in real.items() if value is fn}
    saved = {key: getattr(module, key) for key in copies}
    try:
        for name, fake in names.items():
            setattr(_time, name, fake)
        for key, fake in copies.items():
            setattr(module, key, fake)
        return run(clock.step), clock
    finally:
        for name, fn in real.items():
            setattr(_time, name, fn)
        for key, fn in saved.items():
            setattr(module, key, fn)
"""


LIST_CACHE = """class ListLayerCache:
    '''One layer's keys and values, concatenated along the time axis (axis 2).'''
    def __init__(self):
        self.keys = self.values = None
        self.length = 0
    def update(self, k, v):
        k, v = np.asarray(k.data, dtype=np.float64), np.asarray(v.data, dtype=np.float64)
        self.keys = k if self.keys is None else np.concatenate([self.keys, k], axis=2)
        self.values = v if self.values is None else np.concatenate([self.values, v], axis=2)
        self.length = self.keys.shape[2]
        return Tensor(self.keys), Tensor(self.values)
class ListCache:
    '''The cache interface GPT and MultiHeadAttention use (length, layer(i)), made by the
    grader so that a module's checks do not depend on a later module's KVCache.'''
    def __init__(self, layers):
        self.layers = [ListLayerCache() for _ in range(layers)]
    @property
    def length(self):
        return self.layers[0].length
    def layer(self, i):
        return self.layers[i]
"""
