"""Pooling over regions: ROI pooling (Fast R-CNN), ROIAlign (Mask R-CNN) and spatial
pyramid pooling (SPP-net), each pooling a region of any size into a fixed grid.

* `roi_pool` rounds each box to whole cells (halves away from zero, as C's `round`),
  counts its last row and column in (the inclusive +1), splits it into bins with float
  arithmetic in the map's dtype and takes the maximum of each bin; a bin that falls
  outside the map is 0. As MXNet's `nd.ROIPooling`, except that NaN propagates.
* `roi_align` samples each bin of the exact (unrounded) box at a grid of points,
  interpolates bilinearly and averages; `aligned=True` moves the box by half a cell so
  that a coordinate means a cell's edge, not its centre. As MXNet's
  `nd.contrib.ROIAlign` (without `position_sensitive`), with a defined answer where
  MXNet aborts (a box of zero width or height with `aligned=True`).
* `pyramid_pool2d` pools a map into n x n bins for each pyramid level n and concatenates
  them: a fixed-length vector for any input size.

Boxes are rows [batch_index, x1, y1, x2, y2] in image coordinates; `spatial_scale` maps
them onto the feature map (rounded to float32 first: MXNet and ONNX store it so).
Coordinates are computed in float32 for float16 and float32 maps and in float64
otherwise, as MXNet computes them in the map's dtype. Bad boxes (a batch index that is
not an integer from 0 to N - 1, NaN or infinite coordinates, x2 < x1 or y2 < y1,
coordinates beyond 2**24 cells once scaled) are refused with a ValueError naming the
box. The work per box is bounded by the map and the output, not by
the box: samples more than a cell outside the map are never computed.
"""
import math
import numbers

import numpy as np

from poolbook.adaptive import adaptive_pool2d, pool_bins
from poolbook.arrays import check_kind, like_input, mean_dtype, sum_dtype, to_numpy
from poolbook.checks import (
    as_pair,
    check_flag,
    check_input,
    check_mode,
    check_output_cells,
    is_int,
)

COORD_LIMIT = 2**24  # the largest scaled coordinate: float32 still holds every integer
SAMPLE_RATIO_LIMIT = 1024  # the most samples per bin and axis roi_align takes
WEIGHT_CELLS = 2**26  # the most cells of a weight matrix (grid side x map side)


# ------------------------------------------------------------------ the boxes

def check_rois(rois, batch_size, spatial_scale):
    """Refuse boxes that have no answer; return them as a float64 (R, 5) numpy array."""
    check_kind(rois, 'rois')
    if rois.ndim != 2 or rois.shape[1] != 5 or rois.shape[0] == 0:
        raise ValueError(f"rois must have shape (R, 5), R >= 1, one row [batch_index, "
                         f"x1, y1, x2, y2] per box, got shape {tuple(rois.shape)}")
    if np.dtype(rois.dtype).kind not in 'iuf':
        raise TypeError(f"rois must hold real numbers, got dtype "
                        f"{np.dtype(rois.dtype).name}")
    if (isinstance(spatial_scale, (bool, np.bool_))
            or not isinstance(spatial_scale, numbers.Real)):
        raise TypeError(f"spatial_scale must be a real number, got {spatial_scale!r}")
    if not (math.isfinite(spatial_scale) and spatial_scale > 0):
        raise ValueError(f"spatial_scale must be a finite number above 0, "
                         f"got {spatial_scale!r}")
    B = to_numpy(rois, 'rois').astype(np.float64)
    with np.errstate(invalid='ignore'):  # NaN rows are named by the first rule
        problems = [
            (~np.isfinite(B).all(axis=1), 'holds NaN or an infinity'),
            (B[:, 0] != np.floor(B[:, 0]), 'has a batch index that is not an integer'),
            ((B[:, 0] < 0) | (B[:, 0] >= batch_size),
             f'has a batch index outside 0 to N - 1 = {batch_size - 1}'),
            ((B[:, 3] < B[:, 1]) | (B[:, 4] < B[:, 2]), 'has x2 < x1 or y2 < y1'),
            ((np.abs(B[:, 1:]) * spatial_scale > COORD_LIMIT).any(axis=1),
             'has a coordinate beyond 2**24 cells once scaled by spatial_scale')]
    for bad, what in problems:
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(f"rois[{k}] = {B[k].tolist()} {what}: each row must be "
                             f"[batch_index, x1, y1, x2, y2] with an integer batch "
                             f"index from 0 to N - 1, finite x1 <= x2 and y1 <= y2")
    return B


