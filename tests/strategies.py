"""Shared hypothesis strategies for the project's property tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# Text with spaces, newlines, punctuation and non-ASCII letters: what a tokenizer meets.
corpus_texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),  # lone surrogates are not valid text
    min_size=1,
    max_size=200,
)


@st.composite
def corpus_and_text(draw):
    """A training corpus and a second text written only in that corpus's alphabet."""
    corpus = draw(corpus_texts)
    text = draw(st.text(alphabet=sorted(set(corpus)), max_size=200))
    return corpus, text


# ------------------------------------------------------------------ tinytorch arrays
def finite_arrays(shape, low: float = -10.0, high: float = 10.0):
    """float64 arrays of ``shape`` with finite values in [low, high]."""
    return hnp.arrays(np.float64, shape, elements=st.floats(low, high, allow_nan=False, allow_infinity=False))


@st.composite
def broadcastable_pairs(draw, max_dims: int = 3, max_side: int = 4, low: float = -10.0, high: float = 10.0):
    """Two float64 arrays whose shapes broadcast together, e.g. (3, 1) and (1, 4)."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=max_dims,
                                                    max_side=max_side))
    a_shape, b_shape = shapes.input_shapes
    return draw(finite_arrays(a_shape, low, high)), draw(finite_arrays(b_shape, low, high))
