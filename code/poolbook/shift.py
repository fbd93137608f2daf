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
from poolbook.checks import as_pair


def shift(X, d_h, d_w, shape):
    """The shape (h, w) crop of X starting at row d_h, column d_w: Z[i, j] = X[i+d_h, j+d_w]."""
    A = to_numpy(X)
    h, w = as_pair(shape, 'shape', minimum=1)
    d_h, d_w = as_pair((d_h, d_w), '(d_h, d_w)', minimum=0)
    if d_h + h > A.shape[-2] or d_w + w > A.shape[-1]:
        raise ValueError(f"a {(h, w)} crop at ({d_h}, {d_w}) does not fit in X, whose "
                         f"spatial shape is {tuple(A.shape[-2:])}")
    return like_input(A[..., d_h:d_h + h, d_w:d_w + w].copy(), X)  # never a view of X


def relative_change(Y, Z):
    """The size of Z - Y relative to that of Y: ||Z - Y|| / ||Y|| (Frobenius norms)."""
    Y, Z = to_numpy(Y, 'Y').astype(np.float64), to_numpy(Z, 'Z').astype(np.float64)
    if Y.shape != Z.shape:
        raise ValueError(f"Y and Z must have the same shape, got {Y.shape} and {Z.shape}")
    if Y.size == 0:
        raise ValueError(f"Y is empty (shape {Y.shape}): there is nothing to compare")
    if not Y.any():
        raise ValueError("Y is all zeros: the relative change is undefined")
    return float(np.linalg.norm(Z - Y) / np.linalg.norm(Y))


def shift_change(pool, X, d_h, d_w, shape, strides, border=1):
    """Relative change of pool(crop) when the crop moves by (d_h, d_w), compared on the
    cells both outputs cover after moving the shifted output back by (d_h, d_w) // strides,
    leaving out `border` cells at each edge (their windows reach past the crop)."""
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
    a, b = to_numpy(a, 'a'), to_numpy(b, 'b')
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError(f"a and b are empty (shape {a.shape}): consistency is undefined")
    return float(np.mean(a == b))