def check_roi_args(X, rois, pooled_size, spatial_scale):
    """Check X (N, C, H, W), the boxes and the output grid; return X as numpy, the
    boxes, the batch indices, (p_h, p_w), the dtype coordinates are computed in and
    the scale in that dtype (rounded to float32 first, as MXNet and ONNX store it)."""
    check_input(X, ndims=(4,))
    p_h, p_w = as_pair(pooled_size, 'pooled_size', minimum=1)
    boxes = check_rois(rois, X.shape[0], spatial_scale)
    check_output_cells((len(boxes), X.shape[1], p_h, p_w), 'rois and pooled_size')
    work = sum_dtype(X.dtype)  # float32 for float16 and float32, else float64
    scale = work.type(np.float32(spatial_scale))
    return (to_numpy(X), boxes[:, 1:], boxes[:, 0].astype(np.int64), (p_h, p_w), work,
            scale)


# ------------------------------------------------------------------ ROI pooling

def round_half_away(v):
    """Round to the nearest integer, halves away from zero, as C's round does."""
    whole = np.trunc(v)  # v - whole is exact: the fraction of v
    return whole + np.where(np.abs(v - whole) >= 0.5, np.sign(v), 0).astype(whole.dtype)


def roi_pool_bins(start, end, out, n, dtype):
    """One axis of a box in ROI pooling: each bin's cells [start, end) of n cells."""
    size = end - start + 1  # the box holds cells start..end, both included
    bin_size = dtype.type(size) / dtype.type(out)  # in the map's dtype, as MXNet
    p = np.arange(out).astype(dtype)
    starts = np.floor(p * bin_size).astype(np.int64) + start
    ends = np.ceil((p + 1) * bin_size).astype(np.int64) + start
    return np.clip(starts, 0, n), np.clip(ends, 0, n)  # the map's cells only


def max_over_bins(maps, rows, cols):
    """Max of maps (C, H, W) over each bin rows x cols; 0 for a bin with no cell."""
    (start_h, end_h), (start_w, end_w) = rows, cols
    empty_h, empty_w = end_h <= start_h, end_w <= start_w
    if empty_h.all() or empty_w.all():
        return np.zeros(maps.shape[:-2] + (len(start_h), len(start_w)), maps.dtype)
    # An empty bin reads cell 0 (any cell would do), then is set to 0.
    start_h, end_h = np.where(empty_h, 0, start_h), np.where(empty_h, 1, end_h)
    start_w, end_w = np.where(empty_w, 0, start_w), np.where(empty_w, 1, end_w)
    Y = pool_bins(pool_bins(maps, -2, start_h, end_h, 'max'), -1, start_w, end_w, 'max')
    Y[..., empty_h, :] = 0
    Y[..., empty_w] = 0
    return Y


def roi_pool(X, rois, pooled_size, *, spatial_scale=1.0):
    """Max-pool each box of rois on its image of X into a pooled_size grid: ROI pooling.

    Parameters
    ----------
    X : array of shape (N, C, H, W)
        The feature maps: numpy array, mx.nd.NDArray or mx.np.ndarray, real numbers.
    rois : array of shape (R, 5)
        One box per row, [batch_index, x1, y1, x2, y2] in image coordinates, with an
        integer batch index from 0 to N - 1, x1 <= x2 and y1 <= y2.
    pooled_size : int or (int, int)
        The output grid (p_h, p_w) of every box.
    spatial_scale : float, default 1.0
        Multiplies the coordinates onto X's grid (1/16 for a map at stride 16); taken
        as a float32, as MXNet and ONNX store it.

    Returns
    -------
    array of shape (R, C, p_h, p_w), X's kind and dtype
        The maximum of each bin; 0 for a bin outside the map. NaN propagates.
    """
    A, corners, batch, (p_h, p_w), work, scale = check_roi_args(X, rois, pooled_size,
                                                               spatial_scale)
    scaled = corners.astype(work) * scale  # x1, y1, x2, y2
    cells = round_half_away(scaled).astype(np.int64)
    Y = np.empty((len(cells), A.shape[1], p_h, p_w), A.dtype)
    for r, (x1, y1, x2, y2) in enumerate(cells):
        rows = roi_pool_bins(y1, y2, p_h, A.shape[2], work)
        cols = roi_pool_bins(x1, x2, p_w, A.shape[3], work)
        Y[r] = max_over_bins(A[batch[r]], rows, cols)
    return like_input(Y, X)


# ------------------------------------------------------------------ ROIAlign

def align_grid(start, end, out, sample_ratio, aligned, dtype):
    """One axis of a box in ROIAlign: the bin size and the samples per bin, the grid."""
    size = end - start
    if not aligned:  # the original ROIAlign makes every box at least one cell
        size = max(size, dtype.type(1))
    bin_size = size / dtype.type(out)
    grid = sample_ratio if sample_ratio > 0 else int(np.ceil(size / dtype.type(out)))
    return bin_size, grid


