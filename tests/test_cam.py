"""class_activation_map (poolbook.cam).

Where the expected values come from: the network's own scores (poolbook.tinynet.logits,
the engine's float32 forward pass, checked against Gluon and PyTorch in test_tinynet),
PyTorch's global average pooling and dense layer applied to the same maps, and a case
worked out by hand; never the function's own output.
"""
import mxnet as mx
import numpy as np
import pytest
import torch
from mxnet import nd

from poolbook import tinynet, training
from poolbook.cam import class_activation_map


@pytest.fixture(scope='module')
def network():
    """A GAP-head network with random (untrained) parameters, nonzero biases, and the maps
    of 12 digits placed on canvases: the defining property holds for any parameters."""
    rng = np.random.RandomState(3)
    theta = tinynet.init_params('max', 'global', seed=1)
    theta += rng.uniform(-0.05, 0.05, theta.shape).astype(theta.dtype)
    images, labels = training.digits()
    X = training.place(images[:12], *rng.randint(0, 9, (2, 12)))
    maps, weights, biases = tinynet.gap_maps(theta, 'max', X)
    scores = tinynet.logits(theta, 'max', X, 'global')
    return maps, weights, biases, scores


def test_its_mean_plus_the_bias_is_the_networks_score(network):
    maps, weights, biases, scores = network
    assert maps.shape == (12, 10, 4, 4) and weights.shape == (10, 10)
    # PyTorch: the same head (global average pooling, then a dense layer) on the same maps
    head = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                               torch.nn.Linear(10, 10).double())
    with torch.no_grad():
        head[2].weight.copy_(torch.from_numpy(weights))
        head[2].bias.copy_(torch.from_numpy(biases))
        torch_scores = head(torch.from_numpy(maps)).numpy()
    for c in range(10):
        cam = class_activation_map(maps, weights, c)
        assert cam.shape == (12, 4, 4) and cam.dtype == np.float64
        ours = cam.mean(axis=(1, 2)) + biases[c]
        np.testing.assert_allclose(ours, torch_scores[:, c], rtol=1e-12, atol=1e-12)
        # the engine computes in float32: equal up to float32's rounding
        assert training.agrees(scores[:, c], ours, rtol=1e-5)
    # one class per image, and one image at a time, give the same maps
    each = class_activation_map(maps, weights, np.arange(12) % 10)
    for n in range(12):
        one = class_activation_map(maps[n], weights, n % 10)
        assert one.shape == (4, 4) and np.array_equal(each[n], one)
        assert np.array_equal(one, class_activation_map(maps, weights, n % 10)[n])


def test_values_by_hand():
    F = np.array([[[1, 2],
                   [3, 4]],
                  [[0, 1],
                   [-1, 2]]], np.float32)  # two channels, 2 x 2
    W = np.array([[1, 0],
                  [2, -3],
                  [0.5, 0.5]], np.float32)  # three classes
    # class 1: 2 * F[0] - 3 * F[1]
    assert class_activation_map(F, W, 1).tolist() == [[2, 1], [9, 2]]
    assert class_activation_map(F, W, 2).tolist() == [[0.5, 1.5], [1, 3]]
    assert class_activation_map(F, W, 0).dtype == np.float32
    assert class_activation_map(F.astype(np.int64), W.astype(np.float32),
                                0).dtype == np.float64
    batch = class_activation_map(np.stack([F, 2 * F]), W, np.array([1, 0]))
    assert batch.tolist() == [[[2, 1], [9, 2]], [[2, 4], [6, 8]]]


def test_kinds_and_the_input_is_unchanged():
    rng = np.random.default_rng(0)
    F, W = rng.standard_normal((3, 5, 5)), rng.standard_normal((4, 3))
    F.flags.writeable = W.flags.writeable = False
    expected = W[2, 0] * F[0] + W[2, 1] * F[1] + W[2, 2] * F[2]  # the same order
    assert np.array_equal(class_activation_map(F, W, 2), expected)
    out = class_activation_map(nd.array(F, dtype='float64'), W, 2)
    assert isinstance(out, nd.NDArray) and np.array_equal(out.asnumpy(), expected)
    out = class_activation_map(mx.np.array(F, dtype='float64'), W, np.int32(2))
    assert isinstance(out, mx.np.ndarray) and np.array_equal(out.asnumpy(), expected)


@pytest.mark.parametrize('maps, weights, label, error, match', [
    ([[[1.0]]], np.ones((2, 1)), 0, TypeError, 'maps must be a numpy array'),
    (np.ones((2, 2)), np.ones((2, 1)), 0, ValueError, 'maps must have shape'),
    (np.ones((1, 0, 2)), np.ones((2, 1)), 0, ValueError, 'maps must not have an empty'),
    (np.ones((1, 2, 2), complex), np.ones((2, 1)), 0, TypeError, 'maps must hold real'),
    (np.ma.ones((1, 2, 2)), np.ones((2, 1)), 0, TypeError, 'maps is a numpy masked'),
    (np.ones((1, 2, 2)), [[1.0]], 0, TypeError, 'weights must be a numpy array'),
    (np.ones((1, 2, 2)), np.ones(2), 0, ValueError, 'weights must have shape'),
    (np.ones((1, 2, 2)), np.ones((2, 0)), 0, ValueError, 'weights must have shape'),
    (np.ones((1, 2, 2)), np.ones((2, 3)), 0, ValueError, 'one column per channel'),
    (np.ones((1, 2, 2)), np.ones((2, 1), bool), 0, TypeError, 'weights must hold real'),
    (np.ones((1, 2, 2)), np.ones((2, 1)), 2, ValueError, 'label must lie from 0 to 1'),
    (np.ones((1, 2, 2)), np.ones((2, 1)), -1, ValueError, 'label must lie'),
    (np.ones((1, 2, 2)), np.ones((2, 1)), True, TypeError, 'label must be an int'),
    (np.ones((1, 2, 2)), np.ones((2, 1)), 1.0, TypeError, 'label must be an int'),
    (np.ones((1, 2, 2)), np.ones((2, 1)), np.array([0]), TypeError, 'label must be'),
    (np.ones((2, 1, 2, 2)), np.ones((2, 1)), np.array([0]), ValueError, 'one class per'),
    (np.ones((2, 1, 2, 2)), np.ones((2, 1)), np.array([0, 2]), ValueError, 'label must lie'),
    (np.ones((2, 1, 2, 2)), np.ones((2, 1)), np.array([0., 1.]), TypeError,
     'label must hold integers'),
])
def test_bad_input_is_refused(maps, weights, label, error, match):
    with pytest.raises(error, match=match):
        class_activation_map(maps, weights, label)
