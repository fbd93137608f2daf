"""poolbook.frameworks: every framework called the same way, and every agreement and
disagreement chapter 8 shows.

Where the expected values come from: worked out by hand in the comments (the window's
cells, the padding, the divisor), or from the frameworks themselves where the test is
that two of them agree; never from poolbook's output. A disagreement is asserted as a
disagreement, with each side's value, so that a framework upgrade that changes either
side fails here and sends us back to the chapter.
"""
import math
import os
import sys

import numpy as np
import pytest
import torch
from mxnet import nd
from mxnet.gluon import nn

from poolbook import frameworks as fw
from poolbook.pooling import pool2d

fw.start_workers()  # MXNet's other kernel starts in a child while the first tests run
nan, inf = np.nan, np.inf
LOWEST = float(np.finfo(np.float32).min)  # MXNet's and ONNX Runtime's start of a max
EVERY = fw.FRAMEWORKS


def f32(rows):
    return np.array(rows, np.float32)


def values(result):
    """A result as a flat list of floats (for comparing with a hand-written list)."""
    assert not isinstance(result, fw.Refused), result
    return np.asarray(result, np.float64).ravel().tolist()


def same(result, expected):
    """result equals the hand-written `expected` (NaN equal to NaN)."""
    assert not isinstance(result, fw.Refused), result
    np.testing.assert_allclose(np.asarray(result, np.float64), np.float64(expected),
                               rtol=1e-6, equal_nan=True)
    return True


# ------------------------------------------------------------------ the module itself

def test_refused_prints_its_kind_and_message():
    assert str(fw.Refused('error', 'no')) == 'refused: no'
    assert str(fw.Refused('unsupported', 'none')) == 'no such option: none'


def test_one_line_keeps_the_message_and_drops_paths():
    mxnet = ('Traceback (most recent call last):\n  File "../src/x.cc", line 2\n'
             'MXNetError: Check failed: a < b (2 vs. 2) : ')
    assert fw.one_line(mxnet) == 'Check failed: a < b (2 vs. 2)'
    ort = ('[ONNXRuntimeError] : 1 : FAIL : Exception during initialization: '
           '/src/pool_attributes.h:88 f() pads < k was false. Pad should be smaller.')
    assert fw.one_line(ort) == 'Pad should be smaller.'
    assert fw.one_line('x' * 300, limit=20) == 'x' * 17 + '...'


def test_geometry_refuses_what_no_framework_could_mean():
    with pytest.raises(ValueError, match='mode'):
        fw.geometry(2, 'min')
    with pytest.raises(ValueError, match='p_value'):
        fw.geometry(2, 'lp')
    with pytest.raises(ValueError, match='p_value'):
        fw.geometry(2, 'max', p_value=2)
    with pytest.raises(ValueError, match='auto_pad'):
        fw.geometry(2, auto_pad='SAME')
    with pytest.raises(ValueError, match='padding must be 0'):
        fw.geometry(2, padding=1, auto_pad='SAME_UPPER')
    with pytest.raises(TypeError, match='count_include_pad'):
        fw.geometry(2, 'avg', count_include_pad=1)
    with pytest.raises(TypeError, match='pool_size'):
        fw.geometry(2.0)
    g = fw.geometry((2, 3), strides=(1, 2), padding=1, auto_pad='NOTSET')
    assert (g.window, g.strides, g.padding, g.auto_pad) == ((2, 3), (1, 2), (1, 1), None)


def test_inputs_of_every_rank_come_back_in_their_rank_and_other_dtypes_are_refused():
    X = np.arange(16, dtype=np.float32).reshape(4, 4)
    for shape in [(4, 4), (1, 4, 4), (1, 1, 4, 4)]:
        for name in ('pytorch', 'onnxruntime', 'mxnet'):
            assert fw.pool2d_in(name, X.reshape(shape), 2).shape == shape[:-2] + (3, 3)
    assert fw.pool2d_in('pytorch', nd.array(X), 2).shape == (3, 3)
    with pytest.raises(TypeError, match='float32 or float64'):
        fw.pool2d_in('pytorch', X.astype(np.int32), 2)
    with pytest.raises(TypeError, match='numpy array'):
        fw.pool2d_in('pytorch', X.tolist(), 2)
    with pytest.raises(ValueError, match='framework'):
        fw.pool2d_in('tensorflow', X, 2)


