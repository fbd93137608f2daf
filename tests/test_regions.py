"""roi_pool, roi_align and spatial pyramid pooling (poolbook.regions).

Where the expected values come from: MXNet's operators (nd.ROIPooling,
nd.contrib.ROIAlign, nd.contrib.AdaptiveAvgPooling2D), ONNX Runtime's MaxRoiPool and
RoiAlign, the ONNX reference implementation (onnx.reference), plain loops written here
one bin and one sample at a time (Python floats and ints), MXNet's documented example and
cases worked out by hand; never the code's own output.
"""
import math
import os
import subprocess
import sys

import mxnet as mx
import numpy as np
import onnx
import onnxruntime as ort
import poolbook
import pytest
from mxnet import nd
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator
from poolbook import regions
from poolbook.adaptive import adaptive_bins
from poolbook.pooling import output_size
from poolbook.regions import (
    pyramid_pool2d,
    roi_align,
    roi_pool,
    round_half_away,
    spp_paper_window,
    spp_window,
)
from steps import within_steps

N, C, H, W = 3, 4, 9, 11
SCALES = [1.0, 0.5, 0.25, 0.0625, 0.7]  # 0.7 is not a float32
POOLED = [(1, 1), (2, 3), (7, 7), (3, 1)]


def sweep_boxes(scale, rng, n_random=12):
    """Boxes [b, x1, y1, x2, y2] in image coordinates: fractional, on .5 boundaries once
    scaled, outside the map, zero-size, one cell, larger than the map, every batch."""
    cells = []  # in map coordinates (after scaling)
    for b in range(N):
        for _ in range(n_random):  # fractional corners, inside and around the map
            x1, x2 = np.sort(rng.choice(np.arange(-4, W + 4, 0.25), 2))
            y1, y2 = np.sort(rng.choice(np.arange(-4, H + 4, 0.25), 2))
            cells.append([b, x1, y1, x2, y2])
        cells += [[b, 0.5, 1.5, 2.5, 3.5], [b, -0.5, -1.5, 4.5, 2.5],  # halves
                  [b, 2.5, 0.5, 2.5, 6.5], [b, 1.5, 2.5, 7.5, 2.5],
                  [b, -6, -5, -2, -1], [b, W + 1, H + 2, W + 5, H + 6],  # outside
                  [b, -3, 2, -1.25, 5], [b, 3, H + 0.5, 6, H + 3],
                  [b, 3, 4, 3, 4], [b, 0, 0, 0, 0], [b, W - 1, 2, W - 1, 6],  # zero size
                  [b, 2, 3, 3, 4], [b, 4.25, 1.75, 5.25, 2.75],  # one cell
                  [b, -W, -H, 2 * W, 2 * H], [b, -1, -1, W, H],  # larger than the map
                  [b, -0.75, 3, W + 0.75, 4]]
    boxes = np.array(cells, np.float64)
    boxes[:, 1:] /= scale
    return boxes


def inputs(dtype, seed=0):
    return np.random.default_rng(seed).standard_normal((N, C, H, W)).astype(dtype)


def has_area(boxes):
    return (boxes[:, 3] > boxes[:, 1]) & (boxes[:, 4] > boxes[:, 2])


def cases(dtype, scales=SCALES):
    """(scale, boxes) pairs, the boxes in `dtype`."""
    rng = np.random.default_rng(1)
    return [(s, sweep_boxes(s, rng).astype(dtype)) for s in scales]


ALIGN_SCALES = [1.0, 0.0625, 0.7]  # fewer than ROI pooling's: each box costs more


def test_the_package_exports_them():
    assert poolbook.roi_pool is roi_pool and poolbook.roi_align is roi_align


# ----------------------------------------------------------------------------------------
# Rounding: C's round, not numpy's.

def test_round_half_away_from_zero_by_hand():
    v = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 2.4999998, -0.3, 3.7],
                 np.float32)
    assert round_half_away(v).tolist() == [1, 2, 3, -1, -2, -3, 0, 2, 0, 4]
    assert np.round(v[:3]).tolist() == [0, 2, 2]  # numpy rounds halves to even
    # The textbook floor(x + 0.5) is wrong for the float32 just below 1/2:
    assert np.floor(v[6] + np.float32(0.5)) == 1 and round_half_away(v[6]) == 0
    # ... and for every negative half, which it rounds towards +inf:
    assert np.floor(v[3:6] + np.float32(0.5)).tolist() == [0, -1, -2]
    # np.round differs from C's round exactly on the halves whose integer part (the
    # neighbour nearer zero) is even: +-0.5, +-2.5, +-4.5, ...
    halves = np.arange(-6, 6) + np.float32(0.5)
    differ = np.round(halves) != round_half_away(halves)
    assert differ.tolist() == [int(h) % 2 == 0 for h in halves]


def test_ports_with_other_roundings_disagree_with_mxnet_on_halves():
    # A box from x = -0.5 (cells -1..4 by C's round, 0..4 by floor(x + 0.5) and by
    # np.round) and one from 2.5 (3 by C's round and floor(x + 0.5), 2 by np.round).
    X = np.tile(np.arange(8, dtype=np.float32), (1, 1, 4, 1))  # every row 0..7
    for box in ([0, -0.5, 0, 4, 3], [0, 2.5, 0, 6, 3]):
        rois = np.array([box], np.float32)
        want = nd.ROIPooling(nd.array(X), nd.array(rois), pooled_size=(1, 3),
                             spatial_scale=1.0).asnumpy()
        np.testing.assert_array_equal(roi_pool(X, rois, (1, 3)), want)
        for rounding in (np.round, lambda v: np.floor(v + np.float32(0.5))):
            x1, y1, x2, y2 = rounding(rois[0, 1:]).astype(int)
            if x1 == round_half_away(rois[0, 1]):
                continue  # this port rounds this corner as C does
            f32 = np.dtype(np.float32)
            port = regions.max_over_bins(X[0], regions.roi_pool_bins(y1, y2, 1, 4, f32),
                                         regions.roi_pool_bins(x1, x2, 3, 8, f32))
            assert not np.array_equal(port, want[0]), (box, rounding)


