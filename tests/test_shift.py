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
    (np.array([]), np.array([]), ValueError, ['a and b', 'empty']),
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
    assert 'Y is empty' in str(info.value)


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


# --- the fair measurement: aliasing against an ideal half-cell move -----------------------
# Expected values come from trigonometry worked out in the comments: a sampled cosine
# moved half a cell is the cosine read half a cell on, and a binomial filter of size f
# scales a cosine of frequency w (radians per pixel) by |cos(w / 2)|**(f - 1).

from poolbook.antialias import max_blur_pool2d  # noqa: E402
from poolbook.shift import (aliasing, detail, detail_kept, half_cell_shift,  # noqa: E402
                            ideal_downsample, periodic_output, shift_aliasing,
                            split_shift, without_nyquist)


def cosine_rows(width, k, phase=0.0, rows=4, shift=0.0):
    """rows x width map whose every row is cos(2 pi k (j + shift) / width + phase)."""
    j = np.arange(width) + shift
    return np.tile(np.cos(2 * np.pi * k * j / width + phase), (rows, 1))


@pytest.mark.parametrize('width, k, phase', [(16, 3, 0.0), (16, 1, 0.4), (15, 7, 1.0),
                                             (8, 0, 0.0)])
def test_half_cell_shift_reads_a_cosine_half_a_cell_on(width, k, phase):
    moved = half_cell_shift(cosine_rows(width, k, phase))
    assert np.allclose(moved, cosine_rows(width, k, phase, shift=0.5), atol=1e-12)


def test_half_cell_shift_leaves_out_the_alternating_term():
    # (-1)**j is the Nyquist cosine of an even row: read half a cell on, it is
    # cos(pi (j + 1/2)) = 0 at every cell (the ambiguity is dropped, not guessed).
    Y = np.tile([1.0, -1.0], (3, 4))
    assert np.allclose(half_cell_shift(Y), 0, atol=1e-12)
    assert np.allclose(half_cell_shift(Y + 2.0), 2.0, atol=1e-12)


def test_without_nyquist_drops_only_the_alternating_term():
    # 2 + (-1)**j + cos(2 pi j / 8): the alternating term goes, the rest stays.
    j = np.arange(8)
    Y = np.tile(2 + (-1.0) ** j + np.cos(2 * np.pi * j / 8), (2, 1))
    assert np.allclose(without_nyquist(Y), 2 + np.cos(2 * np.pi * j / 8), atol=1e-12)
    odd = np.random.RandomState(0).rand(3, 7)  # an odd row has no Nyquist term
    assert np.array_equal(without_nyquist(odd), odd)


def test_detail_by_hand():
    # Rows 0 1 (periodic): differences across 1 and -1 in each of the two rows, none down.
    assert detail(np.array([[0.0, 1.0], [0.0, 1.0]])) == 2.0
    assert detail(np.full((3, 5), 7.0)) == 0.0
    # A single 1 among zeros differs from its four neighbours: sqrt(4) = 2.
    M = np.zeros((4, 4))
    M[1, 2] = 1.0
    assert detail(M) == 2.0


def test_ideal_downsample_keeps_only_the_low_half_band():
    # Width 32: frequency 3 is below 32 / 4 = 8 and stays, 12 is above and goes; every
    # second column of cos(2 pi 3 j / 32) is cos(2 pi 3 j / 16).
    X = cosine_rows(32, 3, rows=8) + cosine_rows(32, 12, 0.3, rows=8)
    assert np.allclose(ideal_downsample(X), cosine_rows(16, 3, rows=4), atol=1e-12)
    # Down the columns nothing is filtered (the move is along the rows): a map whose
    # rows alternate 1, -1 is only subsampled, every second row is a row of ones.
    alternating = np.tile(((-1.0) ** np.arange(8))[:, None], (1, 32))
    assert np.allclose(ideal_downsample(alternating), 1.0, atol=1e-12)


def test_plain_subsampling_keeps_exactly_the_ideal_detail():
    # Every second column of x is the low half band L plus the high half band H at even
    # pixels; moved one pixel, L at odd pixels is L at even ones moved half a cell, while
    # H's alias flips sign. So S is the low half band at odd pixels: the ideal output,
    # moved, with exactly its detail.
    X = np.random.RandomState(2).rand(24, 32)
    assert abs(shift_aliasing(lambda A: A[::2, ::2], X)[1] - 1) < 1e-9


