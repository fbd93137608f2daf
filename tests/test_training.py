"""The small digit classifier of chapter 7 (poolbook.training): data placement, the four
downsampling layers, seeded deterministic training. Kept tiny: one short training run.

Expected values: the blur layer against poolbook.blur_pool2d (itself tested against
MXNet), shapes worked out by hand, and sklearn's own digits.
"""
import numpy as np
import pytest
from mxnet import nd

from poolbook.antialias import blur_pool2d
from poolbook.training import (CANVAS, DOWNSAMPLINGS, BlurPool2D, digits, downsampling,
                               make_net, moved_corners, place, predict,
                               train)


def test_digits_are_sklearns_scaled_to_one():
    images, labels = digits()
    assert images.shape == (1797, 8, 8) and labels.shape == (1797,)
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(labels) == set(range(10))


def test_place_puts_each_image_at_its_corner():
    images = np.arange(2 * 64, dtype=np.float64).reshape(2, 8, 8)
    X = place(images, [0, 3], [8, 1])
    assert X.shape == (2, 1, CANVAS, CANVAS)
    assert np.array_equal(X[0, 0, 0:8, 8:16], images[0])
    assert np.array_equal(X[1, 0, 3:11, 1:9], images[1])
    assert X.sum() == images.sum()  # nothing else on the canvas


def test_blur_layer_is_blur_pool2d():
    X = np.random.RandomState(0).rand(2, 3, 9, 10)
    Y = BlurPool2D(3)(nd.array(X, dtype='float64')).asnumpy()
    assert np.allclose(Y, blur_pool2d(X), rtol=0, atol=1e-12)


@pytest.mark.parametrize('kind', DOWNSAMPLINGS)
def test_every_downsampling_halves_the_canvas(kind):
    layer = downsampling(kind, 4)
    layer.initialize()
    layer.cast('float64')
    assert layer(nd.ones((1, 4, 16, 16), dtype='float64')).shape == (1, 4, 8, 8)


def test_unknown_downsampling_is_refused():
    with pytest.raises(ValueError, match='kind'):
        downsampling('min', 4)


def test_training_is_deterministic_and_learns():
    images, labels = digits()
    images, labels = images[:200], labels[:200]
    runs = []
    for _ in range(2):
        net = make_net('max-blur')
        losses = train(net, images, labels, epochs=3, seed=1)
        runs.append((losses, predict(net, place(images, [4] * 200, [4] * 200))))
    assert runs[0][0] == runs[1][0]  # the same losses, bit for bit
    assert np.array_equal(runs[0][1], runs[1][1])
    assert runs[0][0][-1] < runs[0][0][0]  # the loss falls


def test_moved_corners_move_by_d_along_one_axis_and_stay_on_the_canvas():
    for d in range(0, 9):
        first, second = moved_corners(500, d, seed=d)
        steps = second - first
        assert set(map(tuple, steps)) <= {(d, 0), (0, d)}
        if d:
            assert {(d, 0), (0, d)} <= set(map(tuple, steps))  # both directions occur
        assert first.min() >= 0 and second.max() <= CANVAS - 8


@pytest.mark.parametrize('rows, cols, error, words', [
    ([9, 0], [0, 0], ValueError, ['rows', 'from 0 to 8', 'rows[0] = 9']),
    ([-1, 0], [0, 0], ValueError, ['rows', 'rows[0] = -1']),
    ([0, 0], [0, 9], ValueError, ['cols', 'cols[1] = 9']),
    ([0], [0, 0], ValueError, ['rows', '2 corners']),
    ([0, 0], [0.0, 1.0], TypeError, ['cols', 'integers']),
])
def test_place_refuses_corners_off_the_canvas(rows, cols, error, words):
    images = np.ones((2, 8, 8))
    with pytest.raises(error) as info:
        place(images, rows, cols)
    for word in words:
        assert word in str(info.value), str(info.value)


def test_place_accepts_the_last_corner_that_fits():
    # 16 - 8 = 8: an image at (8, 8) fills the bottom-right quarter exactly.
    X = place(np.ones((1, 8, 8)), np.array([8]), np.array([8]))
    assert X[0, 0, 8:, 8:].sum() == 64 and X.sum() == 64


@pytest.mark.parametrize('d, error', [(9, ValueError), (-1, ValueError),
                                      (1.0, TypeError)])
def test_moved_corners_refuses_a_move_off_the_canvas(d, error):
    with pytest.raises(error) as info:
        moved_corners(3, d, 0)
    assert str(info.value).startswith('d must be')
