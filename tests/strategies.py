"""Hypothesis strategies for the unit tests: pooling geometries and arrays to pool.

A failing case shrinks to its smallest form (fewest maps, smallest sides and window,
simplest values), which is why the tests draw cases here instead of looping over seeded
random ones. The profile (tests/conftest.py) derandomizes them: every run tries the same
cases.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

LEADS = [(), (1,), (2,), (3,), (1, 1), (1, 3), (2, 2)]  # leading axes before (H, W)


@st.composite
def geometries(draw, windows=(1, 4), strides=(1, 3), max_side=12, min_padding=0):
    """(hw, pool_size, strides, padding) as pairs: a window of `windows` cells per axis, a
    stride in `strides`, padding below the window, and a map (H, W) of at most `max_side`
    cells per axis in which the padded window fits."""
    pool_size = tuple(draw(st.integers(*windows)) for _ in range(2))
    padding = tuple(draw(st.integers(min(min_padding, k - 1), k - 1)) for k in pool_size)
    hw = tuple(draw(st.integers(max(1, k - 2 * p), max(1, k - 2 * p, max_side)))
               for k, p in zip(pool_size, padding))
    step = tuple(draw(st.integers(*strides)) for _ in range(2))
    return hw, pool_size, step, padding


def values(dtype, shape, ties=True, nan=False):
    """Arrays of `shape` in `dtype`: small integers (ties, exact sums) and, for floats,
    floats of moderate size (only those with ties=False); NaN too with nan=True, never
    infinities."""
    # Strategies whose values hnp.arrays may reuse as a background fill (no .map): it then
    # draws a few cells one by one instead of all of them, ten times as fast.
    dtype = np.dtype(dtype)
    if dtype.kind != 'f':
        return hnp.arrays(dtype, shape, elements=st.integers(-3, 3) if dtype.kind == 'i'
                          else st.integers(0, 6))
    small = st.integers(-3, 3)
    wide = st.floats(-100, 100, width=min(dtype.itemsize * 8, 64), allow_subnormal=False)
    elements = small | wide if ties else wide
    return hnp.arrays(dtype, shape, elements=elements | st.just(np.nan) if nan else elements)


@st.composite
def pool_cases(draw, modes=('max', 'avg'), dtypes=(np.float32,), kinds=('numpy',),
               leads=LEADS, ceil_modes=(False, True), ties=True, nan=False, **geometry):
    """Keyword arguments of one pool2d call: X (of a kind in `kinds`, 'numpy' or
    'ndarray'), pool_size, mode (and p_value for 'lp'), strides, padding, ceil_mode and
    count_include_pad."""
    hw, pool_size, strides, padding = draw(geometries(**geometry))
    dtype = draw(st.sampled_from(dtypes))
    X = draw(values(dtype, draw(st.sampled_from(leads)) + hw, ties=ties, nan=nan))
    if draw(st.sampled_from(kinds)) == 'ndarray':
        from mxnet import nd
        X = nd.array(X, dtype=X.dtype)
    mode = draw(st.sampled_from(modes))
    return dict(X=X, pool_size=pool_size, mode=mode, strides=strides, padding=padding,
                ceil_mode=draw(st.sampled_from(ceil_modes)),
                count_include_pad=draw(st.booleans()),
                p_value=draw(st.sampled_from((1, 2, 3))) if mode == 'lp' else None)