def test_mxnet_documented_example():
    # The example of nd.ROIPooling's docstring: 0..47 as 8 x 6, box [0, 0, 0, 4, 4].
    X = np.arange(48, dtype=np.float32).reshape(1, 1, 8, 6)
    box = np.array([[0, 0, 0, 4, 4]], np.float32)
    assert roi_pool(X, box, (2, 2)).tolist() == [[[[14, 16], [26, 28]]]]
    assert roi_pool(X, box, (2, 2), spatial_scale=0.7).tolist() == [[[[7, 9], [19, 21]]]]


def test_the_scale_is_a_float32_as_in_mxnet_even_for_float64_maps():
    # 0.7 as a float32 is 0.699999988; a box whose corner is 2.5 / 0.7 scales to just
    # under 2.5 with it (rounded to 2) and to 2.5 with the float64 0.7 (rounded to 3).
    x = 2.5 / 0.7
    assert x * 0.7 == 2.5 and x * float(np.float32(0.7)) < 2.5
    X = np.arange(48.0).reshape(1, 1, 8, 6)  # X[r, c] = 6 r + c
    box = np.array([[0, x, 0, 7, 7]])  # 7 * 0.7 = 4.9: cells 2..5 across, 0..5 down
    want = nd.ROIPooling(nd.array(X, dtype='float64'), nd.array(box, dtype='float64'),
                         pooled_size=(1, 4), spatial_scale=0.7).asnumpy()
    got = roi_pool(X, box, (1, 4), spatial_scale=0.7)
    np.testing.assert_array_equal(got, want)
    assert got[0, 0, 0].tolist() == [32, 33, 34, 35]  # by hand: row 5, columns 2..5
    # With the float64 scale x1 would be 3: columns 3..5 in 4 bins of 0.75, [3, 4),
    # [3, 5), [4, 6), [5, 6): row 5 reads 33, 34, 35, 35 (chapter 9 prints it).
    f64 = np.dtype(np.float64)
    other = regions.max_over_bins(X[0], regions.roi_pool_bins(0, 5, 1, 8, f64),
                                  regions.roi_pool_bins(3, 5, 4, 6, f64))
    assert other[0, 0].tolist() == [33, 34, 35, 35]


def test_roi_pool_bins_by_hand():
    # Cells 0..4 (5 cells, the +1) into 2 bins of 2.5: [0, 3) and [2, 5).
    starts, ends = regions.roi_pool_bins(0, 4, 2, 10, np.dtype(np.float32))
    assert starts.tolist() == [0, 2] and ends.tolist() == [3, 5]
    # A box from -3 to 1 into 2 bins: [-3, 0) is clipped to nothing, [-1, 2) to [0, 2).
    starts, ends = regions.roi_pool_bins(-3, 1, 2, 10, np.dtype(np.float32))
    assert starts.tolist() == [0, 0] and ends.tolist() == [0, 2]


def test_a_box_at_a_half_rounds_away_from_zero():
    X = np.tile(np.arange(6, dtype=np.float32), (1, 1, 8, 1))  # every row 0..5
    for x1, first in [(0.5, 1), (1.5, 2), (2.5, 3), (-0.5, 0)]:
        Y = roi_pool(X, np.array([[0, x1, 0, 5, 7]]), (1, 6))
        assert Y[0, 0, 0, 0] == first or x1 < 0, (x1, Y)
    # Box from x = -0.5: rounds to -1, so 7 cells -1..5 in 6 bins; the first bin reads
    # cells -1 and 0 (-1 clipped away): 0; by hand as MXNet computes it.
    Y = roi_pool(X, np.array([[0, -0.5, 0, 5, 7]]), (1, 6))
    assert Y.ravel().tolist() == [0, 1, 2, 3, 4, 5]


# ----------------------------------------------------------------------------------------
# ROI pooling against MXNet, ONNX Runtime and a loop.

@pytest.mark.sweep
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_roi_pool_equals_mxnet_over_the_sweep(dtype):
    X, checked = inputs(dtype), 0
    for scale, boxes in cases(dtype):
        for pooled in POOLED:
            want = nd.ROIPooling(nd.array(X, dtype=dtype), nd.array(boxes, dtype=dtype),
                                 pooled_size=pooled, spatial_scale=scale).asnumpy()
            got = roi_pool(X, boxes, pooled, spatial_scale=scale)
            assert got.dtype == dtype
            np.testing.assert_array_equal(got, want, err_msg=f'{scale} {pooled}')
            checked += len(boxes)
    assert checked >= 1000


def onnx_session(op, opset, **attrs):
    """An ONNX Runtime session of one node `op` on X, rois (and batch indices)."""
    names = ['X', 'rois'] + (['batch'] if op == 'RoiAlign' else [])
    kinds = [TensorProto.FLOAT, TensorProto.FLOAT, TensorProto.INT64]
    graph = helper.make_graph(
        [helper.make_node(op, names, ['Y'], **attrs)], 'g',
        [helper.make_tensor_value_info(n, k, None) for n, k in zip(names, kinds)],
        [helper.make_tensor_value_info('Y', TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)])
    options = ort.SessionOptions()
    options.log_severity_level = 3  # no warnings on stderr
    return model, ort.InferenceSession(model.SerializeToString(), options,
                                       providers=['CPUExecutionProvider'])


def test_roi_pool_equals_onnx_runtime_max_roi_pool():
    X = inputs(np.float32)
    for scale, boxes in cases(np.float32):
        for pooled in POOLED:
            _, session = onnx_session('MaxRoiPool', 21, pooled_shape=list(pooled),
                                      spatial_scale=scale)
            want = session.run(None, {'X': X, 'rois': boxes})[0]
            np.testing.assert_array_equal(roi_pool(X, boxes, pooled, spatial_scale=scale),
                                          want, err_msg=f'{scale} {pooled}')


