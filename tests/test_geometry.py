"""The window arithmetic (poolbook.geometry).

Where the expected values come from: cases worked out by hand in the comments, MXNet's
output shapes, and the windows counted and read one at a time (tests/reference.py);
never the module's own output.
"""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mxnet import nd

from poolbook.geometry import (axis_taps, cell_taps, divisor, divisors, lowest,
                               output_shape, output_size, padded_size, window_offsets)
from reference import kept_windows, plain_divisors
from strategies import geometries

# Every small configuration of one axis: n cells, window k, stride s, padding p < k,
# with the window fitting in the padded axis.
AXIS_GRID = [(n, k, s, p) for n in range(1, 13) for k in range(1, 5) for s in range(1, 4)
             for p in range(k) if k <= n + 2 * p]


# ----------------------------------------------------------------------------------------
# output_size and output_shape.

@pytest.mark.parametrize('args, expected', [
    ((3, 2, 1, 0, False), 2),   # floor((3 - 2) / 1) + 1 = 2: the book's 3 x 3 example
    ((4, 3, 3, 0, False), 1),   # floor((4 - 3) / 3) + 1 = 0 + 1
    ((4, 3, 2, 1, False), 2),   # floor((4 + 2 - 3) / 2) + 1 = floor(1.5) + 1
    ((4, 2, 2, 1, False), 3),   # floor((4 + 2 - 2) / 2) + 1 = 2 + 1
    ((4, 3, 3, 2, False), 2),   # floor((4 + 4 - 3) / 3) + 1 = floor(5/3) + 1
    ((1, 1, 1, 0, False), 1),   # floor(0 / 1) + 1
    ((12, 4, 3, 3, False), 5),  # floor((12 + 6 - 4) / 3) + 1 = floor(14/3) + 1 = 4 + 1
    ((5, 2, 2, 0, False), 2),   # floor(3 / 2) + 1
    ((5, 2, 2, 0, True), 3),    # ceil(3 / 2) + 1; the third window starts at 4 < 5 + 0
    ((7, 3, 2, 0, True), 3),    # ceil(4 / 2) + 1 = floor(4 / 2) + 1: exact division
    ((4, 3, 2, 1, True), 3),    # ceil(1.5) + 1 = 3; the third starts at 4 < 4 + 1
    ((3, 2, 2, 1, True), 2),    # ceil(3 / 2) + 1 = 3, but the third starts at 4 = 3 + 1
    ((3, 2, 2, 1, False), 2),   # floor(3 / 2) + 1
    ((2, 1, 3, 0, True), 1),    # ceil(1 / 3) + 1 = 2, but the second starts at 3 >= 2 + 0
    ((5, 3, 3, 1, True), 2),    # ceil(4 / 3) + 1 = 3, the third starts at 6 >= 5 + 1
])
def test_output_size_by_hand(args, expected):
    assert output_size(*args) == expected


def test_output_size_default_is_floor():
    assert output_size(5, 2, 2, 0) == 2  # floor(3 / 2) + 1


@pytest.mark.parametrize('ceil_mode', [False, True])
def test_output_size_counts_the_windows_mxnet_keeps(ceil_mode):
    # MXNet's output length, less a last ceil-mode window that starts in the trailing
    # padding (MXNet keeps it and fills it with the lowest float32: it holds no input);
    # and the windows counted one at a time.
    dropped, wrong = 0, []
    for n, k, s, p in AXIS_GRID:
        Y = nd.Pooling(nd.ones((1, 1, n, 1)), kernel=(k, 1), stride=(s, 1), pad=(p, 0),
                       pool_type='max',
                       pooling_convention='full' if ceil_mode else 'valid').asnumpy()
        expected = Y.shape[2]
        if ceil_mode and (expected - 1) * s >= n + p:
            expected -= 1
            dropped += 1
            assert Y[0, 0, -1, 0] == np.finfo(np.float32).min  # no input cell in it
        if not ceil_mode:  # the formula by hand, with a true division and floor
            assert expected == math.floor((n + 2 * p - k) / s) + 1
        got = output_size(n, k, s, p, ceil_mode)
        if got != expected or got != kept_windows(n, k, s, p, ceil_mode):
            wrong.append(((n, k, s, p), got, expected))
    assert not wrong, f'{len(wrong)} of {len(AXIS_GRID)} wrong, e.g. {wrong[:10]}'
    assert dropped > 0 if ceil_mode else dropped == 0


def test_output_shape_by_hand():
    # (2, 3, 10, 9), window (3, 2), stride (2, 3), padding (1, 0): (10 + 2 - 3) // 2 + 1
    # = 5 rows, (9 - 2) // 3 + 1 = 3 columns. Ceil mode: rows ceil(9 / 2) + 1 = 6 (the
    # last start, 10, is before 10 + 1: kept); columns ceil(7 / 3) + 1 = 4, but the last
    # start, 9, is at 9 + 0: dropped, so 3. The leading axes stay.
    args = dict(strides=(2, 3), padding=(1, 0))
    assert output_shape((2, 3, 10, 9), (3, 2), **args) == (2, 3, 5, 3)
    assert output_shape((10, 9), (3, 2), **args, ceil_mode=True) == (6, 3)


def test_padded_size_by_hand():
    assert padded_size((4, 5), (1, 2)) == (6, 9)
    assert padded_size((1, 1), (2**60, 0)) == (2**61 + 1, 1)  # Python ints: no overflow


