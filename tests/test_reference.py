"""The references of tests/reference.py, checked by hand and against each other, so that
a test comparing poolbook with them compares it with something right."""
import numpy as np
import pytest
from hypothesis import given, settings

from reference import (kept_windows, mxnet_pool2d, plain_pool2d, torch_accepts,
                       torch_pool2d, window_starts)
from strategies import pool_cases


def test_window_starts_by_hand():
    # n=4, k=3, s=2, p=1: padded 6, starts 0, 2 (4 + 3 > 6) -> floor((4 + 2 - 3)/2) + 1 = 2.
    assert window_starts(4, 3, 2, 1, False) == [0, 2]
    # n=5, k=2, s=2, p=0, ceil: starts 0, 2, 4 (window 4 runs one past) -> 3 windows.
    assert window_starts(5, 2, 2, 0, True) == [0, 2, 4]
    # n=3, k=2, s=2, p=1, ceil: starts 0, 2, 4; 4 = n + p is in the trailing padding.
    assert window_starts(3, 2, 2, 1, True) == [0, 2, 4]
    assert kept_windows(3, 2, 2, 1, True) == 2


@pytest.mark.parametrize('reference', [mxnet_pool2d, torch_pool2d, plain_pool2d])
@pytest.mark.parametrize('mode, expected', [
    # The source book's 3 x 3 example, 0..8, 2 x 2 windows at stride 1.
    ('max', [[4, 5], [7, 8]]), ('avg', [[2, 3], [5, 6]]),
    ('sum', [[8, 12], [20, 24]]),  # 0+1+3+4, 1+2+4+5, 3+4+6+7, 4+5+7+8
])
def test_the_references_give_the_source_example(reference, mode, expected):
    X = np.arange(9, dtype=np.float32).reshape(3, 3)
    np.testing.assert_array_equal(reference(X, 2, mode), expected)


@settings(max_examples=80)
@given(pool_cases(modes=('max', 'avg', 'sum', 'lp'), dtypes=(np.float64,)))
def test_the_three_references_agree(case):
    # NaN-free float64 inputs: MXNet's max skips NaN, the others keep it (see reference.py).
    X, size = case.pop('X'), case.pop('pool_size')
    want = plain_pool2d(X, size, **case)
    np.testing.assert_allclose(mxnet_pool2d(X, size, **case), want, rtol=1e-9, atol=1e-9)
    if torch_accepts(size, case['padding']):
        np.testing.assert_allclose(torch_pool2d(X, size, **case), want, rtol=1e-9,
                                   atol=1e-9)