def loop_roi_pool(X, boxes, pooled, scale):
    """ROI pooling one bin at a time in Python floats (for float64 X)."""
    (p_h, p_w), (n_h, n_w) = pooled, X.shape[2:]
    c_round = lambda v: math.copysign(math.floor(abs(v) + 0.5), v)  # exact in float64
    Y = np.zeros((len(boxes), X.shape[1], p_h, p_w))
    for r, (b, *corners) in enumerate(boxes):
        x1, y1, x2, y2 = (int(c_round(v * scale)) for v in corners)
        for i in range(p_h):
            h0 = min(max(math.floor(i * ((y2 - y1 + 1) / p_h)) + y1, 0), n_h)
            h1 = min(max(math.ceil((i + 1) * ((y2 - y1 + 1) / p_h)) + y1, 0), n_h)
            for j in range(p_w):
                w0 = min(max(math.floor(j * ((x2 - x1 + 1) / p_w)) + x1, 0), n_w)
                w1 = min(max(math.ceil((j + 1) * ((x2 - x1 + 1) / p_w)) + x1, 0), n_w)
                if h1 > h0 and w1 > w0:
                    Y[r, :, i, j] = X[int(b), :, h0:h1, w0:w1].max(axis=(1, 2))
    return Y


def test_a_57_cell_box_in_7_bins_reads_a_58th_cell_as_mxnet_does():
    # 57 / 7 = 8.142857.. is stored in float32 as 8.1428575 (too large by 4e-7); 7 times
    # it is 57.0000029, which float32 rounds to 57.000004: its ceiling is 58, so the last
    # bin ends one cell past the box. The exact rule, ceil(7 * 57 / 7), gives 57.
    assert np.float32(57) / np.float32(7) * np.float32(7) > 57
    assert adaptive_bins(57, 7)[1][-1] == 57
    X = np.zeros((1, 1, 60, 3), np.float32)
    X[0, 0, 57] = 1  # the row just below the box
    box = np.array([[0, 0, 0, 2, 56]], np.float32)
    want = nd.ROIPooling(nd.array(X), nd.array(box), pooled_size=(7, 1),
                         spatial_scale=1.0).asnumpy()
    assert want[0, 0, -1, 0] == 1
    np.testing.assert_array_equal(roi_pool(X, box, (7, 1)), want)


def test_roi_pool_equals_a_loop():
    X = inputs(np.float64)
    for scale, boxes in cases(np.float64)[:3]:
        for pooled in [(2, 3), (7, 7)]:
            np.testing.assert_array_equal(roi_pool(X, boxes, pooled, spatial_scale=scale),
                                          loop_roi_pool(X, boxes, pooled, scale))


def test_roi_pool_keeps_kinds_and_dtypes():
    X, box = inputs(np.float32), np.array([[1, 0.5, 1, 6, 7]])
    want = roi_pool(X, box, 3)
    for kind, back in [(nd.array, lambda Y: Y.asnumpy()),
                       (mx.np.array, lambda Y: Y.asnumpy())]:
        Y = roi_pool(kind(X), kind(box), 3)
        assert type(Y) is type(kind(X)) and np.array_equal(back(Y), want)
    assert roi_pool(X.astype(np.float16), box, 3).dtype == np.float16
    I = (X * 10).astype(np.int16)
    Y = roi_pool(I, box, 3)
    assert Y.dtype == np.int16
    np.testing.assert_array_equal(Y, roi_pool(I.astype(np.float64), box, 3))


def test_nan_propagates_to_the_bins_that_read_it_and_mxnet_skips_it():
    X = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    X[0, 0, 0, 1] = np.nan
    box = np.array([[0, 0, 0, 3, 3]], np.float32)
    Y = roi_pool(X, box, 2)[0, 0]
    assert np.isnan(Y[0, 0]) and Y[0, 1] == 7 and Y[1].tolist() == [13, 15]
    theirs = nd.ROIPooling(nd.array(X), nd.array(box), pooled_size=(2, 2),
                           spatial_scale=1.0).asnumpy()[0, 0]
    assert theirs[0, 0] == 5  # MXNet's `>` never picks a NaN


def cpp_max_loop(values):
    """ONNX Runtime's MaxRoiPool bin, Y = std::max(x, Y) from the lowest float32, in
    Python: std::max(x, Y) returns x unless x < Y (so a NaN x always replaces Y)."""
    y = np.finfo(np.float32).min
    for v in values:
        y = v if not v < y else y
    return y


@pytest.mark.parametrize('values, ort_value, mxnet_value', [
    ([np.nan, 1, 3, 2], 3, 3),
    ([5, np.nan, 3, 2], 3, 5),      # less than the bin's largest number
    ([1, 2, np.nan, 0], 0, 2),
    ([1, 3, 2, np.nan], np.nan, 3),
    ([np.nan] * 4, np.nan, np.finfo(np.float32).min),
    ([-np.inf] * 4, np.finfo(np.float32).min, np.finfo(np.float32).min),
])
def test_nan_in_a_bin_ours_mxnet_and_onnx_runtime_disagree(values, ort_value,
                                                            mxnet_value):
    X = np.array(values, np.float32).reshape(1, 1, 2, 2)  # read row-major: as listed
    whole = np.array([[0, 0, 0, 1, 1]], np.float32)
    _, session = onnx_session('MaxRoiPool', 21, pooled_shape=[1, 1])
    ort_out = session.run(None, {'X': X, 'rois': whole})[0].item()
    mxnet_out = nd.ROIPooling(nd.array(X), nd.array(whole), pooled_size=(1, 1),
                              spatial_scale=1.0).asnumpy().item()
    assert np.array_equal(ort_out, np.float32(ort_value), equal_nan=True)
    assert np.array_equal(cpp_max_loop(X.ravel()), ort_out, equal_nan=True)
    assert mxnet_out == mxnet_value
    ours = roi_pool(X, whole, 1).item()
    assert np.isnan(ours) if np.isnan(values).any() else ours == -np.inf


def test_mxnet_and_onnx_runtime_answer_a_box_with_x2_below_x1_as_one_cell():
    X = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)  # 4 y + x
    swapped = np.array([[0, 3, 0, 1, 1]], np.float32)
    _, session = onnx_session('MaxRoiPool', 21, pooled_shape=[1, 1])
    # By hand: x1 = 3, width forced to 1: column 3, rows 0 and 1: max(3, 7) = 7.
    assert session.run(None, {'X': X, 'rois': swapped})[0].item() == 7
    assert nd.ROIPooling(nd.array(X), nd.array(swapped), pooled_size=(1, 1),
                         spatial_scale=1.0).asnumpy().item() == 7
    # ROIAlign (aligned=False) stretches it to one cell from (3, 0): one sample at
    # (x, y) = (3.5, 0.5), x clamped to the last column 3: (3 + 7) / 2 = 5.
    assert nd.contrib.ROIAlign(nd.array(X), nd.array(swapped), pooled_size=(1, 1),
                               spatial_scale=1.0).asnumpy().item() == 5
    for fn in (roi_pool, roi_align):
        with pytest.raises(ValueError, match='x2 < x1'):
            fn(X, swapped, 1)