def test_split_shift_of_an_ideal_move_is_all_detail_no_aliasing():
    Y0 = cosine_rows(16, 2, 0.2)
    S, A = split_shift(Y0, cosine_rows(16, 2, 0.2, shift=0.5))
    assert np.allclose(A, 0, atol=1e-12)
    assert np.allclose(S, cosine_rows(16, 2, 0.2, shift=0.5), atol=1e-12)
    # The other extreme: the output jumps by the opposite of the ideal move: all aliasing.
    S, A = split_shift(Y0, -cosine_rows(16, 2, 0.2, shift=0.5))
    assert np.allclose(S, 0, atol=1e-12)
    with pytest.raises(ValueError, match='keeps no detail'):
        aliasing(S, A)


@pytest.mark.parametrize('filter_size', [1, 2, 3, 4, 5])
def test_aliasing_of_blur_pooling_on_two_cosines_by_hand(filter_size):
    # x = cos(w t) + c cos((pi - w) t). Sampled at even t, the second cosine lands on the
    # first one's frequency (cos((pi - w) 2j) = cos(2 w j)): it is the alias. Moving x one
    # pixel flips the alias's sign and not the first cosine's, so the aliasing is the
    # ratio of the two amplitudes after the blur, c tan(w / 2)**(f - 1), and the detail
    # kept, the first cosine's amplitude against the ideal layer's 1, is cos(w / 2)**(f-1).
    width, k, c = 32, 3, 0.5
    w = 2 * np.pi * k / width
    X = cosine_rows(width, k, rows=8) + c * cosine_rows(width, width // 2 - k, rows=8)
    pool = lambda A: blur_pool2d(A, filter_size=filter_size)  # noqa: E731
    measured = shift_aliasing(pool, X)
    expected = (c * np.tan(w / 2) ** (filter_size - 1), np.cos(w / 2) ** (filter_size - 1))
    assert np.allclose(measured, expected, rtol=1e-9, atol=1e-12)


def test_a_constant_output_does_not_win_it_is_refused():
    X = np.random.RandomState(0).rand(16, 16)
    constant = lambda A: np.full((A.shape[0] // 2, A.shape[1] // 2), 0.5)  # noqa: E731
    with pytest.raises(ValueError, match='keeps no detail'):
        shift_aliasing(constant, X)
    # ... and keeps none of the detail an ideal layer keeps.
    assert detail_kept(periodic_output(constant, X), X) == 0.0


def test_periodic_output_wraps_the_map_around():
    # Independent computations of the periodic layers: max pooling from rolled copies,
    # the blur as a circular convolution through the FFT.
    rng = np.random.RandomState(1)
    X = rng.rand(12, 16)
    rolled = [np.roll(X, (-a, -e), axis=(0, 1)) for a in (0, 1) for e in (0, 1)]
    dense_max = np.max(rolled, axis=0)
    assert np.array_equal(periodic_output(lambda A: pool2d(A, 2, strides=2), X),
                          dense_max[::2, ::2])
    f = np.array([1.0, 2.0, 1.0]) / 4
    kernel = np.zeros_like(X)
    for a in range(3):
        for e in range(3):
            kernel[(a - 1) % 12, (e - 1) % 16] = f[a] * f[e]

    def circular_blur(M):  # out[i, j] = sum of kernel[a, e] M[i + a, j + e]
        return np.fft.ifft2(np.fft.fft2(M) * np.conj(np.fft.fft2(kernel))).real
    assert np.allclose(periodic_output(blur_pool2d, X), circular_blur(X)[::2, ::2],
                       atol=1e-12)
    assert np.allclose(periodic_output(max_blur_pool2d, X),
                       circular_blur(dense_max)[::2, ::2], atol=1e-12)


def test_periodic_output_moves_one_cell_when_the_map_moves_two_pixels():
    X = np.random.RandomState(2).rand(16, 16)
    Y = periodic_output(max_blur_pool2d, X)
    moved = periodic_output(max_blur_pool2d, np.roll(X, -2, axis=1))
    assert np.allclose(moved, np.roll(Y, -1, axis=1), atol=1e-12)


@pytest.mark.parametrize('X, pool, margin, error, word', [
    (np.ones((9, 16)), blur_pool2d, 8, ValueError, 'even sides'),
    (np.ones((16, 16)), blur_pool2d, 3, ValueError, 'margin'),
    (np.ones((16, 16)), blur_pool2d, 20, ValueError, 'even sides'),
    (np.ones((16, 16)), lambda A: A, 8, ValueError, 'halve'),
    (np.ones((2, 16, 16)), blur_pool2d, 8, ValueError, '(H, W)'),
])
def test_periodic_output_refuses_what_it_cannot_wrap(X, pool, margin, error, word):
    with pytest.raises(error) as info:
        periodic_output(pool, X, margin)
    assert word in str(info.value), str(info.value)


def test_split_shift_refuses_outputs_of_different_shapes():
    with pytest.raises(ValueError, match='same shape'):
        split_shift(np.ones((4, 4)), np.ones((4, 5)))
