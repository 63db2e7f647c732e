"""Cast a module's parameters to float64, so it can take part in a finite-difference check."""

import numpy as np


def to_float64(module):
    for p in module.parameters():
        p.data = p.data.astype(np.float64)
    return module