def test_minus_infinity_stays_minus_infinity():
    X = np.full((1, 1, 4, 4), -np.inf, np.float32)
    box = np.array([[0, 0, 0, 3, 3]], np.float32)
    assert (roi_pool(X, box, 2) == -np.inf).all()
    theirs = nd.ROIPooling(nd.array(X), nd.array(box), pooled_size=(2, 2),
                           spatial_scale=1.0).asnumpy()  # starts from -FLT_MAX
    assert (theirs == np.finfo(np.float32).min).all()


# ----------------------------------------------------------------------------------------
# ROIAlign against MXNet, ONNX Runtime, the ONNX reference and a loop.

TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


@pytest.mark.sweep
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('aligned', [False, True])
def test_roi_align_equals_mxnet_over_the_sweep(dtype, aligned):
    X, checked = inputs(dtype), 0
    for scale, boxes in cases(dtype, ALIGN_SCALES):
        if aligned:  # MXNet aborts the process on a zero width or height (tested below)
            boxes = boxes[has_area(boxes)]
        for pooled in POOLED[:3]:
            for ratio in (-1, 1, 2, 3):
                want = nd.contrib.ROIAlign(
                    nd.array(X, dtype=dtype), nd.array(boxes, dtype=dtype), pooled_size=pooled,
                    spatial_scale=scale, sample_ratio=ratio, aligned=aligned).asnumpy()
                got = roi_align(X, boxes, pooled, spatial_scale=scale, sample_ratio=ratio,
                                aligned=aligned)
                assert got.dtype == dtype
                np.testing.assert_allclose(got, want, **TOL[dtype],
                                           err_msg=f'{scale} {pooled} {ratio}')
                checked += len(boxes)
    assert checked >= 1500


MXNET_ABORT = """
import mxnet as mx
from mxnet import nd
X = nd.ones((1, 1, 4, 4))
nd.contrib.ROIAlign(X, nd.array([[0, 1, 1, 1, 3]]), pooled_size=(2, 2),
                    spatial_scale=1.0, aligned=True).wait_to_read()
print('survived')
"""


@pytest.mark.child
@pytest.mark.parametrize('engine', [{}, {'MXNET_ENGINE_TYPE': 'NaiveEngine',
                                         'OMP_NUM_THREADS': '1'}])
def test_mxnet_aborts_on_a_zero_width_box_with_aligned_and_we_do_not(engine):
    # The check throws inside an OpenMP parallel loop, so the runtime terminates the
    # process: with the NaiveEngine (no worker thread) and one OpenMP thread too.
    child = subprocess.run([sys.executable, '-c', MXNET_ABORT], capture_output=True,
                           text=True, timeout=120, check=False,
                           env={**os.environ, **engine})
    assert child.returncode == -6 and 'survived' not in child.stdout  # SIGABRT
    assert 'Check failed' in child.stderr, child.stderr[-2000:]
    assert "terminate called after throwing an instance of 'dmlc::Error'" in child.stderr
    X = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    box = np.array([[0, 1, 1, 1, 3]], np.float32)
    # Adaptive grid: ceil(0 / 2) = 0 samples across: nothing to average, 0.
    assert (roi_align(X, box, 2, aligned=True) == 0).all()
    # Two samples per bin: all at x = 1 - 1/2 = 0.5 (between columns 0 and 1); rows
    # 0.5 + (0.25, 0.75) in the first bin, 1.5 + (0.25, 0.75) in the second. By hand:
    # X[y, x] = 4 y + x, bilinear, so the value is 4 y + x at the point: 4 * 1 + 0.5.
    Y = roi_align(X, box, 2, aligned=True, sample_ratio=2)[0, 0]
    assert Y.tolist() == [[4.5, 4.5], [8.5, 8.5]]


@pytest.mark.parametrize('mode', ['output_half_pixel', 'half_pixel'])
def test_roi_align_equals_onnx_runtime(mode):
    X = inputs(np.float32)
    for scale, boxes in cases(np.float32, ALIGN_SCALES):  # zero-size boxes included
        feeds = {'X': X, 'rois': boxes[:, 1:].copy(), 'batch': boxes[:, 0].astype(np.int64)}
        for pooled in POOLED[1:3]:
            for ratio in (0, 1, 2):
                _, session = onnx_session(
                    'RoiAlign', 16, output_height=pooled[0], output_width=pooled[1],
                    spatial_scale=scale, sampling_ratio=ratio, mode='avg',
                    coordinate_transformation_mode=mode)
                got = roi_align(X, boxes, pooled, spatial_scale=scale, sample_ratio=ratio,
                                aligned=mode == 'half_pixel')
                np.testing.assert_allclose(got, session.run(None, feeds)[0],
                                           **TOL[np.float32], err_msg=f'{scale} {pooled}')


def reference_roi_align(X, boxes, pooled, scale, ratio, aligned):
    """The ONNX reference's RoiAlign-16 on X (its model declares X's float type)."""
    kind = TensorProto.DOUBLE if X.dtype == np.float64 else TensorProto.FLOAT
    names, kinds = ['X', 'rois', 'batch'], [kind, kind, TensorProto.INT64]
    node = helper.make_node('RoiAlign', names, ['Y'], output_height=pooled[0],
                            output_width=pooled[1], spatial_scale=scale,
                            sampling_ratio=ratio, mode='avg',
                            coordinate_transformation_mode='half_pixel' if aligned
                            else 'output_half_pixel')
    model = helper.make_model(helper.make_graph(
        [node], 'g', [helper.make_tensor_value_info(n, k, None) for n, k in zip(names, kinds)],
        [helper.make_tensor_value_info('Y', kind, None)]),
        opset_imports=[helper.make_opsetid('', 16)])
    feeds = {'X': X, 'rois': boxes[:, 1:].astype(X.dtype),
             'batch': boxes[:, 0].astype(np.int64)}
    return ReferenceEvaluator(model).run(None, feeds)[0]


