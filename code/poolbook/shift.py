"""Measuring what a shift of the input does to a pooled map, and to a classifier.

* `shift(X, d_h, d_w, shape)`: the crop of X that starts d_h rows down and d_w columns
  right, i.e. the picture moved up and left: Z[i, j] = X[i + d_h, j + d_w];
* `shift_change(pool, X, d_h, d_w, shape, strides)`: how much `pool`'s output changes
  when its input moves, after moving the output back by the whole output cells the shift
  spans, away from the border. It cannot rank layers: a layer that blurs more changes
  less, and one whose output is constant does not change at all;
* `shift_aliasing(pool, X)`: the fair measurement. A one-pixel shift of the input should
  move the output of a stride-2 layer by half a cell. `half_cell_shift` makes that ideal
  move (band-limited interpolation), `split_shift` splits the real output into the part
  that moved like that and the rest, the aliasing. `detail` measures a map's detail (the
  differences between neighbouring cells); `aliasing` is the detail of the rest relative
  to the detail that moved, and `detail_kept` that detail relative to what an ideal
  low-pass layer (`ideal_downsample`) keeps. The image is taken as periodic
  (`periodic_output`), so that every Fourier shift is exact;
* `consistency(a, b)`: Zhang's consistency, the fraction of two label lists that agree.
"""
import numpy as np

from poolbook.arrays import like_input, to_numpy
from poolbook.checks import as_pair, check_input, is_int


def shift(X, d_h, d_w, shape):
    """The crop of X of spatial shape (h, w) starting at row d_h, column d_w.

    That is, X moved d_h rows up and d_w columns left: Z[i, j] = X[i + d_h, j + d_w].

    Parameters
    ----------
    X : array (..., H, W)
        The picture (numpy array or NDArray); the result is a copy of X's kind.
    d_h, d_w : int
        How far to move, each at least 0.
    shape : int or tuple of int
        (h, w), the size of the crop; it must fit in X at (d_h, d_w).

    Returns
    -------
    array (..., h, w)
    """
    A = to_numpy(X)
    h, w = as_pair(shape, 'shape', minimum=1)
    d_h, d_w = as_pair((d_h, d_w), '(d_h, d_w)', minimum=0)
    if d_h + h > A.shape[-2] or d_w + w > A.shape[-1]:
        raise ValueError(f"a {(h, w)} crop at ({d_h}, {d_w}) does not fit in X, whose "
                         f"spatial shape is {tuple(A.shape[-2:])}")
    return like_input(A[..., d_h:d_h + h, d_w:d_w + w].copy(), X)  # never a view of X


def relative_change(Y, Z):
    """The size of Z - Y relative to that of Y: ||Z - Y|| / ||Y|| (Frobenius norms).

    Parameters
    ----------
    Y, Z : array
        Two arrays of one shape; Y must not be all zeros.

    Returns
    -------
    float
    """
    Y, Z = to_numpy(Y, 'Y').astype(np.float64), to_numpy(Z, 'Z').astype(np.float64)
    if Y.shape != Z.shape:
        raise ValueError(f"Y and Z must have the same shape, got {Y.shape} and {Z.shape}")
    if Y.size == 0:
        raise ValueError(f"Y is empty (shape {Y.shape}): there is nothing to compare")
    if not Y.any():
        raise ValueError("Y is all zeros: the relative change is undefined")
    return float(np.linalg.norm(Z - Y) / np.linalg.norm(Y))


def shift_change(pool, X, d_h, d_w, shape, strides, border=1):
    """How much pool's output changes when its input moves by (d_h, d_w), away from the border.

    The output for the moved crop is moved back by the whole output cells the shift spans,
    (d_h, d_w) // strides, and compared (relative_change) with the output for the unmoved
    crop on the cells both cover, leaving out `border` cells at each edge, whose windows
    reach past the crop. It cannot rank layers: a layer that blurs more changes less.

    Parameters
    ----------
    pool : callable
        The layer, array -> array.
    X : array (H, W)
        The picture the crops come from.
    d_h, d_w : int
        The shift.
    shape : int or tuple of int
        The size of both crops.
    strides : int or tuple of int
        The layer's strides.
    border : int, default 1
        Output cells to leave out at each edge.

    Returns
    -------
    float
    """
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


