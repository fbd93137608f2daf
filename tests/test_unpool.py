"""pool2d_with_indices and max_unpool2d (poolbook.unpool).

Where the expected values come from: PyTorch's own operators (F.max_pool2d with
return_indices=True, F.max_unpool2d, autograd through F.max_pool2d), a plain loop over
windows written here, and cases worked out by hand; never the code's own output.
"""
import mxnet as mx
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mxnet import nd

import poolbook
from poolbook import pool2d, pool2d_backward
from poolbook.unpool import max_unpool2d, pool2d_with_indices

SETTINGS = [(k, s, p, ceil) for k in [1, 2, 3, (2, 3), (4, 4)] for s in [1, 2, 3, (1, 2)]
            for p in [0, 1] for ceil in [False, True]
            if 2 * p <= min(k if isinstance(k, tuple) else (k, k))]


def torch_pool(X, k, s, p, ceil):
    Y, I = F.max_pool2d(torch.from_numpy(X), k, s, p, ceil_mode=ceil, return_indices=True)
    return Y.numpy(), I.numpy()


def test_the_package_exports_them():
    assert poolbook.pool2d_with_indices is pool2d_with_indices
    assert poolbook.max_unpool2d is max_unpool2d


def test_indices_by_hand():
    X = np.array([[1, 3, 3],
                  [3, 0, 3],
                  [2, 3, 1]], np.float32)
    Y, I = pool2d_with_indices(X, 2)
    # Every window's maximum is 3; the first 3 in row-major order of each window.
    assert Y.tolist() == [[3, 3], [3, 3]] and I.tolist() == [[1, 1], [3, 5]]
    U = max_unpool2d(Y, I, (3, 3))
    assert U.tolist() == [[0, 3, 0], [3, 0, 3], [0, 0, 0]]


@pytest.mark.parametrize('kind', ['random', 'ties'])
def test_values_and_indices_equal_pytorch(kind):
    rng = np.random.default_rng(0)
    for k, s, p, ceil in SETTINGS:
        X = (rng.standard_normal((2, 3, 7, 8)) if kind == 'random'
             else rng.integers(-2, 3, (2, 3, 7, 8))).astype(np.float32)
        Y, I = pool2d_with_indices(X, k, strides=s, padding=p, ceil_mode=ceil)
        want_Y, want_I = torch_pool(X, k, s, p, ceil)
        np.testing.assert_array_equal(Y, want_Y, err_msg=f'{k} {s} {p} {ceil}')
        np.testing.assert_array_equal(I, want_I, err_msg=f'{k} {s} {p} {ceil}')
        assert I.dtype == np.int64


def test_integers_float64_and_large_windows_equal_pytorch():
    rng = np.random.default_rng(1)
    for X in [rng.integers(-50, 50, (2, 2, 6, 9)), rng.standard_normal((1, 2, 6, 9))]:
        for k, s, p in [(6, 1, 0), ((6, 9), 1, 0), (5, 4, 2), (3, 5, 1)]:
            Y, I = pool2d_with_indices(X, k, strides=s, padding=p)
            want_Y, want_I = torch_pool(X, k, s, p, False)
            assert Y.dtype == X.dtype
            np.testing.assert_array_equal(Y, want_Y)
            np.testing.assert_array_equal(I, want_I)


def test_nan_windows_name_their_last_nan_as_pytorch_does():
    X = np.array([[1, np.nan, 3],
                  [np.nan, 5, 2],
                  [0, 1, 2]], np.float32)
    Y, I = pool2d_with_indices(X, 2)
    want_Y, want_I = torch_pool(X[None, None], 2, 1, 0, False)
    np.testing.assert_array_equal(Y, want_Y[0, 0])
    assert I.tolist() == want_I[0, 0].tolist() == [[3, 1], [3, 4]]  # by hand: last NaN
    # pool2d_backward sends a NaN window's gradient to its first NaN instead.
    G = pool2d_backward(X, np.ones((2, 2), np.float32), 2)
    assert G[0, 1] == 2 and G[1, 0] == 1   # windows (0, 0), (0, 1) -> cell 1; (1, 0) -> 3


def test_windows_of_minus_infinity_and_padding_only_name_their_first_cell():
    X = np.full((1, 1, 3, 3), -np.inf, np.float32)
    for p in (0, 1):
        Y, I = pool2d_with_indices(X, 2, padding=p)
        want_Y, want_I = torch_pool(X, 2, 1, p, False)
        np.testing.assert_array_equal(Y, want_Y)
        np.testing.assert_array_equal(I, want_I)


