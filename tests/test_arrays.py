"""Tests of poolbook.arrays: which arrays go in, what comes back, and what is refused."""
import tracemalloc

import mxnet as mx
import numpy as np
import pytest
from mxnet import nd

from poolbook.arrays import (as_ndarray, check_kind, leading_axes_merge, like_input,
                             map_chunks, mean_dtype, sum_dtype, to_numpy)

X = np.arange(12, dtype=np.float32).reshape(3, 4)


def test_numpy_input_is_returned_without_copy():
    A = to_numpy(X)
    assert type(A) is np.ndarray and A is X


@pytest.mark.parametrize('make', [
    lambda: np.asfortranarray(X),
    lambda: X[:, ::2],
    lambda: X.T,
])
def test_views_stay_views(make):
    V = make()
    A = to_numpy(V)
    assert type(A) is np.ndarray and np.shares_memory(A, V)
    np.testing.assert_array_equal(A, V)


def test_read_only_input_stays_read_only_and_unchanged():
    V = X.copy()
    V.flags.writeable = False
    A = to_numpy(V)
    assert np.shares_memory(A, V) and not A.flags.writeable


def test_matrix_becomes_a_plain_2d_array_view():
    M = X.view(np.matrix)  # np.matrix(X) would warn (PendingDeprecationWarning)
    A = to_numpy(M)
    assert type(A) is np.ndarray and A.shape == (3, 4) and np.shares_memory(A, M)


def test_memmap_becomes_a_plain_view(tmp_path):
    M = np.memmap(tmp_path / 'x.dat', dtype=np.float32, mode='w+', shape=(3, 4))
    M[:] = X
    A = to_numpy(M)
    assert type(A) is np.ndarray and np.shares_memory(A, M)
    np.testing.assert_array_equal(A, X)


@pytest.mark.parametrize('dtype', ['>f4', '>i8', '>u2', '>f2'])
def test_big_endian_becomes_native_with_the_same_values(dtype):
    B = X.astype(dtype)
    A = to_numpy(B)
    assert A.dtype.isnative and A.dtype == np.dtype(dtype).newbyteorder('=')
    np.testing.assert_array_equal(A, X)


@pytest.mark.parametrize('make', [nd.array, mx.np.array])
@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.float16, np.uint8, np.int8,
                                   np.int32, np.int64])
def test_mxnet_arrays_become_numpy_with_their_dtype(make, dtype):
    A = to_numpy(make(X.astype(dtype), dtype=dtype))
    assert type(A) is np.ndarray and A.dtype == dtype
    np.testing.assert_array_equal(A, X.astype(dtype))


@pytest.mark.parametrize('bad', [[[1, 2], [3, 4]], (1, 2), 3.0, 7, None, 'abc'])
def test_non_arrays_are_refused_naming_the_parameter(bad):
    with pytest.raises(TypeError, match='^K must be'):
        to_numpy(bad, name='K')


def test_masked_arrays_are_refused_and_told_what_to_do():
    with pytest.raises(TypeError, match=r'X is a numpy masked array.*X\.filled'):
        to_numpy(np.ma.masked_array(X, X > 5))
    with pytest.raises(TypeError, match='masked'):
        check_kind(np.ma.masked_array(X), 'X')   # even without any masked cell


def test_like_input_keeps_numpy_as_numpy():
    Y = np.ones((2, 2), np.float64)
    assert like_input(Y, X) is Y


@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.float16, np.uint8, np.int8,
                                   np.int64, np.bool_])
def test_like_input_gives_an_ndarray_in_the_results_dtype(dtype):
    Y = (np.arange(6).reshape(2, 3) % 2).astype(dtype)
    Z = like_input(Y, nd.ones((1, 1), ctx=mx.cpu(0)))
    assert type(Z) is nd.NDArray and Z.dtype == dtype and Z.context == mx.cpu(0)
    np.testing.assert_array_equal(Z.asnumpy(), Y)


def test_like_input_on_a_non_contiguous_result():
    Y = np.arange(12.0).reshape(3, 4)[:, ::2]
    Z = like_input(Y, nd.ones((1, 1)))
    np.testing.assert_array_equal(Z.asnumpy(), Y)


def test_like_input_gives_mx_np_for_mx_np_without_warning():
    Y = np.arange(6.0).reshape(2, 3)
    Z = like_input(Y, mx.np.ones((1, 1)))   # warnings are errors under pytest (pyproject)
    assert type(Z) is mx.np.ndarray and Z.dtype == np.float64
    np.testing.assert_array_equal(Z.asnumpy(), Y)


def test_like_input_keeps_the_context():
    X_ctx = nd.ones((1, 1), ctx=mx.cpu(1))
    Z = like_input(np.ones((2, 2), np.float32), X_ctx)
    assert Z.context == mx.cpu(1)


# map_chunks: a few maps at a time, copying only those that must be copied.

B = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)


@pytest.mark.parametrize('make, is_view', [
    (lambda: B, True), (lambda: B[1:], True), (lambda: B[:, 1:], False), (lambda: B[0], True),
    (lambda: B[0, 0], True), (lambda: B[:, :, ::2], True),
    (lambda: np.asfortranarray(B), False), (lambda: B.transpose(1, 0, 2, 3), False),
    (lambda: B.astype('>f4'), False), (lambda: nd.array(B), False),
    (lambda: mx.np.array(B), False)])
