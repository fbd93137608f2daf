"""Anti-aliased pooling (Zhang, "Making Convolutional Networks Shift-Invariant Again",
ICML 2019): blur with a small binomial filter before subsampling, so that a shift of the
input by one pixel moves the output smoothly instead of making it jump.

Conventions (tested in tests/test_antialias.py):

* The filter of size f is row f - 1 of Pascal's triangle, outer itself, divided by its
  sum: size 3 is [1, 2, 1] / 4 along each axis. Size 1 is [1]: plain subsampling.
* The edge: before blurring, the input is padded by reflection about its border cell
  (numpy's mode 'reflect': ... 2 1 | 0 1 2 ...), floor((f - 1) / 2) cells before and
  ceil((f - 1) / 2) after, as Zhang's code pads. Every output is an average of real cells.
* Output shape: blur_pool2d at stride s gives ceil(H / s) x ceil(W / s), which for H and W
  divisible by s (even, at stride 2) is the shape of pool2d(X, s, strides=s).
  max_blur_pool2d(X, k, strides=s) always has the shape of pool2d(X, k, strides=s), so it
  can replace a pooling layer.
* dtypes as for average pooling: sums in float32 for float16 and float32, in float64 for
  float64 and integers; the result in the input's float dtype, or float64 for integers.
* Memory: the input is read and converted a few maps at a time (`adaptive.chunks`), as
  pool2d reads it; max_blur_pool2d holds its stride-1 maximum, about the input's size.
"""
import numpy as np

from poolbook.adaptive import chunks
from poolbook.arrays import like_input, mean_dtype, sum_dtype
from poolbook.checks import as_pair, check_filter_size, check_input, check_pool_args
from poolbook.pooling import pool2d


def binomial_filter(filter_size):
    """The normalized 1-D binomial filter: [1, 2, 1] / 4 for size 3."""
    check_filter_size(filter_size)
    row = np.array([1.0])
    for _ in range(filter_size - 1):
        row = np.convolve(row, [1.0, 1.0])  # next row of Pascal's triangle
    return row / row.sum()


def blur_axis(A, axis, weights, stride):
    """Blur A along one axis (-2: rows, -1: columns) with `weights`, padding by
    reflection; keep every `stride`-th result."""
    f, n = len(weights), A.shape[axis]
    pad = [(0, 0)] * A.ndim
    pad[axis] = ((f - 1) // 2, f // 2)
    P = np.pad(A, pad, mode='reflect')
    out = -(-n // stride)  # ceil(n / stride)
    Y = 0
    for a, w in enumerate(weights):  # one strided slice per filter tap
        Y = Y + w * np.take(P, range(a, a + stride * (out - 1) + 1, stride), axis=axis)
    return Y


def blur_pool2d(X, *, strides=2, filter_size=3):
    """Blur each channel of X with a binomial filter; keep every strides-th cell."""
    check_input(X, ndims=(2, 3, 4))
    s_h, s_w = as_pair(strides, 'strides', minimum=1)
    dtype = sum_dtype(X.dtype)  # float32 for float16 and float32, float64 otherwise
    weights = binomial_filter(filter_size).astype(dtype)
    out_hw = (-(-X.shape[-2] // s_h), -(-X.shape[-1] // s_w))  # ceil(n / stride)
    Y, blocks = chunks(X, out_hw, dtype, mean_dtype(X.dtype))
    for M, Z in blocks:  # a few maps at a time, converted to `dtype`
        Z[...] = blur_axis(blur_axis(M, -2, weights, s_h), -1, weights, s_w)
    return like_input(Y, X)


def max_blur_pool2d(X, pool_size=2, *, strides=2, filter_size=3):
    """Max pooling at stride 1, then blur_pool2d: Zhang's anti-aliased max pooling."""
    check_pool_args(X, pool_size, 'max', strides)
    check_filter_size(filter_size)
    dense = pool2d(X, pool_size, 'max', strides=1)  # X's kind and dtype
    return blur_pool2d(dense, strides=strides, filter_size=filter_size)