# ----------------------------------------------------------------------------------------
# Which offsets read which input cells.

def reads(n, k, s, p, out):
    """Every (output i, offset a, input cell r) with r = i s - p + a inside the input,
    one window and one offset at a time."""
    return {(i, a, i * s - p + a) for i in range(out) for a in range(k)
            if 0 <= i * s - p + a < n}


@pytest.mark.parametrize('ceil_mode', [False, True])
def test_axis_taps_list_every_read_once(ceil_mode):
    for n, k, s, p in AXIS_GRID:
        out = output_size(n, k, s, p, ceil_mode)
        found, offsets = set(), []
        for i0, i1, cells in axis_taps(n, k, s, p, out):
            rows = range(n)[cells]
            assert len(rows) == i1 - i0 > 0
            a = rows[0] - (i0 * s - p)  # the offset this tap reads at
            offsets.append(a)
            found |= {(i, a, r) for i, r in zip(range(i0, i1), rows)}
        assert found == reads(n, k, s, p, out), (n, k, s, p)
        assert len(offsets) == len(set(offsets))  # one tap per offset
        assert sorted(offsets) == sorted(window_offsets(n, k, s, p, out))


def test_window_offsets_of_a_huge_window_are_few():
    # One cell, window 10**15, padding 10**15 - 1, stride 10**15: one window, one offset
    # reads the cell (a = p); two windows 10**9 apart: one offset each.
    assert list(window_offsets(1, 10**15, 10**15, 10**15 - 1, 1)) == [10**15 - 1]
    n, k, s, p = 1, 10**9 + 2, 10**9, 10**9 + 1
    out = output_size(n, k, s, p)
    assert out == 2 and sorted(window_offsets(n, k, s, p, out)) == [p - s, p]


@pytest.mark.parametrize('ceil_mode', [False, True])
def test_cell_taps_list_every_read_once(ceil_mode):
    for n, k, s, p in AXIS_GRID:
        out = output_size(n, k, s, p, ceil_mode)
        found = set()
        for i0, i1, cells in cell_taps(n, k, s, p, out):
            (r,) = range(n)[cells]
            found |= {(i, r - (i * s - p), r) for i in range(i0, i1)}
        assert found == reads(n, k, s, p, out), (n, k, s, p)


# ----------------------------------------------------------------------------------------
# What an average divides by.

@pytest.mark.parametrize('count_include_pad', [True, False])
@pytest.mark.parametrize('ceil_mode', [False, True])
def test_divisor_counts_the_cells_of_each_window(ceil_mode, count_include_pad):
    for n, k, s, p in AXIS_GRID:
        out = output_size(n, k, s, p, ceil_mode)
        want = plain_divisors((n, 1), (k, 1), strides=(s, 1), padding=(p, 0),
                              ceil_mode=ceil_mode,
                              count_include_pad=count_include_pad)[:, 0]
        got = np.broadcast_to(divisor(n, k, s, p, out, count_include_pad), (out,))
        np.testing.assert_array_equal(got, want, err_msg=str((n, k, s, p)))


def test_divisor_by_hand():
    # n = 3, window 2, stride 2, padding 1: windows at padded 0 and 2 ({pad, x0}, {x1, x2})
    assert divisor(3, 2, 2, 1, 2, True) == 2
    np.testing.assert_array_equal(divisor(3, 2, 2, 1, 2, False), [1, 2])
    # n = 5, window 2, stride 2, ceil: the third window {x4} runs one past the input.
    np.testing.assert_array_equal(divisor(5, 2, 2, 0, 3, True), [2, 2, 1])


@settings(max_examples=60)
@given(geometries(), st.booleans(), st.booleans())
def test_divisors_of_both_axes(case, ceil_mode, count_include_pad):
    hw, pool_size, strides, padding = case
    args = dict(strides=strides, padding=padding, ceil_mode=ceil_mode,
                count_include_pad=count_include_pad)
    got = divisors(hw, pool_size, **args)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, plain_divisors(hw, pool_size, **args))


# ----------------------------------------------------------------------------------------
# The lowest value.

@pytest.mark.parametrize('dtype, want', [
    (np.float16, -np.inf), (np.float32, -np.inf), (np.float64, -np.inf),
    (np.int8, -128), (np.uint8, 0), (np.int32, -2**31), (np.int64, -2**63),
    (np.uint64, 0)])
def test_lowest_by_hand(dtype, want):
    value = lowest(dtype)
    assert value == want and value.dtype == dtype


def test_mxnet_output_size_counts_mxnets_windows_one_at_a_time():
    # reference.window_starts adds windows one at a time, MXNet's way: in ceil mode
    # ('full') until one reaches the last padded cell, even one starting in the padding.
    from poolbook.geometry import mxnet_output_size
    from reference import window_starts
    for n, k, s, p in itertools.product(range(1, 12), range(1, 6), range(1, 5), range(4)):
        if p < k <= n + 2 * p:
            for convention, ceil_mode in (('valid', False), ('full', True)):
                assert mxnet_output_size(n, k, s, p, convention) == len(
                    window_starts(n, k, s, p, ceil_mode)), (n, k, s, p, convention)
    with pytest.raises(ValueError, match="convention must be MXNet's 'valid' or 'full'"):
        mxnet_output_size(4, 2, 1, 0, 'same')
