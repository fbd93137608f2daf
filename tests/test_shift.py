"""Shift measurements (poolbook.shift): crops, relative change, Zhang's consistency.

Expected values are worked out by hand in the comments, or come from plain numpy slicing
and norms written out in the test; never the functions' own output.
"""
import numpy as np
import pytest
from mxnet import nd

from poolbook.antialias import blur_pool2d
from poolbook.pooling import pool2d
from poolbook.shift import consistency, relative_change, shift, shift_change


def test_shift_is_a_moved_crop():
    X = np.arange(30.0).reshape(5, 6)
    Z = shift(X, 1, 2, (3, 4))
    assert np.array_equal(Z, [[8, 9, 10, 11], [14, 15, 16, 17], [20, 21, 22, 23]])
    for i in range(3):
        for j in range(4):
            assert Z[i, j] == X[i + 1, j + 2]
    B = nd.array(np.arange(60.0).reshape(2, 5, 6))
    Zb = shift(B, 0, 1, (5, 5))
    assert isinstance(Zb, nd.NDArray)
    assert np.array_equal(Zb.asnumpy(), B.asnumpy()[:, :, 1:])


@pytest.mark.parametrize('args, error, word', [
    ((1, 2, (5, 5)), ValueError, 'does not fit'),
    ((-1, 0, (2, 2)), ValueError, '(d_h, d_w)'),
    ((0, 0, (0, 2)), ValueError, 'shape'),
    ((0.5, 0, (2, 2)), TypeError, '(d_h, d_w)'),
])
def test_shift_refuses_what_does_not_fit(args, error, word):
    with pytest.raises(error) as info:
        shift(np.ones((5, 6)), *args)
    assert word in str(info.value)


def test_relative_change_by_hand():
    # Y = (3, 4), Z = (3, 0): ||Z - Y|| / ||Y|| = ||(0, -4)|| / 5 = 0.8
    assert relative_change(np.array([[3.0, 4.0]]), np.array([[3.0, 0.0]])) == 0.8
    assert relative_change(np.ones((2, 2)), np.ones((2, 2))) == 0.0
    with pytest.raises(ValueError, match='same shape'):
        relative_change(np.ones((2, 2)), np.ones((2, 3)))


def test_shift_change_of_stride_two_max_pooling():
    # 0 0 1 1 0 0 1 1 ... pooled 1 x 2 at stride 2: 0 1 0 1; moved one step: 1 1 1 1, a
    # change of ||(1, 0, 1, 0)|| / ||(0, 1, 0, 1)|| = 1. Moved two steps: the same
    # pattern one cell on, which the comparison moves back: no change.
    X = np.tile([0.0, 0, 1, 1], (1, 5))
    pool = lambda A: pool2d(A, (1, 2), strides=(1, 2))
    assert shift_change(pool, X, 0, 1, (1, 8), 2, border=0) == 1.0
    assert shift_change(pool, X, 0, 2, (1, 8), 2, border=0) == 0.0
    assert shift_change(pool, X, 0, 4, (1, 8), 2, border=0) == 0.0
    # Stride 1 pooling moves with its input: no change for any shift.
    dense = lambda A: pool2d(A, (1, 2), strides=1)
    assert shift_change(dense, X, 0, 1, (1, 8), 1, border=0) == 0.0


def test_consistency_counts_agreements():
    assert consistency(np.array([1, 2, 3, 4]), np.array([1, 0, 3, 0])) == 0.5
    assert consistency(np.arange(5), np.arange(5)) == 1.0
    # NDArrays compare as whole arrays: 2 of 3 labels agree.
    assert consistency(nd.array([1, 2, 3]), nd.array([1, 2, 4])) == 2 / 3


@pytest.mark.parametrize('a, b, error, words', [
    (np.array([1, 2]), np.array([1, 2, 3]), ValueError, ['a and b', 'same shape']),
    (np.array([]), np.array([]), ValueError, ['a must hold values', '(0,)']),
    ([1, 2], np.array([1, 2]), TypeError, ['a must']),
    (np.array([1, 2]), (1, 2), TypeError, ['b must']),
])
def test_consistency_refuses_what_it_cannot_count(a, b, error, words):
    with pytest.raises(error) as info:
        consistency(a, b)
    for word in words:
        assert word in str(info.value), str(info.value)


def test_relative_change_refuses_an_empty_or_all_zero_reference():
    with pytest.raises(ValueError) as info:
        relative_change(np.zeros(3), np.ones(3))
    assert 'Y is all zeros' in str(info.value)
    with pytest.raises(ValueError) as info:
        relative_change(np.zeros((0, 2)), np.zeros((0, 2)))
    assert 'Y must hold values, got shape (0, 2)' in str(info.value)


def test_shift_change_refuses_what_it_cannot_measure():
    pool = lambda A: pool2d(A, 2, strides=2)
    with pytest.raises(ValueError) as info:  # all zeros: no size to compare against
        shift_change(pool, np.zeros((10, 10)), 1, 0, (8, 8), 2)
    assert 'X' in str(info.value) and 'all zeros' in str(info.value)
    # A 4 x 4 crop pools to 2 x 2; a shift of 2 moves back one cell, leaving 1 x 2, and
    # a border of 1 leaves nothing.
    with pytest.raises(ValueError) as info:
        shift_change(pool, np.ones((10, 10)), 2, 0, (4, 4), 2)
    assert 'border=1' in str(info.value) and 'shape=(4, 4)' in str(info.value)
    with pytest.raises(ValueError) as info:
        shift_change(pool, np.ones((10, 10)), 2, 0, (8, 8), 2, border=-1)
    assert 'border' in str(info.value)


def test_shift_returns_a_copy_never_a_view():
    X = np.arange(20.0).reshape(5, 4)
    Z = shift(X, 1, 0, (2, 4))  # rows 1-2, whole rows: one contiguous block of X
    Z[0, 0] = -1
    assert X[1, 0] == 4.0
    X[:] = 0  # and the crop does not change with X either
    assert Z[1, 3] == 11.0


def test_shift_change_leaves_out_the_border():
    # Blur at stride 2 reflects at the crop's edge, so an even shift changes only the
    # outermost output cells: zero change once they are left out, not before.
    X = np.random.RandomState(0).rand(12, 14)
    assert shift_change(blur_pool2d, X, 2, 2, (10, 10), 2) < 1e-12
    assert shift_change(blur_pool2d, X, 2, 2, (10, 10), 2, border=0) > 0.01