@pytest.mark.parametrize('aligned', [False, True])
def test_roi_align_equals_the_onnx_reference_on_float64_maps(aligned):
    # Under NumPy 1.x the reference computes coordinates in float64 whatever the map.
    X = inputs(np.float64)
    for scale in (1.0, 0.5, 0.25):
        boxes = sweep_boxes(scale, np.random.default_rng(2), n_random=4)
        for pooled in [(2, 3), (7, 7)]:
            for ratio in (0, 2):
                got = reference_roi_align(X, boxes, pooled, scale, ratio, aligned)
                assert got.dtype == np.float64
                np.testing.assert_allclose(
                    roi_align(X, boxes, pooled, spatial_scale=scale, sample_ratio=ratio,
                              aligned=aligned), got, **TOL[np.float64])


def test_numpy_1_promotes_a_float32_scalar_times_a_python_float_to_float64():
    # Why the reference works in float64 here (NEP 50 ends this in NumPy 2): the book
    # pins NumPy 1.23, because MXNet 1.9.1 needs NumPy < 1.24.
    assert np.__version__.startswith('1.')
    assert type(np.float32(-4.75) * 0.5) is np.float64


def test_the_onnx_reference_differs_where_a_sample_lands_one_cell_outside():
    # x from -2.375 to 0.375 in 3 bins, one sample each: the middle one lies at
    # -2.375 + 0.9167 + 0.4583, which is -0.9999999 in float32 (it reads column 0) and
    # -1.0000000000000002 in float64 (more than a cell outside: it reads nothing).
    X = np.arange(99, dtype=np.float32).reshape(1, 1, 9, 11)
    box = np.array([[0, -4.75, 0, 0.75, 4]], np.float32)
    ours = roi_align(X, box, (2, 3), spatial_scale=0.5, sample_ratio=1)[0, 0]
    ref = reference_roi_align(X, box, (2, 3), 0.5, 1, False)[0, 0]
    mxnet = nd.contrib.ROIAlign(nd.array(X), nd.array(box), pooled_size=(2, 3),
                                spatial_scale=0.5, sample_ratio=1).asnumpy()[0, 0]
    np.testing.assert_allclose(ours, mxnet, rtol=1e-6)
    assert ours[0, 1] == X[0, 0, 0, 0] + 5.5 and ref[0, 1] == 0   # rows 0.5 + ... = 0.5
    third = np.float32(2.75) / np.float32(3)
    assert np.float32(-2.375) + third + third * np.float32(0.5) / np.float32(1) > -1
    assert -2.375 + 2.75 / 3 + 2.75 / 3 / 2 < -1


@pytest.mark.parametrize('op, old', [('MaxRoiPool', 1), ('RoiAlign', 16)])
def test_opset_22_adds_only_bfloat16_and_onnx_runtime_has_neither_new_version(op, old):
    was, now = onnx.defs.get_schema(op, 21), onnx.defs.get_schema(op, 22)
    assert (was.since_version, now.since_version) == (old, 22)
    assert (set(now.type_constraints[0].allowed_type_strs)
            - set(was.type_constraints[0].allowed_type_strs)) == {'tensor(bfloat16)'}
    assert sorted(now.attributes) == sorted(was.attributes)
    attrs = {'pooled_shape': [1, 1]} if op == 'MaxRoiPool' else {}
    with pytest.raises(ort.capi.onnxruntime_pybind11_state.NotImplemented,
                       match=f'{op}\\(22\\)'):
        onnx_session(op, 22, **attrs)
    if op == 'MaxRoiPool':  # the reference has no MaxRoiPool at any opset
        for opset in (10, 21, 22):
            model, _ = onnx_session(op, min(opset, 21), **attrs)
            model.opset_import[0].version = opset
            with pytest.raises(NotImplementedError, match='MaxRoiPool'):
                ReferenceEvaluator(model)


def test_the_defaults_differ_mxnet_unaligned_onnx_half_pixel():
    assert 'aligned : boolean, optional, default=0' in nd.contrib.ROIAlign.__doc__
    attr = onnx.defs.get_schema('RoiAlign', 16).attributes['coordinate_transformation_mode']
    assert attr.default_value.s == b'half_pixel'


ORT_MAX_WARNING = """
import onnxruntime as ort
from onnx import TensorProto, helper
names, kinds = ['X', 'rois', 'batch'], [TensorProto.FLOAT, TensorProto.FLOAT,
                                         TensorProto.INT64]
graph = helper.make_graph(
    [helper.make_node('RoiAlign', names, ['Y'], sampling_ratio=2, mode='max')], 'g',
    [helper.make_tensor_value_info(n, k, None) for n, k in zip(names, kinds)],
    [helper.make_tensor_value_info('Y', TensorProto.FLOAT, None)])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 16)])
ort.InferenceSession(model.SerializeToString(), providers=['CPUExecutionProvider'])
"""


def test_onnx_max_mode_takes_weighted_corners_and_onnx_runtime_warns():
    ones = np.ones((1, 1, 4, 4), np.float32)
    feeds = {'X': ones, 'rois': np.array([[0.25, 0.25, 3.75, 3.75]], np.float32),
             'batch': np.zeros(1, np.int64)}
    # By hand: half_pixel (the default) moves the box to -0.25..3.25; two samples per
    # axis at 0.625 and 2.375 read their nearer cell at 0.625; 0.625 ** 2. Without the
    # offset they sit at 1.125 and 2.875: 0.875 ** 2.
    for mode, want in [(None, 0.625 ** 2), ('half_pixel', 0.625 ** 2),
                       ('output_half_pixel', 0.875 ** 2)]:
        extra = {'coordinate_transformation_mode': mode} if mode else {}
        model, session = onnx_session('RoiAlign', 16, sampling_ratio=2, mode='max',
                                      **extra)
        assert session.run(None, feeds)[0].item() == want
        assert ReferenceEvaluator(model).run(None, feeds)[0].item() == want
    # The mean of the samples, ours, is 1 on a map of ones.
    assert roi_align(ones, np.array([[0, .25, .25, 3.75, 3.75]]), 1, sample_ratio=2,
                     aligned=True).item() == 1
    child = subprocess.run([sys.executable, '-c', ORT_MAX_WARNING], capture_output=True,
                           text=True, timeout=120, check=True)
    assert ('The existing summation for max mode and sampling ratios besides 1 is '
            'incorrect') in child.stderr