def sample_range(start, bin_size, grid, out, n):
    """The sample numbers k = p * grid + i of one axis that can land within [-1, n]:
    every other sample reads nothing (it adds 0), so it need not be computed."""
    total = out * grid
    if bin_size == 0:  # every sample lies at `start`
        return np.arange(total)
    step = float(bin_size) / grid  # sample k lies at start + (k + 1/2) step
    # A margin, in cells, for the float error of the sample positions: 2 cells plus
    # 1e-3 of the coordinates' size, far above float32's rounding (6e-8 of that size
    # per operation). A sample kept needlessly adds 0; one dropped would be missed.
    slack = 2 + 1e-3 * (abs(float(start)) + float(bin_size) * out + n)
    first = math.floor((-1 - slack - float(start)) / step - 0.5)
    last = math.ceil((n + slack - float(start)) / step - 0.5)
    return np.arange(max(first, 0), min(last + 1, total))


def sample_points(start, bin_size, grid, k, dtype):
    """Where samples k = p * grid + i of one axis lie: in bin p, the middle of the i-th
    of grid equal steps, computed in MXNet's order of operations."""
    p, i = (k // grid).astype(dtype), (k % grid).astype(dtype)
    return start + p * bin_size + (i + dtype.type(0.5)) * bin_size / dtype.type(grid)


def bilinear_taps(y, n):
    """Each point y's two neighbouring cells on an axis of n and their weights; a point
    more than a cell outside [0, n - 1] gets weight 0 (MXNet's rule)."""
    inside = (y >= -1) & (y <= n)
    y = np.maximum(y, 0)
    low = y.astype(np.int64)  # y >= 0: truncation is the floor
    last = low >= n - 1  # at or past the last cell: clamp to it
    low = np.where(last, n - 1, low)
    high = np.where(last, n - 1, low + 1)
    frac = np.where(last, 0, y - low.astype(y.dtype))  # the high cell's weight
    zero = np.zeros_like(y)
    return low, high, np.where(inside, 1 - frac, zero), np.where(inside, frac, zero)


def align_weights(start, end, out, n, sample_ratio, aligned, dtype):
    """One axis of ROIAlign as an (out, n) matrix: row p holds, for every cell, the sum
    of the bilinear weights the samples of bin p give it; and the grid."""
    bin_size, grid = align_grid(start, end, out, sample_ratio, aligned, dtype)
    k = sample_range(start, bin_size, grid, out, n)
    low, high, w_low, w_high = bilinear_taps(sample_points(start, bin_size, grid, k,
                                                           dtype), n)
    weights = np.zeros((out, n), dtype)
    np.add.at(weights, (k // grid, low), w_low)
    np.add.at(weights, (k // grid, high), w_high)
    return weights, grid


def weighted_sum(Wy, maps, Wx):
    """Wy @ M @ Wx.T for every map M of maps (C, h, w): each bin's weighted sum of its
    cells. A cell of weight 0 is not read, so NaN and infinities reach only the bins
    that read them (a plain product would spread them: 0 * inf is NaN)."""
    finite = np.isfinite(maps)
    if finite.all():
        return Wy @ maps @ Wx.T
    Y = Wy @ np.where(finite, maps, 0) @ Wx.T
    reads = lambda mask: (Wy > 0) @ mask.astype(Wy.dtype) @ (Wx > 0).T > 0
    up, down = reads(maps == np.inf), reads(maps == -np.inf)
    Y[up], Y[down] = np.inf, -np.inf
    Y[(up & down) | reads(np.isnan(maps))] = np.nan
    return Y


def check_weight_cells(pooled, map_hw):
    """Refuse an output grid whose weight matrices (grid side x map side) would exceed
    WEIGHT_CELLS cells."""
    for p, n, axis in zip(pooled, map_hw, ('rows', 'columns')):
        if p * n > WEIGHT_CELLS:
            raise ValueError(f"pooled_size {tuple(pooled)} over a map of {n} {axis} "
                             f"needs a weight matrix of {p * n:,} cells, more than the "
                             f"{WEIGHT_CELLS:,} roi_align builds: use a smaller "
                             f"pooled_size")


def roi_align(X, rois, pooled_size, *, spatial_scale=1.0, sample_ratio=-1,
              aligned=False):
    """Average bilinear samples of each box of rois into a pooled_size grid (ROIAlign).

    Parameters
    ----------
    X : array of shape (N, C, H, W)
        The feature maps: numpy array, mx.nd.NDArray or mx.np.ndarray, real numbers.
    rois : array of shape (R, 5)
        One box per row, [batch_index, x1, y1, x2, y2] in image coordinates, with an
        integer batch index from 0 to N - 1, x1 <= x2 and y1 <= y2.
    pooled_size : int or (int, int)
        The output grid (p_h, p_w) of every box.
    spatial_scale : float, default 1.0
        Multiplies the coordinates onto X's grid (1/16 for a map at stride 16); taken
        as a float32, as MXNet and ONNX store it.
    sample_ratio : int, default -1
        Samples per bin along each axis, at most 1024; 0 or less: adaptive,
        ceil(box side / pooled side) per axis.
    aligned : bool, default False
        True: a coordinate is a cell's edge (the box moves by -1/2 cell, as in
        Detectron2); False: the original ROIAlign, whose boxes are at least one cell.

    Returns
    -------
    array of shape (R, C, p_h, p_w), X's kind
        The mean of each bin's samples (a sample more than a cell outside the map
        counts as 0); X's float dtype, float64 for integers. A box of zero width or
        height with aligned=True and an adaptive grid has no samples: 0.
    """
    A, corners, batch, (p_h, p_w), work, scale = check_roi_args(X, rois, pooled_size,
                                                               spatial_scale)
    if not is_int(sample_ratio):
        raise TypeError(f"sample_ratio must be an int, got {sample_ratio!r}")
    if sample_ratio > SAMPLE_RATIO_LIMIT:
        raise ValueError(f"sample_ratio must be at most {SAMPLE_RATIO_LIMIT} (or 0 or "
                         f"less for an adaptive grid), got {sample_ratio!r}")
    check_flag(aligned, 'aligned')
    check_weight_cells((p_h, p_w), A.shape[2:])
    offset = work.type(0.5 if aligned else 0)
    x1, y1, x2, y2 = (corners.astype(work) * scale - offset).T
    n_h, n_w = A.shape[2:]
    Y = np.zeros((len(corners), A.shape[1], p_h, p_w), work)
    for r in range(len(corners)):
        Wy, grid_h = align_weights(y1[r], y2[r], p_h, n_h, sample_ratio, aligned, work)
        Wx, grid_w = align_weights(x1[r], x2[r], p_w, n_w, sample_ratio, aligned, work)
        rows, cols = np.flatnonzero(Wy.any(axis=0)), np.flatnonzero(Wx.any(axis=0))
        if rows.size and cols.size:  # else every sample is outside the map: 0
            r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
            maps = A[batch[r], :, r0:r1, c0:c1].astype(work, copy=False)
            total = weighted_sum(Wy[:, r0:r1], maps, Wx[:, c0:c1])
            Y[r] = total / max(grid_h * grid_w, 1)  # no samples (zero size): 0
    return like_input(Y.astype(mean_dtype(A.dtype), copy=False), X)


# ------------------------------------------------------------------ spatial pyramids

def spp_paper_window(a, n):
    """The SPP paper's window and stride for an a-cell axis and n bins: ceil(a/n),
    floor(a/n); they give n windows for some sizes only."""
    return -(-a // n), a // n


def spp_window(a, n):
    """A window and stride giving exactly n windows that cover an a-cell axis (a >= n):
    stride floor(a/n), window a - (n - 1) floor(a/n)."""
    if not (is_int(a) and is_int(n)) or not 1 <= n <= a:
        raise ValueError(f"spp_window needs integers 1 <= n <= a, got a={a!r}, "
                         f"n={n!r}: with fewer cells than bins, use adaptive pooling")
    s = a // n
    return a - (n - 1) * s, s


def pyramid_pool2d(X, levels=(1, 2, 4), mode='max'):
    """Spatial pyramid pooling: X pooled into n x n bins for each level n, concatenated.

    Parameters
    ----------
    X : array of shape (C, H, W) or (N, C, H, W)
        Feature maps of any size: numpy array, mx.nd.NDArray or mx.np.ndarray.
    levels : sequence of int, default (1, 2, 4)
        The pyramid's levels, each a number of bins per axis.
    mode : {'max', 'avg'}, default 'max'
        The pooling of each bin (adaptive pooling: bin i of an axis of a cells covers
        cells floor(i a / n) to ceil((i + 1) a / n) - 1).

    Returns
    -------
    array of shape (C * sum(n * n),) or (N, C * sum(n * n)), X's kind
        Level by level, each level's (C, n, n) bins flattened in that order.
    """
    check_input(X, ndims=(3, 4))
    check_mode(mode)
    if isinstance(levels, (str, bytes)) or not hasattr(levels, '__len__') or not levels:
        raise ValueError(f"levels must be a non-empty sequence of ints, got {levels!r}")
    for n in levels:
        if not is_int(n) or n < 1:
            raise ValueError(f"levels must hold positive ints, got {levels!r}")
    A = to_numpy(X)
    parts = [adaptive_pool2d(A, n, mode).reshape(A.shape[:-3] + (-1,)) for n in levels]
    return like_input(np.concatenate(parts, axis=-1), X)
