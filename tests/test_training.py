"""Chapter 7's digit classifier in Gluon and its data (poolbook.training): placing digits,
the downsampling layers and heads, the moved positions, and the comparison of seeds.

Expected values: the blur layer against poolbook.blur_pool2d (itself tested against
MXNet), shapes worked out by hand, sklearn's own digits, and means and standard errors
computed by hand in the comments.
"""
import numpy as np
import pytest
import torch
from mxnet import nd

from poolbook.antialias import blur_pool2d
from poolbook.tinynet import init_params
from poolbook.training import (CANVAS, CHANNELS, DOWNSAMPLINGS, BlurPool2D, TorchBlurPool2d,
                               agrees, clear_compare, standard_errors,
                               compare, digits, downsampling, gluon_loss_and_gradient,
                               gluon_net, make_net, moved_corners, place, torch_downsampling,
                               torch_loss_and_gradient, torch_net)


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


@pytest.mark.parametrize('head, layers', [('dense', 5), ('global', 6)])
def test_both_heads_give_ten_scores(head, layers):
    net = make_net('max', head)
    assert len(net) == layers  # conv, down, conv, down, [global pooling,] dense
    net.initialize()
    net.cast('float64')
    assert net(nd.zeros((3, 1, 16, 16), dtype='float64')).shape == (3, 10)
    # The dense layer sees 12 x 4 x 4 cells, or one mean per channel.
    dense = net[-1].weight.shape
    assert dense == ((10, CHANNELS[1] * 16) if head == 'dense' else (10, CHANNELS[1]))


def test_unknown_downsampling_or_head_is_refused():
    with pytest.raises(ValueError, match='kind'):
        downsampling('min', 4)
    with pytest.raises(ValueError, match='head'):
        make_net('max', 'flat')


def test_gluon_net_refuses_parameters_of_another_network():
    with pytest.raises(ValueError, match='theta has'):
        gluon_net('max', init_params('avg', 'global'), 'dense')


def test_moved_corners_share_their_start_and_move_by_d_along_one_axis():
    first, moved = moved_corners(500, [1, 2, 3, 4], seed=0)
    assert first.shape == (500, 2)
    assert first.min() == 0 and first.max() == CANVAS - 8 - 4  # room for the largest d
    steps = {d: moved[d] - first for d in moved}
    for d, step in steps.items():
        assert set(map(tuple, step)) == {(d, 0), (0, d)}  # down or right, both occur
        assert moved[d].max() <= CANVAS - 8
    # Each digit moves along the same axis for every d: the positions differ by d alone.
    assert np.array_equal(steps[4], 4 * steps[1])


def test_moved_corners_keep_their_margin_on_a_larger_canvas():
    first, moved = moved_corners(400, [1, 4], seed=1, canvas=32, margin=8)
    assert first.min() == 8 and first.max() == 32 - 8 - 8 - 4  # from 8 to 12
    assert moved[4].max() == 16 and moved[4].max() + 8 <= 32 - 8


@pytest.mark.parametrize('distances, error', [([9], ValueError), ([1, -1], ValueError),
                                              ([1.0], TypeError), ([], ValueError)])
def test_moved_corners_refuses_a_move_off_the_canvas(distances, error):
    with pytest.raises(error) as info:
        moved_corners(3, distances, 0)
    assert 'distance' in str(info.value)


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


def test_compare_by_hand():
    # a: mean 3, sample variance 1; b: mean 1, variance 1. Standard error of the
    # difference sqrt(1/3 + 1/3) = 0.816; the difference 2 is more than 2 x 0.816.
    assert compare([2, 3, 4], [0, 1, 2]) == 'above'
    assert compare([0, 1, 2], [2, 3, 4]) == 'below'
    # Difference 1 < 2 x 0.816: within the spread.
    assert compare([1, 2, 3], [0, 1, 2]) == 'level'
    # No spread at all: any difference decides, none is level.
    assert compare([1, 1], [0.5, 0.5]) == 'above' and compare([1, 1], [1, 1]) == 'level'
    with pytest.raises(ValueError, match='at least two'):
        compare([1], [1, 2])


def test_standard_errors_and_clear_compare_by_hand():
    # As above: difference 2, standard error sqrt(2/3) = 0.8165, so 2.449 errors: 'above'
    # by compare, but within 0.5 of its threshold 2, so clear_compare refuses it.
    assert abs(standard_errors([2, 3, 4], [0, 1, 2]) - 2 / np.sqrt(2 / 3)) < 1e-12
    with pytest.raises(ValueError, match='too near the threshold'):
        clear_compare([2, 3, 4], [0, 1, 2])
    # Difference 3: 3.674 errors, clearly above; difference 1: 1.225 errors, level.
    assert clear_compare([3, 4, 5], [0, 1, 2]) == 'above'
    assert clear_compare([0, 1, 2], [3, 4, 5]) == 'below'
    assert clear_compare([1, 2, 3], [0, 1, 2]) == 'level'
    # Difference 1.5: 1.837 errors, level by compare but too near the threshold.
    with pytest.raises(ValueError, match='too near the threshold'):
        clear_compare([1.5, 2.5, 3.5], [0, 1, 2])
    assert standard_errors([1, 1], [0.5, 0.5]) == np.inf
    assert standard_errors([1, 1], [1, 1]) == 0.0
    with pytest.raises(ValueError, match='at least two'):
        standard_errors([1], [1, 2])


# --- the same network in PyTorch ----------------------------------------------------------

def test_torch_blur_layer_is_blur_pool2d():
    X = np.random.RandomState(3).rand(2, 4, 9, 10)
    Y = TorchBlurPool2d(4)(torch.from_numpy(X)).numpy()
    assert np.allclose(Y, blur_pool2d(X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('kind', DOWNSAMPLINGS)
@pytest.mark.parametrize('head', ['dense', 'global'])
def test_the_pytorch_network_is_the_gluon_network(kind, head):
    # Two frameworks, one set of parameters: the same scores, loss and gradients.
    images, labels = digits()
    rng = np.random.RandomState(4)
    X = place(images[:10], *rng.randint(0, 9, (2, 10)))
    theta = init_params(kind, head, seed=4).astype(np.float64)
    theta += rng.uniform(-0.05, 0.05, theta.shape)  # no bias left at zero
    gluon, pytorch = gluon_net(kind, theta, head), torch_net(kind, theta, head)
    scores = gluon(nd.array(X, dtype='float64')).asnumpy()
    assert np.allclose(pytorch(torch.from_numpy(X)).detach().numpy(), scores, rtol=1e-10,
                       atol=1e-12)
    loss, grads = gluon_loss_and_gradient(gluon, X, labels[:10])
    torch_loss, torch_grads = torch_loss_and_gradient(pytorch, X, labels[:10])
    assert abs(torch_loss - loss) < 1e-12 and len(grads) == len(torch_grads)
    for ours, theirs in zip(torch_grads, grads):
        assert np.allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_unknown_torch_downsampling_is_refused():
    with pytest.raises(ValueError, match='kind'):
        torch_downsampling('min', 4)


def test_agrees_by_hand():
    # The largest magnitude is 10, so rtol 1e-4 allows differences up to 1e-3.
    assert agrees([10.0, 1.0], [10.0, 1.0009])
    assert not agrees([10.0, 1.0], [10.0, 1.0011])
    with pytest.raises(ValueError, match='same shape'):
        agrees([1.0], [1.0, 2.0])