def loop_roi_align(X, boxes, pooled, scale, ratio, aligned):
    """ROIAlign one sample at a time in Python floats (for float64 X), every sample of
    every bin, bilinear interpolation written out."""
    (p_h, p_w), (n_h, n_w) = pooled, X.shape[2:]

    def bilinear(M, y, x):
        if y < -1 or y > n_h or x < -1 or x > n_w:
            return 0 * M[:, 0, 0]
        y, x = max(y, 0.0), max(x, 0.0)
        y0, x0 = min(int(y), n_h - 1), min(int(x), n_w - 1)
        y1, x1 = min(y0 + 1, n_h - 1), min(x0 + 1, n_w - 1)
        ly, lx = (y - y0 if y0 < n_h - 1 else 0.0), (x - x0 if x0 < n_w - 1 else 0.0)
        return ((1 - ly) * (1 - lx) * M[:, y0, x0] + (1 - ly) * lx * M[:, y0, x1]
                + ly * (1 - lx) * M[:, y1, x0] + ly * lx * M[:, y1, x1])

    Y = np.zeros((len(boxes), X.shape[1], p_h, p_w))
    for r, (b, *corners) in enumerate(boxes):
        x1, y1, x2, y2 = (v * scale - (0.5 if aligned else 0) for v in corners)
        h, w = y2 - y1, x2 - x1
        if not aligned:
            h, w = max(h, 1.0), max(w, 1.0)
        g_h = ratio if ratio > 0 else math.ceil(h / p_h)
        g_w = ratio if ratio > 0 else math.ceil(w / p_w)
        for i in range(p_h):
            for j in range(p_w):
                total = 0 * X[0, :, 0, 0]
                for a in range(g_h):
                    for c in range(g_w):
                        y = y1 + i * h / p_h + (a + .5) * h / p_h / g_h
                        x = x1 + j * w / p_w + (c + .5) * w / p_w / g_w
                        total = total + bilinear(X[int(b)], y, x)
                Y[r, :, i, j] = total / max(g_h * g_w, 1)
    return Y


@pytest.mark.parametrize('aligned', [False, True])
def test_roi_align_equals_a_loop(aligned):
    # Also: sample_ratio 0 is the adaptive grid, as -1 is.
    X = inputs(np.float64)
    boxes = sweep_boxes(1.0, np.random.default_rng(3), n_random=6)
    for ratio in (-1, 0, 2):
        np.testing.assert_allclose(
            roi_align(X, boxes, (3, 2), sample_ratio=ratio, aligned=aligned),
            loop_roi_align(X, boxes, (3, 2), 1.0, ratio, aligned), rtol=1e-12, atol=1e-12)


def test_roi_align_of_a_linear_map_is_exact_with_aligned():
    # X[y, x] = x: bilinear interpolation of a linear map is exact, so each bin's mean is
    # the mean of x over the bin, in cell-centre coordinates: (left + right) / 2 - 1/2.
    X = np.tile(np.arange(20.0), (1, 1, 10, 1))
    for x1, x2 in [(2.0, 8.0), (3.3, 9.1), (4.75, 5.5)]:
        Y = roi_align(X, np.array([[0, x1, 2, x2, 8]]), (1, 4), aligned=True)[0, 0, 0]
        edges = np.linspace(x1, x2, 5)
        np.testing.assert_allclose(Y, (edges[:-1] + edges[1:]) / 2 - 0.5, atol=1e-12)
        Y = roi_align(X, np.array([[0, x1, 2, x2, 8]]), (1, 4), aligned=False)[0, 0, 0]
        if x2 - x1 >= 1:  # not stretched to one cell: half a cell to the right
            np.testing.assert_allclose(Y, (edges[:-1] + edges[1:]) / 2, atol=1e-12)


def test_roi_align_kinds_and_dtypes():
    X, box = inputs(np.float32), np.array([[2, 0.5, 1, 6, 7.5]])
    want = roi_align(X, box, 3)
    Y = roi_align(nd.array(X), nd.array(box), 3)
    assert isinstance(Y, nd.NDArray) and np.array_equal(Y.asnumpy(), want)
    assert isinstance(roi_align(mx.np.array(X), box, 3), mx.np.ndarray)
    half = roi_align(X.astype(np.float16), box, 3)
    assert half.dtype == np.float16
    np.testing.assert_allclose(half, roi_align(X.astype(np.float16).astype(np.float32),
                                               box, 3), rtol=1e-3)
    ints = roi_align((X * 10).astype(np.int32), box, 3)
    assert ints.dtype == np.float64
    np.testing.assert_allclose(ints, roi_align((X * 10).astype(np.int32).astype(np.float64),
                                               box, 3))


def test_nan_and_infinity_reach_only_the_bins_that_read_them():
    X = np.zeros((1, 1, 6, 6))
    X[0, 0, 1, 1], X[0, 0, 4, 4], X[0, 0, 4, 1] = np.nan, np.inf, -np.inf
    # aligned: box [0, 6] in 2 x 2 bins, adaptive 3 x 3 samples, at cell-centre
    # coordinates 0.5 + k - 1/2 = k: every sample on a cell, weight 1 on it and 0 on
    # its neighbours. Bin (0, 0) reads cells 0..2 x 0..2, (1, 1) reads 3..5 x 3..5.
    Y = roi_align(X, np.array([[0, 0, 0, 6, 6]]), 2, aligned=True)[0, 0]
    assert np.isnan(Y[0, 0]) and Y[0, 1] == 0 and Y[1, 0] == -np.inf and Y[1, 1] == np.inf
    X[0, 0, 4, 5] = -np.inf  # inf and -inf in one bin: NaN
    assert np.isnan(roi_align(X, np.array([[0, 0, 0, 6, 6]]), 2, aligned=True)[0, 0, 1, 1])