def test_agree_is_equal_shapes_and_values_with_nan_equal_or_both_refusing():
    assert fw.agree(f32([nan, 1]), np.array([nan, 1.0000001]))
    assert not fw.agree(f32([1, 2]), f32([[1, 2]]))
    assert not fw.agree(f32([LOWEST]), f32([-inf]))
    error, missing = fw.Refused('error', 'a'), fw.Refused('unsupported', 'b')
    assert fw.agree(error, fw.Refused('error', 'other words'))
    assert not fw.agree(missing, missing) and not fw.agree(error, f32([1]))
    assert fw.agree((1, 3), (1, 3)) and not fw.agree((1, 3), (1, 4))


def test_a_comparison_prints_rounded_values_and_groups():
    table = fw.Comparison({'mxnet': f32([[1 / 3, LOWEST]]), 'pytorch': f32([[1 / 3]]),
                           'poolbook': f32([[0.33333334]]),
                           'onnxruntime': fw.Refused('unsupported', 'none')},
                          title='t', digits=3)
    assert table.groups() == {'mxnet': 'A', 'pytorch': 'B', 'poolbook': 'B',
                              'onnxruntime': '-'}
    assert str(table).splitlines() == [
        't', 'MXNet          A  [[0.333, -3.4e+38]]',
        'PyTorch        B  [[0.333]]', 'poolbook       B  [[0.333]]',
        'ONNX Runtime   -  no such option: none']
    assert table.agree('pytorch', 'poolbook') and not table.agree('mxnet', 'pytorch')
    wrapped = fw.Comparison({'pytorch': fw.Refused('error', 'word ' * 40),
                             'mxnet': np.arange(40, dtype=np.float32) / 3})
    assert max(len(line) for line in str(wrapped).splitlines()) <= fw.WIDTH
    atlas = fw.Atlas([('row', table)], values=True)
    assert str(atlas).splitlines()[1].split() == ['row', '0.333,', '-3.4e+38', '0.333',
                                                  '0.333', '-']
    assert str(fw.Atlas([('row', table)])).splitlines()[1].split() == ['row', 'A', 'B',
                                                                       'B', '-']


def test_the_kernel_here_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv('MXNET_MKLDNN_ENABLED', '0')
    assert fw.mxnet_kernel_here() == 'native'
    monkeypatch.delenv('MXNET_MKLDNN_ENABLED')
    assert fw.mxnet_kernel_here() == 'default'


def test_both_mxnet_kernels_run_whichever_this_process_has():
    # The one case where the kernels differ in a way that shows: the gradient of a max
    # over NaN only. oneDNN sends it to the window's first cell, the native kernel
    # nowhere. Whichever kernel this process runs, the other runs in the child.
    X = f32([[nan, nan], [nan, nan]])
    assert values(fw.pool2d_gradient('mxnet', X, 2)) == [1, 0, 0, 0]
    assert values(fw.pool2d_gradient('mxnet-native', X, 2)) == [0, 0, 0, 0]
    fw.start_workers()  # a no-op once the child runs
    other = 'native' if fw.KERNEL_HERE == 'default' else 'default'
    assert fw.WORKERS[other].process.poll() is None


def test_a_child_that_dies_is_reported_with_what_it_wrote():
    worker = fw.MXNetWorker('native')
    worker.script = 'import sys; sys.stderr.write("gone"); sys.exit(3)'
    with pytest.raises(RuntimeError, match='(?s)stopped \\(exit code 3\\).*gone'):
        worker(('Pooling', {'kernel': (1, 1)}, f32([[[[1]]]]), False, None))
    assert worker.process is None and worker.log is None


def test_torch_gets_the_threads_it_would_have_had(monkeypatch):
    assert torch.get_num_threads() == fw.TORCH_THREADS
    monkeypatch.setenv('OMP_NUM_THREADS', '3')
    assert fw.default_torch_threads() == 3
    monkeypatch.delenv('OMP_NUM_THREADS')
    threads = fw.torch_threads_across_mxnet_import(2)  # the child has no OMP_NUM_THREADS
    assert threads['alone'] == fw.default_torch_threads()  # PyTorch's default, alone
    assert (threads['before'], threads['after']) == (2, 1)  # import mxnet set it to 1