def test_unpool_equals_pytorch_including_duplicates():
    rng = np.random.default_rng(2)
    for k, s, p, ceil in SETTINGS:
        X = rng.integers(-2, 3, (2, 3, 7, 8)).astype(np.float32)
        Y, I = pool2d_with_indices(X, k, strides=s, padding=p, ceil_mode=ceil)
        V = rng.standard_normal(Y.shape).astype(np.float32)  # distinct values per cell
        want = F.max_unpool2d(torch.from_numpy(V), torch.from_numpy(I), k, s, p,
                              output_size=(7, 8)).numpy()
        np.testing.assert_array_equal(max_unpool2d(V, I, (7, 8)), want,
                                      err_msg=f'{k} {s} {p} {ceil}')


def loop_unpool(V, I, size):
    """Scatter one value at a time in row-major order: a later value overwrites."""
    out = np.zeros(V.shape[:-2] + size, V.dtype)
    flat = out.reshape(-1, size[0] * size[1])
    for m, (values, indices) in enumerate(zip(V.reshape(len(flat), -1),
                                               I.reshape(len(flat), -1))):
        for v, i in zip(values, indices):
            flat[m, i] = v
    return out


def test_unpool_equals_a_loop_for_any_indices():
    rng = np.random.default_rng(3)
    for shape, size in [((4, 5), (3, 3)), ((2, 3, 3), (2, 2)), ((2, 2, 3, 4), (5, 1))]:
        V = rng.standard_normal(shape)
        I = rng.integers(0, size[0] * size[1], shape)
        np.testing.assert_array_equal(max_unpool2d(V, I, size), loop_unpool(V, I, size))


def test_unpool_of_dy_is_the_backward_pass_unless_windows_share_a_cell():
    rng = np.random.default_rng(4)
    for k, s in [(2, 2), (3, 3), ((2, 3), (2, 3)), (2, 3), (3, 2), (2, 1), (3, 1)]:
        X = rng.standard_normal((2, 3, 9, 9))
        Y, I = pool2d_with_indices(X, k, strides=s)
        dY = rng.standard_normal(Y.shape)
        unpooled, backward = max_unpool2d(dY, I, (9, 9)), pool2d_backward(X, dY, k, strides=s)
        torch_X = torch.from_numpy(X).requires_grad_()
        F.max_pool2d(torch_X, k, s).backward(torch.from_numpy(dY))
        np.testing.assert_allclose(backward, torch_X.grad.numpy(), rtol=1e-12, atol=1e-12)
        shared = (np.apply_along_axis(np.bincount, -1, I.reshape(6, -1), minlength=81)
                  > 1).any()
        assert np.array_equal(unpooled, backward) == (not shared), (k, s)
    # By hand: a 9 in the middle column is the maximum of both 2 x 2 windows at stride 1.
    X = np.array([[0, 9, 0], [0, 0, 0]], np.float32)
    Y, I = pool2d_with_indices(X, 2)
    assert I.tolist() == [[1, 1]]
    dY = np.array([[1, 2]], np.float32)
    assert max_unpool2d(dY, I, (2, 3)).tolist() == [[0, 2, 0], [0, 0, 0]]  # the last
    assert pool2d_backward(X, dY, 2).tolist() == [[0, 3, 0], [0, 0, 0]]     # the sum


def test_kinds_and_shapes():
    X = np.random.default_rng(5).standard_normal((2, 3, 6, 6)).astype(np.float32)
    Y, I = pool2d_with_indices(nd.array(X), 2, strides=2)
    assert isinstance(Y, nd.NDArray) and isinstance(I, nd.NDArray) and I.dtype == np.int64
    U = max_unpool2d(Y, I, 6)
    assert isinstance(U, nd.NDArray) and U.shape == (2, 3, 6, 6)
    Y2, I2 = pool2d_with_indices(mx.np.array(X), 2, strides=2)
    assert isinstance(Y2, mx.np.ndarray)
    np.testing.assert_array_equal(I2.asnumpy(), I.asnumpy())
    for shape in [(6, 6), (3, 6, 6)]:
        Y, I = pool2d_with_indices(X[0, :shape[0] if len(shape) == 3 else 1].reshape(shape), 2)
        assert Y.shape == I.shape == shape[:-2] + (5, 5)
        assert max_unpool2d(Y, I, (6, 6)).shape == shape
    assert pool2d(X, 2)[0, 0, 0, 0] == pool2d_with_indices(X, 2)[0][0, 0, 0, 0]