def test_huge_boxes_cost_what_the_map_costs():
    X = inputs(np.float32)
    box = np.array([[0, -2.0**23, -2.0**23, 2.0**23, 2.0**23]], np.float32)
    Y = within_steps(lambda: roi_align(X, box, 7), budget=20_000)
    assert Y.shape == (1, C, 7, 7) and np.isfinite(Y).all()
    # Samples 1 apart over 2**24 cells per axis: nearly all outside, so tiny values;
    # the bins far from the map read nothing at all.
    assert (Y[..., 0, :] == 0).all() and np.abs(Y).max() < 1e-6
    assert within_steps(lambda: roi_pool(X, box, 7), budget=20_000).shape == (1, C, 7, 7)


def test_skipping_samples_outside_changes_nothing(monkeypatch):
    X = inputs(np.float32)
    boxes = sweep_boxes(0.25, np.random.default_rng(4), n_random=5).astype(np.float32)
    boxes = np.vstack([boxes, [[1, -400, -300, 500, 600], [0, 30, 40, 2000, 50]]])
    for aligned in (False, True):
        for ratio in (-1, 3):
            want = roi_align(X, boxes, (3, 4), spatial_scale=0.25, sample_ratio=ratio,
                             aligned=aligned)
            with monkeypatch.context() as m:  # every sample, as MXNet computes them
                m.setattr(regions, 'sample_range',
                          lambda start, bin_size, grid, out, n: np.arange(out * grid))
                every = roi_align(X, boxes, (3, 4), spatial_scale=0.25,
                                  sample_ratio=ratio, aligned=aligned)
            np.testing.assert_array_equal(want, every)


# ----------------------------------------------------------------------------------------
# Refusals: a clear error naming the argument; inputs unchanged.

BOX = np.array([[0, 1, 1, 5, 5]], np.float32)


@pytest.mark.parametrize('fn', [roi_pool, roi_align])
@pytest.mark.parametrize('rois, error, words', [
    (np.zeros((1, 4)), ValueError, ['rois', '(R, 5)']),
    (np.zeros(5), ValueError, ['rois', '(R, 5)']),
    (np.zeros((0, 5)), ValueError, ['rois', 'R >= 1']),
    ([[0, 1, 1, 5, 5]], TypeError, ['rois', 'np.asarray']),
    (np.ones((1, 5), bool), TypeError, ['rois', 'real']),
    (np.array([[0, np.nan, 1, 5, 5]]), ValueError, ['rois[0]', 'NaN']),
    (np.array([[0, 1, 1, np.inf, 5]]), ValueError, ['rois[0]', 'infinity']),
    (np.array([[0, 1, 1, 5, 5], [-1, 1, 1, 5, 5]]), ValueError, ['rois[1]', 'batch index']),
    (np.array([[3, 1, 1, 5, 5]]), ValueError, ['rois[0]', 'N - 1 = 2']),
    (np.array([[0.5, 1, 1, 5, 5]]), ValueError, ['rois[0]', 'not an integer']),
    (np.array([[0, 5, 1, 1, 5]]), ValueError, ['rois[0]', 'x2 < x1']),
    (np.array([[0, 1, 5, 5, 1]]), ValueError, ['rois[0]', 'y2 < y1']),
    (np.array([[0, 1, 1, 5, 2.0**30]]), ValueError, ['rois[0]', '2**24']),
])
def test_bad_boxes_are_refused(fn, rois, error, words):
    with pytest.raises(error) as info:
        fn(inputs(np.float32), rois, 2)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize('fn', [roi_pool, roi_align])
@pytest.mark.parametrize('kwargs, error, word', [
    (dict(spatial_scale=0), ValueError, 'spatial_scale'),
    (dict(spatial_scale=-0.5), ValueError, 'spatial_scale'),
    (dict(spatial_scale=float('nan')), ValueError, 'spatial_scale'),
    (dict(spatial_scale=True), TypeError, 'spatial_scale'),
    (dict(spatial_scale='1'), TypeError, 'spatial_scale'),
    (dict(pooled_size=0), ValueError, 'pooled_size'),
    (dict(pooled_size=(2, 2, 2)), ValueError, 'pooled_size'),
    (dict(pooled_size=1.5), TypeError, 'pooled_size'),
])
def test_bad_arguments_are_refused(fn, kwargs, error, word):
    kwargs = {'pooled_size': 2, **kwargs}
    with pytest.raises(error, match=word):
        fn(inputs(np.float32), BOX, **kwargs)


@pytest.mark.parametrize('kwargs, error, word', [
    (dict(pooled_size=(2**23, 1)), ValueError, 'pooled_size'),  # 2**23 x 9 rows
    (dict(pooled_size=(1, 2**23)), ValueError, 'pooled_size'),
    (dict(sample_ratio=1.5), TypeError, 'sample_ratio'),
    (dict(sample_ratio=2000), ValueError, 'sample_ratio'),
    (dict(aligned=1), TypeError, 'aligned'),
])
def test_bad_roi_align_arguments_are_refused(kwargs, error, word):
    kwargs = {'pooled_size': 2, **kwargs}
    with pytest.raises(error, match=word):
        roi_align(inputs(np.float32), BOX, **kwargs)


@pytest.mark.parametrize('fn', [roi_pool, roi_align])
def test_bad_maps_are_refused_and_inputs_unchanged(fn):
    with pytest.raises(ValueError, match='X'):
        fn(inputs(np.float32)[0], BOX, 2)
    with pytest.raises(TypeError, match='masked'):
        fn(np.ma.masked_array(inputs(np.float32)), BOX, 2)
    X, boxes = inputs(np.float32), BOX.copy()
    X.flags.writeable = boxes.flags.writeable = False
    before = X.copy(), boxes.copy()
    fn(X, boxes, 2, spatial_scale=0.5)
    assert np.array_equal(X, before[0]) and np.array_equal(boxes, before[1])


# ----------------------------------------------------------------------------------------
# Spatial pyramid pooling.

