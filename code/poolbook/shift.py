"""Measuring what a shift of the input does to a pooled map, and to a classifier.

* `shift(X, d_h, d_w, shape)`: the crop of X that starts d_h rows down and d_w columns
  right, i.e. the picture moved up and left: Z[i, j] = X[i + d_h, j + d_w];
* `shift_change(pool, X, d_h, d_w, shape, strides)`: how much `pool`'s output changes
  when its input moves, after moving the output back by the whole output cells the shift
  spans, away from the border;
* `consistency(a, b)`: Zhang's consistency, the fraction of two label lists that agree.
"""
import numpy as np

from poolbook.arrays import like_input, to_numpy
from poolbook.checks import as_pair, check_callable, check_input, check_values


def shift(X, d_h, d_w, shape):
    """The shape (h, w) crop of X starting at row d_h, column d_w: Z[i, j] = X[i+d_h, j+d_w]."""
    check_input(X, ndims=(2, 3, 4))
    A = to_numpy(X)
    h, w = as_pair(shape, 'shape', minimum=1)
    d_h, d_w = as_pair((d_h, d_w), '(d_h, d_w)', minimum=0)
    if d_h + h > A.shape[-2] or d_w + w > A.shape[-1]:
        raise ValueError(f"a {(h, w)} crop at ({d_h}, {d_w}) does not fit in X, whose "
                         f"spatial shape is {tuple(A.shape[-2:])}")
    return like_input(A[..., d_h:d_h + h, d_w:d_w + w].copy(), X)  # never a view of X


def relative_change(Y, Z):
    """The size of Z - Y relative to that of Y: ||Z - Y|| / ||Y|| (Frobenius norms)."""
    check_values(Y, 'Y')
    check_values(Z, 'Z')
    Y, Z = to_numpy(Y, 'Y').astype(np.float64), to_numpy(Z, 'Z').astype(np.float64)
    if Y.shape != Z.shape:
        raise ValueError(f"Y and Z must have the same shape, got {Y.shape} and {Z.shape}")
    if not Y.any():
        raise ValueError("Y is all zeros: the relative change is undefined")
    # Scale first, so that neither Z - Y nor a sum of squares overflows (values near
    # 1e200) or underflows (near 1e-200): s and m are powers of the values' own size.
    s, m = max(np.abs(Y).max(), np.abs(Z).max()), np.abs(Y).max()
    if not np.isfinite(s):
        return float('nan')  # NaN propagates; a change to or from inf has no size
    D = Z / s - Y / s
    d = np.abs(D).max()
    change = 0.0 if d == 0 else d * np.linalg.norm(D / d)  # ||Z - Y|| / s
    with np.errstate(over='ignore'):  # beyond float64: inf, as the true ratio is
        return float((s / m) * (change / np.linalg.norm(Y / m)))


def shift_change(pool, X, d_h, d_w, shape, strides, border=1):
    """Relative change of pool(crop) when the crop moves by (d_h, d_w), compared on the
    cells both outputs cover after moving the shifted output back by (d_h, d_w) // strides,
    leaving out `border` cells at each edge (their windows reach past the crop)."""
    check_callable(pool, 'pool')
    check_input(X, ndims=(2, 3, 4))
    s_h, s_w = as_pair(strides, 'strides', minimum=1)
    border, _ = as_pair(border, 'border', minimum=0)
    Y = to_numpy(pool(shift(X, 0, 0, shape)), 'Y')
    Z = to_numpy(pool(shift(X, d_h, d_w, shape)), 'Z')
    m_h, m_w = d_h // s_h, d_w // s_w  # whole output cells the shift spans
    n_h, n_w = Y.shape[-2] - m_h, Y.shape[-1] - m_w
    Y, Z = Y[..., m_h:, m_w:], Z[..., :n_h, :n_w]
    if border:
        inner = (Ellipsis, slice(border, -border), slice(border, -border))
        Y, Z = Y[inner], Z[inner]
    if Y.size == 0:
        raise ValueError(f"no output cell is left to compare: shape={shape} is too small "
                         f"for a shift of ({d_h}, {d_w}) with border={border}")
    if not Y.any():
        raise ValueError("pool of X's unshifted crop is all zeros (away from the border): "
                         "the relative change is undefined")
    return relative_change(Y, Z)


def consistency(a, b):
    """Fraction of positions where the labels a and b agree (Zhang's consistency)."""
    check_values(a, 'a')
    check_values(b, 'b')
    a, b = to_numpy(a, 'a'), to_numpy(b, 'b')
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    return float(np.mean(a == b))