# ------------------------------------------------------------------ chapter 8, in order

def test_an_ordinary_input_gives_one_answer_everywhere():
    X = np.arange(16, dtype=np.float32).reshape(4, 4)
    table = fw.compare(X, 2, strides=2)
    assert all(same(table[name], [[5, 7], [13, 15]]) for name in EVERY)


@pytest.mark.parametrize('stride', [1, 2])
@pytest.mark.parametrize('cell', [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_where_a_nan_in_a_max_window_survives(cell, stride):
    X = f32([[1, 2], [3, 4]])
    X[cell] = nan
    rest = [float(np.nanmax(X))]  # the largest of the three numbers left
    table = fw.compare(X, 2, strides=stride)
    for name in ('mxnet', 'mxnet-native'):  # NaN skipped, wherever it is
        assert values(table[name]) == rest
    for name in ('pytorch', 'poolbook'):  # NaN propagated, wherever it is
        assert same(table[name], [[nan]])
    # ONNX Runtime: from one cell only, and not the same one for the two strides
    ort_nan = cell == ((1, 1) if stride == 1 else (0, 1))
    assert same(table['onnxruntime'], [[nan]] if ort_nan else [rest])
    # the reference: never with stride 1; with stride 2 from the first cell only
    ref_nan = stride == 2 and cell == (0, 0)
    assert same(table['onnx-reference'], [[nan]] if ref_nan else [rest])


@pytest.mark.parametrize('stride', [1, 2])
def test_windows_without_a_number(stride):
    all_nan = fw.compare(f32([[nan, nan], [nan, nan]]), 2, strides=stride)
    assert values(all_nan['mxnet']) == values(all_nan['mxnet-native']) == [LOWEST]
    for name in ('pytorch', 'onnxruntime', 'poolbook'):
        assert np.isnan(values(all_nan[name])).all()
    if stride == 1:  # the reference's NaN-dropping path: the max of nothing
        assert all_nan['onnx-reference'].kind == 'error'
        assert 'zero-size array' in all_nan['onnx-reference'].message
    else:
        assert np.isnan(values(all_nan['onnx-reference'])).all()
    all_inf = fw.compare(f32([[-inf, -inf], [-inf, -inf]]), 2, strides=stride)
    assert values(all_inf['mxnet']) == values(all_inf['mxnet-native']) == [LOWEST]
    assert values(all_inf['onnxruntime']) == [LOWEST if stride == 1 else -inf]
    for name in ('pytorch', 'onnx-reference', 'poolbook'):
        assert values(all_inf[name]) == [-inf]
    mixed = fw.compare(f32([[-inf, nan], [-inf, -inf]]), 2, strides=stride)
    assert values(mixed['mxnet']) == values(mixed['mxnet-native']) == [LOWEST]
    assert values(mixed['onnx-reference']) == [-inf]
    assert same(mixed['onnxruntime'], [[LOWEST if stride == 1 else nan]])
    assert same(mixed['pytorch'], [[nan]]) and same(mixed['poolbook'], [[nan]])


def test_pool2d_skips_nan_as_mxnet_does_once_nan_becomes_minus_infinity():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    X[rng.random(X.shape) < 0.5] = nan
    skip = pool2d(np.where(np.isnan(X), -inf, X), 2, strides=2)
    skip[skip == -inf] = LOWEST
    assert (skip == LOWEST).any() and np.isfinite(skip).all()  # some windows all NaN
    for name in ('mxnet', 'mxnet-native'):
        np.testing.assert_array_equal(skip, fw.pool2d_in(name, X, 2, strides=2))


def test_padding_as_large_as_the_window():
    X = np.arange(1, 10, dtype=np.float32).reshape(3, 3)
    table = fw.compare(X, 2, strides=2, padding=2)
    # windows start at -2, 0, 2 along each axis: the first row and column hold padding
    # only; window (1, 1) holds cell 5 (row 0, col 0 of X is 1: cells 1; 2 4 5 ...)
    for name in ('mxnet', 'pytorch', 'onnxruntime', 'poolbook'):
        assert table[name].kind == 'error', name
    assert 'pad_l[0] < kernel[0]' in table['mxnet'].message
    assert 'at most half' in table['pytorch'].message
    assert table['onnxruntime'].message == 'Pad should be smaller than kernel.'
    # window (1, 1) covers X[0:2, 0:2] = 1, 2, 4, 5; (1, 2) X[0:2, 2:3] = 3, 6; ...
    lo = LOWEST
    assert same(table['mxnet-native'], [[lo, lo, lo], [lo, 5, 6], [lo, 8, 9]])
    assert same(table['onnx-reference'], [[0, 0, 0], [0, 5, 6], [0, 8, 9]])
    stride1 = fw.onnx_reference_pool2d(X, 2, padding=2)
    assert stride1.kind == 'error' and 'zero-size array' in stride1.message
    avg = fw.compare(X, 2, 'avg', strides=2, padding=2, count_include_pad=False)
    # the mean of the cells inside: (1 + 2 + 4 + 5) / 4 = 3, (3 + 6) / 2 = 4.5, ...
    assert same(avg['mxnet-native'], [[0, 0, 0], [0, 3, 4.5], [0, 7.5, 9]])
    assert same(avg['onnx-reference'], [[nan, nan, nan], [nan, 3, 4.5], [nan, 7.5, 9]])
    for name in ('mxnet', 'pytorch', 'onnxruntime', 'poolbook'):
        assert avg[name].kind == 'error', name


def test_ceil_mode_and_a_window_that_would_start_past_the_input():
    # 6 cells, window 1, stride 2: ceil((6 - 1) / 2) + 1 = 4 windows; the 4th starts at
    # cell 6, past the input: MXNet keeps it (the lowest float32), the others drop it
    X = np.arange(6, dtype=np.float32).reshape(1, 6)
    table = fw.compare(X, 1, strides=2, ceil_mode=True)
    assert values(table['mxnet']) == values(table['mxnet-native']) == [0, 2, 4, LOWEST]
    for name in ('pytorch', 'onnxruntime', 'onnx-reference', 'poolbook'):
        assert values(table[name]) == [0, 2, 4]


def test_ceil_mode_and_a_window_that_would_start_in_the_padding():
    # 5 cells, window 2, stride 2, padding 1: windows start at -1, 1, 3, 5; the last
    # one starts in the trailing padding. Averages counting padding: 1/2, 1, 1, (0)
    X = np.ones((1, 5), np.float32)
    table = fw.compare(X, (1, 2), 'avg', strides=2, padding=(0, 1), ceil_mode=True)
    assert values(table['mxnet']) == values(table['mxnet-native']) == [0.5, 1, 1, 0]
    for name in ('pytorch', 'onnxruntime', 'onnx-reference', 'poolbook'):
        assert values(table[name]) == [0.5, 1, 1]


def test_shape_inference_in_ceil_mode_depends_on_the_opset():
    old = fw.output_shapes((1, 1, 1, 6), 1, strides=2, ceil_mode=True, opset=21)
    new = fw.output_shapes((1, 1, 1, 6), 1, strides=2, ceil_mode=True, opset=22)
    assert old == {'mxnet': (1, 1, 1, 4), 'pytorch': (1, 1, 1, 3),
                   'onnx-reference': (1, 1, 1, 4), 'onnxruntime': (1, 1, 1, 4),
                   'poolbook': (1, 1, 1, 3)}
    assert new == dict(old, onnxruntime=(1, 1, 1, 3), **{'onnx-reference': (1, 1, 1, 3)})
    assert 'ONNX inference' in str(old)
    X = np.arange(6, dtype=np.float32).reshape(1, 6)  # what the opset-21 model computes
    assert fw.onnxruntime_pool2d(X, 1, strides=2, ceil_mode=True, opset=21).shape == (1, 3)


def test_shapes_of_refusals_and_same_padding():
    shapes = fw.output_shapes((1, 1, 3, 3), 2, padding=2)
    assert shapes['pytorch'].kind == 'error' and shapes['onnxruntime'].kind == 'error'
    assert shapes['mxnet'] == (1, 1, 6, 6)  # MXNet's inference accepts what oneDNN refuses
    same_ = fw.output_shapes((1, 1, 1, 6), (1, 3), strides=(1, 2), auto_pad='SAME_UPPER')
    assert same_['onnx-reference'] == same_['onnxruntime'] == (1, 1, 1, 3)  # ceil(6/2)
    assert same_['pytorch'].kind == same_['poolbook'].kind == 'unsupported'


def test_the_default_divisor_of_an_average():
    # 3 x 3 ones, window 3, padding 1: the corner window holds 4 cells and 5 padding
    # cells: 4/9 counting padding, 4/4 not; an edge window 6/9; the centre 9/9
    X = np.ones((3, 3), np.float32)
    table = fw.compare(X, 3, 'avg', padding=1, count_include_pad=None)
    counted = [[4 / 9, 6 / 9, 4 / 9], [6 / 9, 1, 6 / 9], [4 / 9, 6 / 9, 4 / 9]]
    for name in ('mxnet', 'mxnet-native', 'pytorch', 'poolbook'):
        assert same(table[name], counted)
    for name in ('onnxruntime', 'onnx-reference'):
        assert same(table[name], np.ones((3, 3)))
    assert fw.agree(pool2d(X, 3, 'avg', padding=1, count_include_pad=False),
                    table['onnxruntime'])


@pytest.mark.parametrize('count_include_pad, expected', [
    # 1..6, window 3, stride 2, padding 1, ceil: windows start at -1, 1, 3, 5.
    # (pad, 1, 2) -> 3 / 3 or 3 / 2; (2, 3, 4) -> 3; (4, 5, 6) -> 5; (6, pad, past) ->
    # 6 / 2 (the cell past the padded input never counts) or 6 / 1
    (True, [1, 3, 5, 3]), (False, [1.5, 3, 5, 6])])
def test_a_window_past_the_padded_input_divides_by_what_it_covers(count_include_pad,
                                                                 expected):
    X = np.arange(1, 7, dtype=np.float32).reshape(1, 6)
    table = fw.compare(X, (1, 3), 'avg', strides=2, padding=(0, 1), ceil_mode=True,
                       count_include_pad=count_include_pad)
    assert all(values(table[name]) == expected for name in EVERY)


def test_lp_pooling_signed_and_absolute():
    X = f32([[-1, -2], [-3, 4]])
    signed = {1: -1 - 2 - 3 + 4, 2: math.sqrt(1 + 4 + 9 + 16), 3: np.cbrt(-1 - 8 - 27 + 64)}
    norm = {1: 1 + 2 + 3 + 4, 2: math.sqrt(30), 3: np.cbrt(1 + 8 + 27 + 64)}
    for p in (1, 2, 3):
        table = fw.compare(X, 2, 'lp', p_value=p)
        for name in ('mxnet', 'mxnet-native', 'pytorch', 'poolbook'):
            assert same(table[name], [[signed[p]]]), (p, name)
        for name in ('onnxruntime', 'onnx-reference'):
            assert same(table[name], [[norm[p]]]), (p, name)
        assert fw.agree(pool2d(np.abs(X), 2, 'lp', p_value=p), table['onnxruntime'])
    negative = fw.compare(-np.abs(X), 2, 'lp', p_value=3)  # cubes sum to -100
    for name in ('mxnet', 'mxnet-native', 'poolbook'):
        assert same(negative[name], [[-np.cbrt(100)]])
    assert same(negative['pytorch'], [[nan]])  # (-100) ** (1/3)
    assert same(negative['onnxruntime'], [[np.cbrt(100)]])


def test_lp_pooling_with_padding_is_not_in_pytorch():
    table = fw.compare(np.ones((3, 3), np.float32), 2, 'lp', p_value=1, padding=1)
    assert table['pytorch'].kind == 'unsupported'
    # padding adds nothing to a sum: the corners hold one cell, the edges two
    edge = [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]
    for name in ('mxnet', 'onnxruntime', 'onnx-reference', 'poolbook'):
        assert same(table[name], edge)


def test_sum_pooling():
    # 1..9 in 3 x 3, window 2, stride 2, padding 1: windows (pad, 1), (2, 3), (4, 7),
    # (5, 6, 8, 9)
    X = np.arange(1, 10, dtype=np.float32).reshape(3, 3)
    table = fw.compare(X, 2, 'sum', strides=2, padding=1)
    for name in ('mxnet', 'mxnet-native', 'pytorch', 'poolbook'):
        assert same(table[name], [[1, 5], [11, 28]])
    assert table['onnxruntime'].kind == table['onnx-reference'].kind == 'unsupported'


# 1..n, window 3, stride 2: ceil(n / 2) outputs. 6 cells: one padding cell, at the
# end (UPPER) or the start (LOWER); 5 cells: two, one on each side, for both
SAME_BY_HAND = {(6, 'max', 'SAME_UPPER'): [3, 5, 6], (6, 'avg', 'SAME_UPPER'): [2, 4, 5.5],
                (6, 'max', 'SAME_LOWER'): [2, 4, 6], (6, 'avg', 'SAME_LOWER'): [1.5, 3, 5],
                (5, 'max', 'SAME_UPPER'): [2, 4, 5], (5, 'avg', 'SAME_UPPER'): [1.5, 3, 4.5],
                (5, 'max', 'SAME_LOWER'): [2, 4, 5], (5, 'avg', 'SAME_LOWER'): [1.5, 3, 4.5]}


@pytest.mark.parametrize('n, mode, auto_pad', list(SAME_BY_HAND))
def test_same_padding(n, mode, auto_pad):
    X = np.arange(1, n + 1, dtype=np.float32).reshape(1, n)
    table = fw.compare(X, (1, 3), mode, strides=(1, 2), auto_pad=auto_pad,
                       count_include_pad=None)  # ONNX's default: padding not counted
    assert values(table['onnxruntime']) == SAME_BY_HAND[n, mode, auto_pad]
    reference = values(table['onnx-reference'])
    if (mode, auto_pad) != ('max', 'SAME_LOWER'):
        assert reference == SAME_BY_HAND[n, mode, auto_pad]
    elif n == 6:  # the reference's strided max pads as for SAME_UPPER ...
        assert reference == SAME_BY_HAND[6, 'max', 'SAME_UPPER']
    else:  # ... and makes floor(5 / 2) outputs, not ceil: windows at 0 and 2,
        assert reference == [3, 5]  # no padding then: [1, 2, 3], [3, 4, 5]
    assert table['pytorch'].kind == table['poolbook'].kind == 'unsupported'
    if auto_pad == 'SAME_UPPER':  # MXNet's 'same' convention: 1-D max pooling only
        assert table['mxnet'].kind == table['mxnet-native'].kind == 'error'
        assert "'same' supports Max Pooling 1-D" in table['mxnet'].message
    else:
        assert table['mxnet'].kind == 'unsupported'


def test_same_padding_by_hand_with_pool2d():
    for n, pads in [(6, {'SAME_UPPER': (0, 1), 'SAME_LOWER': (1, 0)}),
                    (5, {'SAME_UPPER': (1, 1), 'SAME_LOWER': (1, 1)})]:
        X = np.arange(1, n + 1, dtype=np.float32).reshape(1, n)
        for auto_pad, pad in pads.items():
            padded = np.pad(X, ((0, 0), pad), constant_values=-inf)
            assert values(pool2d(padded, (1, 3), strides=(1, 2))) == \
                SAME_BY_HAND[n, 'max', auto_pad]
            sums = pool2d(np.pad(X, ((0, 0), pad)), (1, 3), 'sum', strides=(1, 2))
            cells = pool2d(np.pad(np.ones_like(X), ((0, 0), pad)), (1, 3), 'sum',
                           strides=(1, 2))
            assert values(sums / cells) == SAME_BY_HAND[n, 'avg', auto_pad]


def test_same_padding_with_a_window_smaller_than_the_stride():
    # 6 cells, window 1, stride 4: ceil(6 / 4) = 2 outputs, padding (2-1)*4 + 1 - 6 < 0,
    # which means none: windows at cells 0 and 4, values 1 and 5
    X = np.arange(1, 7, dtype=np.float32).reshape(1, 6)
    ort = fw.onnxruntime_pool2d(X, 1, strides=(1, 4), auto_pad='SAME_UPPER')
    assert ort.kind == 'error' and ort.message == 'padding values must be non-negative'
    ref = fw.onnx_reference_pool2d(X, 1, strides=(1, 4), auto_pad='SAME_UPPER')
    assert values(ref) == [2, 6]  # shifted by the negative padding, not [1, 5]


def test_adaptive_pooling():
    # 10 cells in 4 bins: [0, 3), [2, 5), [5, 8), [7, 10) of 0..9
    X = np.arange(10, dtype=np.float32).reshape(1, 10)
    avg = fw.compare_adaptive(X, (1, 4), 'avg')
    for name in ('mxnet', 'mxnet-native', 'pytorch', 'poolbook'):
        assert values(avg[name]) == [1, 3, 6, 8]
    top = fw.compare_adaptive(X, (1, 4), 'max')
    assert values(top['pytorch']) == values(top['poolbook']) == [2, 4, 7, 9]
    assert top['mxnet'].kind == 'unsupported'
    for name in ('onnxruntime', 'onnx-reference'):
        assert avg[name].kind == top[name].kind == 'unsupported'
    whole = fw.compare_adaptive(X, 1, 'avg')
    assert all(values(whole[name]) == [4.5] for name in EVERY)
    assert all(values(r) == [9] for r in fw.compare_adaptive(X, 1, 'max').values()
               if not isinstance(r, fw.Refused))


def test_a_fixed_window_stands_in_for_adaptive_pooling_only_when_the_size_divides():
    X8 = np.arange(8, dtype=np.float32).reshape(1, 8)  # window 2, stride 2: bins exactly
    assert values(fw.onnxruntime_pool2d(X8, (1, 2), 'avg', strides=2)) == [
        0.5, 2.5, 4.5, 6.5]
    assert values(fw.adaptive_pool2d_in('pytorch', X8, (1, 4))) == [0.5, 2.5, 4.5, 6.5]
    X10 = np.arange(10, dtype=np.float32).reshape(1, 10)  # window 4 at 0, 2, 4, 6
    assert values(fw.onnxruntime_pool2d(X10, (1, 4), 'avg', strides=2)) == [
        1.5, 3.5, 5.5, 7.5]


def test_gradients_of_ties_go_to_the_first_maximum_everywhere():
    # windows of [[1,3,3],[3,0,3],[2,3,1]]: top-left and top-right both first take
    # (0, 1); bottom-left (1, 0); bottom-right (1, 2)
    X = f32([[1, 3, 3], [3, 0, 3], [2, 3, 1]])
    table = fw.compare_gradients(X, 2)
    for name in ('mxnet', 'mxnet-native', 'pytorch', 'poolbook'):
        assert same(table[name], [[0, 2, 0], [1, 0, 1], [0, 0, 0]])
    for name in ('onnxruntime', 'onnx-reference'):
        assert table[name].kind == 'unsupported'


def test_gradients_of_nan_go_to_different_cells():
    table = fw.compare_gradients(f32([[nan, 1], [nan, 3]]), 2)
    assert values(table['mxnet']) == values(table['mxnet-native']) == [0, 0, 0, 1]
    assert values(table['pytorch']) == [0, 0, 1, 0]  # the last NaN
    assert values(table['poolbook']) == [1, 0, 0, 0]  # the first NaN
    table = fw.compare_gradients(f32([[nan, nan], [nan, nan]]), 2)
    assert values(table['mxnet']) == [1, 0, 0, 0]  # oneDNN: the first cell
    assert values(table['mxnet-native']) == [0, 0, 0, 0]  # nowhere
    assert values(table['pytorch']) == [0, 0, 0, 1]
    assert values(table['poolbook']) == [1, 0, 0, 0]


def test_gradients_take_an_output_gradient_and_average_pooling():
    X = np.arange(9, dtype=np.float32).reshape(3, 3)
    dY = f32([[1, 2], [3, 4]])
    # each output's share dY / 4 goes to its 4 cells: the centre gets (1+2+3+4)/4
    want = np.array([[1, 3, 2], [4, 10, 6], [3, 7, 4]]) / 4
    for name in ('mxnet', 'mxnet-native', 'pytorch', 'poolbook'):
        assert same(fw.pool2d_gradient(name, X, 2, 'avg', dY=dY), want), name
    with pytest.raises(ValueError, match="'max' or 'avg'"):
        fw.pool2d_gradient('pytorch', X, 2, 'sum')
    with pytest.raises(ValueError, match="dY must have the shape"):
        fw.pool2d_gradient('pytorch', X, 2, dY=np.ones((3, 3), np.float32))
    assert fw.pool2d_gradient('mxnet', X, 2, dY=np.ones((3, 3), np.float32)).kind == 'error'


def test_the_mapping_stand_in_lives_only_inside_its_block():
    to_np, to_tensor = fw.legacy_onnx_mapping_tables()
    from onnx import TensorProto
    assert to_np[TensorProto.FLOAT] == np.float32 and to_np[TensorProto.INT64] == np.int64
    assert to_tensor[np.dtype(np.float32)] == TensorProto.FLOAT
    assert to_tensor[np.dtype(np.float16)] == TensorProto.FLOAT16
    assert all(to_tensor[dtype] in to_np for dtype in to_tensor)
    import onnx
    assert not hasattr(onnx, 'mapping')  # onnx >= 1.15: MXNet's exporter needs the block
    with fw.legacy_onnx_mapping():
        from onnx import mapping
        assert mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype('float64')] == TensorProto.DOUBLE
    assert not hasattr(onnx, 'mapping') and 'onnx.mapping' not in sys.modules


def test_an_exported_network_loses_mxnets_extra_window():
    # conv 3 x 3 of ones (sums), max 2 x 2 ceil: 9 -> 5; avg 2 x 2, padding 1, ceil:
    # windows start at -1, 1, 3, 5 of 5: MXNet keeps the 4th (all padding: 0)
    net = nn.HybridSequential()
    net.add(nn.Conv2D(1, 3, padding=1, in_channels=1, use_bias=False),
            nn.MaxPool2D(2, 2, ceil_mode=True),
            nn.AvgPool2D(2, 2, padding=1, ceil_mode=True))
    net.initialize()
    net[0].weight.set_data(nd.ones((1, 1, 3, 3)))
    X = np.arange(81, dtype=np.float32).reshape(1, 1, 9, 9)
    in_mxnet = net(nd.array(X)).asnumpy()
    model, log = fw.export_gluon(net, X.shape)
    assert log == []
    ops = {n.op_type: {a.name: a for a in n.attribute} for n in model.graph.node}
    assert ops['MaxPool']['ceil_mode'].i == ops['AveragePool']['ceil_mode'].i == 1
    in_ort, declared = fw.onnxruntime_run(model, X)
    assert in_mxnet.shape == (1, 1, 4, 4) and in_ort.shape == (1, 1, 3, 3)
    assert not in_mxnet[0, 0, 3].any() and not in_mxnet[0, 0, :, 3].any()
    np.testing.assert_array_equal(in_ort, in_mxnet[:, :, :3, :3])
    # corner: max over the 2 x 2 conv sums of the corner, 22.5 is (0 + 90) / 4:
    # conv sum at (1, 1) = 0+1+2+9+10+11+18+19+20 = 90, and 3 padding cells count
    assert in_ort[0, 0, 0, 0] == 22.5
    assert declared == (1, 1, None, None)
    dims = model.graph.output[0].type.tensor_type.shape.dim
    assert tuple(d.dim_value for d in dims) == (1, 1, 4, 4)


def test_an_onnx_model_that_onnxruntime_refuses_is_a_refusal_twice():
    model = fw.onnx_model((1, 1, 3, 3), 2, padding=2)
    output, declared = fw.onnxruntime_run(model, np.ones((1, 1, 3, 3), np.float32))
    assert output == declared == fw.Refused('error', 'Pad should be smaller than kernel.')
    assert fw.onnx_model((1, 1, 3, 3), 2, 'sum').kind == 'unsupported'