def test_the_paper_recipe_fails_for_11_cells_and_4_bins():
    k, s = spp_paper_window(11, 4)
    assert (k, s) == (3, 2) and output_size(11, k, s, 0) == 5  # by hand: (11-3)//2+1
    X = np.zeros((1, 1, 11, 11))
    from poolbook import pool2d
    assert pool2d(X, k, strides=s).shape == (1, 1, 5, 5)


def paper_windows(a, n):
    """The paper's windows over a cells, by brute force: [i s, i s + k) while they fit."""
    k, s = spp_paper_window(a, n)
    starts = list(range(0, a - k + 1, s)) if s > 0 else []
    return [(i, i + k) for i in starts]


def test_the_paper_recipe_works_exactly_when_a_mod_n_is_0_or_1():
    # With a = n s + q: q = 0 gives n windows of s; q = 1 gives n windows of s + 1 that
    # end at the last cell; 2 <= q <= s gives n windows missing the last q - 1 cells;
    # q > s gives more than n windows; a < n gives a stride of 0.
    failures = 0
    for a in range(1, 129):
        for n in range(1, 9):
            windows = paper_windows(a, n)
            right = len(windows) == n and windows[-1][1] == a
            assert right == (a >= n and a % n in (0, 1)), (a, n, windows)
            failures += not right
            s, q = a // n, a % n
            if a >= n and q >= 2:
                expected = n + (q - 1) // s
                assert len(windows) == expected == output_size(a, *spp_paper_window(a, n), 0)
                if expected == n:
                    assert windows[-1][1] == a - (q - 1)
    assert failures > 0


def test_the_paper_recipe_misses_every_size_of_chapter_6s_padded_family():
    # n divides a + 1 (and not a or a - 1): ordinary pooling with padding 1
    # (adaptive.ordinary_window), and the paper's recipe fails on every one of them.
    from poolbook.adaptive import ordinary_window
    padded = [(a, n) for n in range(1, 9) for a in range(n, 129)
              if ordinary_window(a, n) and ordinary_window(a, n)[2] == 1]
    assert padded and all((a + 1) % n == 0 for a, n in padded)
    for a, n in padded:
        windows = paper_windows(a, n)
        assert len(windows) != n or windows[-1][1] != a, (a, n)


def test_spp_window_is_not_adaptive_pooling():
    # 11 cells, 4 bins: windows of 5 at stride 2, [0, 5) [2, 7) [4, 9) [6, 11), against
    # the adaptive bins [0, 3) [2, 6) [5, 9) [8, 11) (by hand: 11 / 4 = 2.75).
    assert spp_window(11, 4) == (5, 2)
    assert [b.tolist() for b in adaptive_bins(11, 4)] == [[0, 2, 5, 8], [3, 6, 9, 11]]
    X = np.zeros((11, 11))
    X[0, 3] = 1  # in the first window, not in the first bin
    from poolbook import pool2d
    from poolbook.adaptive import adaptive_pool2d
    assert pool2d(X, 5, strides=2)[0, 0] == 1 and adaptive_pool2d(X, 4)[0, 0] == 0


def test_spp_window_gives_n_covering_windows_for_every_size():
    for a in range(1, 97):
        for n in range(1, a + 1):
            k, s = spp_window(a, n)
            assert 1 <= s <= k <= a and output_size(a, k, s, 0) == n
            assert (n - 1) * s + k == a  # the last window ends at the last cell
            assert s <= k  # no gap between windows
    with pytest.raises(ValueError, match='adaptive'):
        spp_window(3, 4)


def test_pyramid_pool2d_shapes_and_values():
    rng = np.random.default_rng(5)
    for shape in [(2, 3, 13, 9), (3, 5, 4), (1, 2, 2, 2)]:
        X = rng.standard_normal(shape).astype(np.float32)
        Y = pyramid_pool2d(X, (1, 2, 4))
        assert Y.shape == shape[:-3] + (shape[-3] * 21,)
    X = rng.standard_normal((2, 3, 13, 9)).astype(np.float32)
    avg = pyramid_pool2d(X, (1, 3), 'avg')
    want = [nd.contrib.AdaptiveAvgPooling2D(nd.array(X), output_size=n).asnumpy()
            .reshape(2, -1) for n in (1, 3)]
    np.testing.assert_allclose(avg, np.concatenate(want, axis=1), rtol=1e-5, atol=1e-6)
    # max by the bin rule, written out: level 2 of 13 rows: [0, 7), [6, 13).
    top = pyramid_pool2d(X, (2,))
    rows, cols = adaptive_bins(13, 2), adaptive_bins(9, 2)
    assert [r.tolist() for r in rows] == [[0, 6], [7, 13]]   # by hand: 6.5 per bin
    assert [c.tolist() for c in cols] == [[0, 4], [5, 9]]    # 4.5 per bin
    want = np.array([[[X[b, c, r0:r1, c0:c1].max() for r0, r1 in [(0, 7), (6, 13)]
                       for c0, c1 in [(0, 5), (4, 9)]] for c in range(3)]
                     for b in range(2)]).reshape(2, -1)
    np.testing.assert_array_equal(top, want)
    assert isinstance(pyramid_pool2d(nd.array(X)), nd.NDArray)


def test_pyramid_pool2d_equals_pytorchs_adaptive_pooling():
    import torch
    import torch.nn.functional as F
    rng = np.random.default_rng(6)
    levels = (1, 2, 3, 4, 6)
    for shape in [(19, 15), (29, 45), (3, 2), (11, 11), (1, 1), (7, 13)]:
        X = rng.standard_normal((2, 3) + shape)
        for mode, torch_pool in [('max', F.adaptive_max_pool2d),
                                 ('avg', F.adaptive_avg_pool2d)]:
            want = torch.cat([torch_pool(torch.from_numpy(X), n).flatten(1)
                              for n in levels], dim=1).numpy()
            got = pyramid_pool2d(X, levels, mode)
            if mode == 'max':
                np.testing.assert_array_equal(got, want, err_msg=str(shape))
            else:
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('levels', [(), 'abc', (0, 1), (1.5,), 3])
def test_bad_levels_are_refused(levels):
    with pytest.raises(ValueError, match='levels'):
        pyramid_pool2d(np.zeros((1, 2, 4, 4)), levels)