def test_map_chunks_gives_every_map_in_order(make, is_view):
    X = make()
    A = X.asnumpy() if isinstance(X, nd.NDArray) else np.asarray(X)
    count, fetch = map_chunks(X)
    want = A.reshape((-1,) + A.shape[-2:])           # numpy's own reshape (may copy)
    assert count == len(want)
    got = np.concatenate([fetch(c, c + 4) for c in range(0, count, 4)])
    np.testing.assert_array_equal(got, want)
    assert got.dtype.isnative
    assert np.shares_memory(fetch(0, count), A) == is_view


def test_leading_axes_merge_only_without_a_copy():
    assert leading_axes_merge(B) and leading_axes_merge(B[1:, 2:]) and leading_axes_merge(B[0])
    assert not leading_axes_merge(np.asfortranarray(B))
    assert not leading_axes_merge(B[:, ::2])            # a gap between the two leading axes
    assert leading_axes_merge(np.asfortranarray(B)[:1, :1])  # single maps always merge


def test_map_chunks_of_fortran_order_copies_one_chunk_only():
    X = np.asfortranarray(np.ones((16, 16, 32, 32), np.float32))
    tracemalloc.start()
    count, fetch = map_chunks(X)
    chunk = fetch(0, 8)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 256 and chunk.shape == (8, 32, 32)
    assert peak < 2 * chunk.nbytes     # the whole input would be 32 times as much


# as_ndarray: for the functions that compute with MXNet's operators.


def test_as_ndarray_keeps_an_ndarray_of_the_right_dtype():
    X = nd.ones((2, 2))
    assert as_ndarray(X) is X and as_ndarray(X, np.float32) is X
    Z = as_ndarray(X, np.float64)
    assert type(Z) is nd.NDArray and Z.dtype == np.float64


@pytest.mark.parametrize('make', [lambda: X, lambda: mx.np.array(X), lambda: X.astype('>f8'),
                                  lambda: np.asfortranarray(X)])
def test_as_ndarray_converts_other_kinds(make):
    Z = as_ndarray(make(), np.float64)
    assert type(Z) is nd.NDArray and Z.dtype == np.float64
    np.testing.assert_array_equal(Z.asnumpy(), X)


def test_sum_and_mean_dtypes():
    want_sum = {'float16': 'float32', 'float32': 'float32', 'float64': 'float64',
                'int8': 'float64', 'uint8': 'float64', 'int64': 'float64'}
    for dtype, want in want_sum.items():
        assert sum_dtype(dtype) == np.dtype(want)
        assert mean_dtype(dtype) == np.dtype(dtype if dtype.startswith('float') else 'float64')


# ------------------------------------------------------------------ gradients

def test_an_array_autograd_records_is_refused_never_a_silent_zero():
    # nd.Pooling's gradient of this max pooling is 1 at each window's maximum; poolbook
    # computes outside MXNet's graph, so its result would carry a gradient of 0.
    import poolbook
    from mxnet import autograd
    A = np.arange(16.0).reshape(1, 1, 4, 4)
    x = nd.array(A, dtype='float64')
    x.attach_grad()
    with autograd.record():
        y = nd.Pooling(x, kernel=(2, 2), stride=(2, 2), pool_type='max')
    y.backward()
    assert x.grad.asnumpy().sum() == 4  # the reference: a gradient that is not zero
    x_np = mx.np.array(A, dtype='float64')
    x_np.attach_grad()
    plain = nd.array(A, dtype='float64')  # no attach_grad: not part of any graph
    with autograd.record():
        for graph_array in (x, x * 2, x_np, x_np + 1):
            with pytest.raises(TypeError, match=r"^X is an MXNet array that autograd "
                                                r"is recording.*silently 0.*X\.detach"):
                poolbook.pool2d(graph_array, 2, strides=2)
            with pytest.raises(TypeError, match='autograd is recording'):
                to_numpy(graph_array)
        # Arrays outside the graph, and a graph array's values, pass.
        want = y.asnumpy()
        np.testing.assert_array_equal(poolbook.pool2d(plain, 2, strides=2).asnumpy(), want)
        np.testing.assert_array_equal(poolbook.pool2d(x.detach(), 2, strides=2).asnumpy(),
                                      want)
    # Outside record() nothing is recorded, so nothing is refused; the package's own
    # gradient, pool2d_backward, is nd.Pooling's.
    np.testing.assert_array_equal(poolbook.pool2d(x, 2, strides=2).asnumpy(), want)
    np.testing.assert_array_equal(
        poolbook.pool2d_backward(x, nd.ones_like(y), 2, strides=2).asnumpy(),
        x.grad.asnumpy())


def test_sparse_ndarrays_are_refused_naming_the_storage_type():
    dense = np.arange(16.0, dtype=np.float32).reshape(4, 4)
    for sparse in (nd.sparse.csr_matrix(dense), nd.array(dense).tostype('row_sparse')):
        with pytest.raises(TypeError, match=rf"^X is a sparse NDArray \(storage type "
                                            rf"'{sparse.stype}'\).*tostype\('default'\)"):
            check_kind(sparse)