def periodic_output(pool, X, margin=8):
    """pool(X) for the map X taken as periodic, its right edge continuing on its left.

    pool runs on X wrapped by `margin` cells on every side; its output is cropped to one
    period. For a layer at stride 2 whose output cell (i, j) sits at input cell (2i, 2j)
    and reads fewer than `margin` cells around it.

    Parameters
    ----------
    pool : callable
        The layer, (H', W') -> (H' / 2, W' / 2).
    X : array (H, W)
        The map, with even sides of at least `margin` cells.
    margin : int, default 8
        How far to wrap; even, at least 0.

    Returns
    -------
    numpy array (H / 2, W / 2)
    """
    A = to_numpy(X)
    check_input(A, ndims=(2,))
    if not is_int(margin) or margin < 0 or margin % 2:
        raise ValueError(f"margin must be an even integer >= 0, got {margin!r}")
    h, w = A.shape
    if h % 2 or w % 2 or margin > min(h, w):
        raise ValueError(f"X must have even sides of at least margin={margin} cells, so "
                         f"that one period of the output is half of it, got shape {A.shape}")
    Y = to_numpy(pool(np.pad(A, margin, mode='wrap')), 'pool(X)')
    if Y.shape != ((h + 2 * margin) // 2, (w + 2 * margin) // 2):
        raise ValueError(f"pool must halve each side of its input (stride 2): it made "
                         f"{(h + 2 * margin, w + 2 * margin)} into {Y.shape}")
    m = margin // 2
    return Y[m:m + h // 2, m:m + w // 2]


def half_cell_shift(Y):
    """Y moved half a cell left, Z[..., j] = Y(j + 1/2), by band-limited interpolation.

    Each row of Y is taken as periodic and read between its cells through its Fourier
    series, without the Nyquist term of an even row (the cosine that alternates from cell
    to cell, whose half-cell move cannot be told).

    Parameters
    ----------
    Y : array (..., W)
        The rows to move.

    Returns
    -------
    numpy array (..., W), float64
    """
    A = np.asarray(Y, dtype=np.float64)
    width = A.shape[-1]
    F = np.fft.rfft(A, axis=-1)
    F = F * np.exp(1j * np.pi * np.arange(F.shape[-1]) / width)  # e^(2 pi i k (1/2) / width)
    if width % 2 == 0:
        F[..., -1] = 0
    return np.fft.irfft(F, n=width, axis=-1)


def without_nyquist(Y):
    """Y without the Nyquist term of its rows, the cosine that alternates from cell to cell.

    Parameters
    ----------
    Y : array (..., W)
        The rows; an odd width has no Nyquist term, and Y comes back unchanged (a copy).

    Returns
    -------
    numpy array (..., W), float64
    """
    A = np.asarray(Y, dtype=np.float64)
    width = A.shape[-1]
    if width % 2:
        return A.copy()
    F = np.fft.rfft(A, axis=-1)
    F[..., -1] = 0
    return np.fft.irfft(F, n=width, axis=-1)


def split_shift(Y0, Y1):
    """Split Y1, a layer's output for its input moved one pixel left, given Y0, its
    output for the unmoved input, into S, the part that moved as an ideal layer's would
    (half a cell left), and A, the aliasing: S + A is Y1 (without its Nyquist term)."""
    Y0, Y1 = to_numpy(Y0, 'Y0'), to_numpy(Y1, 'Y1')
    if Y0.shape != Y1.shape:
        raise ValueError(f"Y0 and Y1 must have the same shape, got {Y0.shape} and "
                         f"{Y1.shape}")
    R = half_cell_shift(Y0)  # what an ideal layer would give for the moved input
    Y1 = without_nyquist(Y1)  # the one term in which aliasing and detail look alike
    return (Y1 + R) / 2, (Y1 - R) / 2


def detail(M):
    """How much detail the map M holds: the size of the differences between neighbours.

    sqrt(sum of (M[i, j + 1] - M[i, j])**2 + (M[i + 1, j] - M[i, j])**2), M taken as
    periodic. A constant map holds none.

    Parameters
    ----------
    M : array (H, W)
        The map.

    Returns
    -------
    float
    """
    M = to_numpy(M, 'M').astype(np.float64)
    check_input(M, ndims=(2,), name='M')
    across, down = np.roll(M, -1, axis=1) - M, np.roll(M, -1, axis=0) - M
    return float(np.sqrt((across ** 2).sum() + (down ** 2).sum()))


def aliasing(S, A):
    """The detail of the aliasing A relative to the detail of S: detail(A) / detail(S).

    Parameters
    ----------
    S, A : array (H, W)
        The two parts split_shift returns: what moved as it should, and the rest. S must
        hold some detail beyond the rounding of the Fourier series.

    Returns
    -------
    float
    """
    reference = detail(S)
    S, A = np.asarray(S), np.asarray(A)
    rounding = 1e-12 * np.sqrt(S.size) * max(np.abs(S).max(), np.abs(A).max())
    if not reference > rounding:  # no detail beyond the rounding of the Fourier series
        raise ValueError("the output keeps no detail (the part that moved with the input "
                         "is constant): there is nothing to measure the aliasing against")
    return detail(A) / reference


def ideal_downsample(X):
    """What an ideal low-pass layer at stride 2 keeps of the map X, for a move along rows.

    X, taken as periodic, without any frequency at or above half its Nyquist frequency along
    its rows (the axis of the move, the only axis `split_shift` separates aliasing on),
    then every second row and column. Plain subsampling keeps exactly this much detail.

    Parameters
    ----------
    X : array (H, W)
        The map.

    Returns
    -------
    numpy array (ceil(H / 2), ceil(W / 2)), float64
    """
    A = to_numpy(X).astype(np.float64)
    h, w = A.shape
    k_w = np.fft.fftfreq(w) * w  # integer frequencies along the rows
    keep = 4 * np.abs(k_w) < w
    return np.fft.ifft(np.fft.fft(A, axis=1) * keep, axis=1).real[::2, ::2]


def detail_kept(S, X):
    """The detail of S relative to what an ideal low-pass layer keeps of X.

    detail(S) / detail(ideal_downsample(X)).

    Parameters
    ----------
    S : array (H / 2, W / 2)
        The part of a layer's output that moved as it should (split_shift).
    X : array (H, W)
        The layer's input; it must hold some detail below half its Nyquist frequency.

    Returns
    -------
    float
    """
    reference = detail(ideal_downsample(X))
    if not reference > 0:
        raise ValueError("X has no detail below half its Nyquist frequency to compare with")
    return detail(S) / reference


def shift_aliasing(pool, X, margin=8):
    """How much a stride-2 layer aliases when its input X (H, W, taken as periodic)
    moves one pixel left: the aliasing and the detail kept, from split_shift of the
    layer's outputs for X and for X moved."""
    Y0 = periodic_output(pool, X, margin)
    Y1 = periodic_output(pool, np.roll(to_numpy(X), -1, axis=1), margin)
    S, A = split_shift(Y0, Y1)
    return aliasing(S, A), detail_kept(S, X)


def consistency(a, b):
    """The fraction of positions where the labels a and b agree (Zhang's consistency).

    Parameters
    ----------
    a, b : array
        Two non-empty arrays of labels of one shape.

    Returns
    -------
    float
    """
    a, b = to_numpy(a, 'a'), to_numpy(b, 'b')
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError(f"a and b are empty (shape {a.shape}): consistency is undefined")
    return float(np.mean(a == b))