@pytest.mark.parametrize('Y, indices, size, error, word', [
    (np.ones((2, 2)), np.zeros((2, 3), np.int64), (3, 3), ValueError, "Y's shape"),
    (np.ones((2, 2)), np.zeros((2, 2)), (3, 3), TypeError, 'integers'),
    (np.ones((2, 2)), np.full((2, 2), 9), (3, 3), ValueError, 'indices[0, 0] = 9'),
    (np.ones((2, 2)), np.full((2, 2), -1), (3, 3), ValueError, 'H * W - 1 = 8'),
    (np.ones((2, 2)), np.zeros((2, 2), np.int64), (0, 3), ValueError, 'output_size'),
    (np.ones((2, 2)), [[0, 0], [0, 0]], (3, 3), TypeError, 'indices'),
    (np.ones(4), np.zeros(4, np.int64), (3, 3), ValueError, 'Y'),
    (np.ones((2, 2), bool), np.zeros((2, 2), np.int64), (3, 3), TypeError, 'Y'),
])
def test_bad_unpool_arguments_are_refused(Y, indices, size, error, word):
    with pytest.raises(error) as info:
        max_unpool2d(Y, indices, size)
    assert word in str(info.value)


def test_bad_pooling_arguments_are_refused_and_inputs_unchanged():
    X = np.arange(16.0).reshape(4, 4)
    with pytest.raises(ValueError, match='padding'):
        pool2d_with_indices(X, 2, padding=2)
    with pytest.raises(ValueError, match='pool_size'):
        pool2d_with_indices(X, 5)
    X.flags.writeable = False
    Y, I = pool2d_with_indices(X, 2)
    assert np.array_equal(X, np.arange(16.0).reshape(4, 4))
    I.flags.writeable = False
    max_unpool2d(Y, I, 4)


def test_mxnet_has_no_pooling_with_indices_and_no_unpooling():
    # Chapter 10 compares with PyTorch because of this.
    names = [n.lower() for n in dir(nd) + dir(nd.contrib)]
    assert not [n for n in names if 'unpool' in n]
    assert 'indices' not in nd.Pooling.__doc__ and 'index' not in nd.Pooling.__doc__


def test_pytorch_refuses_max_unpool2d_in_deterministic_mode():
    # PyTorch documents max_unpool as nondeterministic when indices repeat; the "last one
    # stays" agreement above is an observation of its CPU kernel, not a contract.
    _, I = F.max_pool2d(torch.tensor([[[[0., 9., 0.], [0., 0., 0.]]]]), 2, 1,
                        return_indices=True)
    assert I.flatten().tolist() == [1, 1]
    torch.use_deterministic_algorithms(True)
    try:
        with pytest.raises(RuntimeError, match='does not have a deterministic'):
            F.max_unpool2d(torch.tensor([[[[1., 2.]]]]), I, 2, 1)
    finally:
        torch.use_deterministic_algorithms(False)


def test_ties_go_to_the_first_maximum_in_mxnet_pytorch_and_ours():
    rng = np.random.default_rng(7)
    for k, s in [(2, 2), (3, 3), ((2, 3), (2, 3)), (2, 3)]:  # windows that never overlap
        X = rng.integers(0, 2, (2, 3, 7, 8)).astype(np.float32)  # ties everywhere
        Y, I = pool2d_with_indices(X, k, strides=s)
        x = nd.array(X)
        x.attach_grad()
        with mx.autograd.record():
            y = nd.Pooling(x, kernel=(k, k) if isinstance(k, int) else k,
                           stride=(s, s) if isinstance(s, int) else s, pool_type='max')
        y.backward(nd.ones_like(y))
        ones = np.ones_like(Y)
        np.testing.assert_array_equal(max_unpool2d(ones, I, (7, 8)), x.grad.asnumpy())
        t = torch.from_numpy(X).requires_grad_()
        F.max_pool2d(t, k, s).backward(torch.ones(Y.shape))
        np.testing.assert_array_equal(max_unpool2d(ones, I, (7, 8)), t.grad.numpy())
