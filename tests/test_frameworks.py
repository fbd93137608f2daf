"""poolbook.frameworks: every framework called the same way, and every agreement and
disagreement chapter 8 shows.

Where the expected values come from: worked out by hand in the comments (the window's
cells, the padding, the divisor), or from the frameworks themselves where the test is
that two of them agree; never from poolbook's output. A disagreement is asserted as a
disagreement, with each side's value, so that a framework upgrade that changes either
side fails here and sends us back to the chapter.
"""
import itertools
import math
import os
import platform
import sys

import numpy as np
import pytest
import torch
from mxnet import nd
from mxnet.gluon import nn

from poolbook import frameworks as fw
from poolbook.adaptive import ordinary_window
from poolbook.pooling import pool2d

fw.start_workers()  # MXNet's other kernel starts in a child while the first tests run
nan, inf = np.nan, np.inf
LOWEST = float(np.finfo(np.float32).min)  # MXNet's and ONNX Runtime's start of a max
EVERY = fw.FRAMEWORKS
# MLAS's global and vector kernels take maxima with maxps on x86-64 (which returns its
# second operand when either is NaN) and with vmaxq_f32 on ARM (which returns NaN):
# where ONNX Runtime lets a NaN through is asserted for x86-64, the book's processor
X86_64 = platform.machine().lower() in ('x86_64', 'amd64')
x86_64_only = pytest.mark.skipif(not X86_64, reason="MLAS's vector maximum is maxps on "
                                 "x86-64 only; on ARM, vmaxq_f32 passes every NaN on")


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
    assert fw.agree('(1, 1)', '(1, 1)') and not fw.agree('none', 'all')
    assert not fw.agree('none', f32([1])) and not fw.agree((1, 3), f32([1, 3]))
    assert fw.show('(0, 1)') == '(0, 1)'


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


def test_torch_gets_back_the_count_a_new_thread_gets():
    # here: the module gave the importing thread what a new thread gets
    assert torch.get_num_threads() == fw.TORCH_THREADS == fw.default_torch_threads()
    for bad in (0, 1.5, True, 'most'):
        with pytest.raises(ValueError, match='threads'):
            fw.torch_threads_across_mxnet_import(bad)


@pytest.mark.child
@pytest.mark.parametrize('given, extra', [(None, {}), ('more', {'MKL_NUM_THREADS': '1'})])
def test_torch_gets_back_its_own_choice_or_the_count_given_in_a_fresh_python(given, extra):
    # nothing given: the count restored is the one PyTorch chose before MXNet came.
    # 'more' (chapter 8), here with MKL_NUM_THREADS=1, which PyTorch follows, so that its
    # own choice is 1: given 2, it has 2 before import mxnet, 1 after, and 2 on a new
    # thread and after import poolbook.frameworks, the count given, not its own choice.
    # One file serves libgomp.so.1 for both libraries: PyTorch's copy (torch came first).
    environ = {k: v for k, v in os.environ.items()
               if k not in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS')}
    threads = fw.torch_threads_across_mxnet_import(given, dict(environ, **extra))
    n = threads['alone']
    if extra:
        assert n == 1
    count = n if given is None else n + 1
    assert threads['before'] == threads['new_thread'] == threads['restored'] == count
    assert threads['after'] == 1
    if sys.platform.startswith('linux'):
        assert len(threads['openmp']) == 1
        assert os.path.join('torch', 'lib') in threads['openmp'][0]


def test_onnxruntimes_own_logger_is_left_as_it_was(capfd):
    # the module's sessions are quiet, but a session of your own still warns when the
    # shape it computes differs from the model's (ceil mode, opset 21: 4 declared, 3 run)
    import onnxruntime as ort
    X = np.arange(6, dtype=np.float32).reshape(1, 1, 1, 6)
    model = fw.onnx_model(X.shape, (1, 1), strides=2, ceil_mode=True, opset=21)
    assert fw.onnxruntime_run(model, X)[0].shape == (1, 1, 1, 3)
    assert capfd.readouterr().err == ''
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=['CPUExecutionProvider'])
    assert session.run(None, {'X': X})[0].shape == (1, 1, 1, 3)
    assert 'Expected shape from model' in capfd.readouterr().err


# ------------------------------------------------------------------ chapter 8, in order

def test_an_ordinary_input_gives_one_answer_everywhere():
    X = np.arange(16, dtype=np.float32).reshape(4, 4)
    table = fw.compare(X, 2, strides=2)
    assert all(same(table[name], [[5, 7], [13, 15]]) for name in EVERY)


@pytest.mark.parametrize('pool_size, mode, options', [
    (2, 'max', {'strides': 2}), (3, 'max', {'strides': 2, 'padding': 1}),
    (3, 'avg', {'padding': 1}), ((2, 3), 'avg', {'strides': (2, 1)}),
    (3, 'lp', {'strides': 2, 'p_value': 2})])
def test_a_random_batch_gives_one_answer_everywhere(pool_size, mode, options):
    batch = np.random.default_rng(1).standard_normal((2, 3, 9, 9)).astype(np.float32)
    table = fw.compare(batch, pool_size, mode, **options)
    assert table.agree(*EVERY)
    # and the answer is PyTorch's own operator, called here
    x = torch.from_numpy(batch)
    stride = options.get('strides', 1)
    if mode == 'lp':
        want = torch.nn.functional.lp_pool2d(x, 2, pool_size, stride)
    elif mode == 'max':
        want = torch.nn.functional.max_pool2d(x, pool_size, stride,
                                              options.get('padding', 0))
    else:
        want = torch.nn.functional.avg_pool2d(x, pool_size, stride,
                                              options.get('padding', 0))
    np.testing.assert_allclose(table['poolbook'], want.numpy(), rtol=1e-5, atol=1e-6)


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
    # ONNX Runtime: stride 1 is MLAS's global kernel (maxps over the 4 cells, then over
    # the 4 lanes: the last cell's NaN survives); stride 2 its vector kernel, whose two
    # columns are both past the last multiple of 4, reduced down by std::max (the first
    # row's NaN survives), then across by maxps (the last column's)
    ort_nan = cell == ((1, 1) if stride == 1 else (0, 1))
    if X86_64:
        assert same(table['onnxruntime'], [[nan]] if ort_nan else [rest])
    # the reference: never with stride 1; with stride 2 from the first cell only
    ref_nan = stride == 2 and cell == (0, 0)
    assert same(table['onnx-reference'], [[nan]] if ref_nan else [rest])


# Which cells of the first 2 x 2 window pass a NaN to its output, as chapter 8 prints
# them. MXNet never, PyTorch and poolbook always. The reference: none when all strides
# are 1 (np.max of what is not NaN), else the first cell only (a loop taking greater
# cells). ONNX Runtime, by MLAS's kernel: global, the last cell (its lane survives
# maxps); vector, the window's last row and column (maxps down, then across), but the
# first row in columns past the input's last multiple of 4 (std::max down); generic,
# none (std::max from the lowest float32).
NAN_PASSES = {((2, 2), 1): ('global', '(1, 1)', 'none'),
              ((2, 2), 2): ('vector', '(0, 1)', '(0, 0)'),
              ((4, 4), 1): ('vector', '(1, 1)', 'none'),
              ((4, 4), 2): ('vector', '(1, 1)', '(0, 0)'),
              ((4, 4), 3): ('generic', 'none', '(0, 0)')}


@x86_64_only
@pytest.mark.parametrize('shape, stride', list(NAN_PASSES))
def test_nan_passes_names_the_cells_whose_nan_gets_through(shape, stride):
    kernel, ort, reference = NAN_PASSES[shape, stride]
    X = np.arange(1, 1 + shape[0] * shape[1], dtype=np.float32).reshape(shape)
    assert fw.mlas_pool_kernel(X.shape, 2, strides=stride) == kernel
    table = fw.nan_passes(X, 2, strides=stride)
    assert table == {'mxnet': 'none', 'mxnet-native': 'none', 'pytorch': 'all',
                     'onnxruntime': ort, 'onnx-reference': reference, 'poolbook': 'all'}
    # each NaN put in by hand, straight into PyTorch and ONNX Runtime
    for cell in np.ndindex(2, 2):
        Y = X.copy()
        Y[cell] = nan
        by_torch = torch.nn.functional.max_pool2d(torch.from_numpy(Y[None, None]), 2,
                                                  stride)
        assert torch.isnan(by_torch[0, 0, 0, 0])
        got = np.isnan(fw.onnxruntime_pool2d(Y, 2, strides=stride)[0, 0])
        assert got == (ort == 'all' or f'({cell[0]}, {cell[1]})' in ort.split(' ('))


def test_nan_passes_refuses_what_it_cannot_ask():
    X = np.ones((3, 3), np.float32)
    with pytest.raises(ValueError, match='one map'):
        fw.nan_passes(X[None], 2)
    with pytest.raises(ValueError, match='no NaN'):
        fw.nan_passes(np.where(X == 1, nan, X).astype(np.float32), 2)
    with pytest.raises(ValueError, match='must fit'):
        fw.nan_passes(X, 4)
    table = fw.nan_passes(X, 2, frameworks=('pytorch', 'poolbook'))
    assert table.groups() == {'pytorch': 'A', 'poolbook': 'A'}
    assert str(fw.Atlas([('r', table)], values=True)).splitlines()[1].split() == [
        'r', 'all', 'all']


@x86_64_only
def test_the_vector_kernel_passes_a_nan_from_the_first_row_past_the_last_four_columns():
    # 6 x 6, window 2, stride 2: windows over columns 0-1 and 2-3 are reduced down the
    # rows with maxps (the last row's NaN survives), columns 4-5 with std::max (the first
    # row's does); across the columns, the last column's
    X = np.arange(36, dtype=np.float32).reshape(6, 6)
    assert fw.mlas_pool_kernel(X.shape, 2, strides=2) == 'vector'
    for column in (0, 2, 4):
        survives = []
        for cell in np.ndindex(2, 2):
            Y = X.copy()
            Y[cell[0], column + cell[1]] = nan
            survives.append(bool(np.isnan(
                fw.onnxruntime_pool2d(Y, 2, strides=2)[0, column // 2])))
        assert survives == ([False, False, False, True] if column < 4
                            else [False, True, False, False]), column


def test_mlas_pool_kernel_follows_the_rule_of_its_source():
    assert fw.mlas_pool_kernel((1, 1, 5, 7), (5, 7)) == 'global'
    assert fw.mlas_pool_kernel((5, 7), (5, 7), padding=1) == 'vector'  # padded: not global
    assert fw.mlas_pool_kernel((5, 7), (5, 7), strides=2) == 'vector'
    assert fw.mlas_pool_kernel((40, 40), 32, strides=(5, 2)) == 'vector'  # height: any
    assert fw.mlas_pool_kernel((40, 40), 33) == 'generic'  # a window over 32
    assert fw.mlas_pool_kernel((40, 40), (33, 1)) == 'generic'
    assert fw.mlas_pool_kernel((4, 4), 2, strides=(1, 3)) == 'generic'  # width stride 3
    assert fw.mlas_pool_kernel((1, 2045), 2) == 'vector'  # a row of 2045 fits the buffer
    assert fw.mlas_pool_kernel((1, 2043), 2, padding=(0, 1)) == 'vector'
    assert fw.mlas_pool_kernel((1, 2046), 2) == 'generic'
    assert fw.mlas_pool_kernel((1, 2044), 2, padding=(0, 1)) == 'generic'
    for bad in [(4,), (0, 4), [4, 4], (1, 1, 1, 4, 4), (4.0, 4)]:
        with pytest.raises(ValueError, match='shape'):
            fw.mlas_pool_kernel(bad, 2)


def kernel_signature(shape, pool_size, strides, padding):
    """What ONNX Runtime computes for maps of -inf and of NaN: the vector kernel starts
    from the window's cells (-inf survives in a window inside the input); the global and
    generic kernels start from the lowest float32, and the generic kernel's std::max
    never takes a NaN in."""
    kwargs = {'strides': strides, 'padding': padding}
    minus = fw.onnxruntime_pool2d(np.full(shape, -inf, np.float32), pool_size, **kwargs)
    nans = fw.onnxruntime_pool2d(np.full(shape, nan, np.float32), pool_size, **kwargs)
    return bool((minus == -inf).any()), bool(np.isnan(nans).any())


def test_mlas_pool_kernel_names_the_kernel_onnxruntime_runs():
    # every input up to 5 x 5, window up to 3 x 3, strides of 1 to 3 that cover each
    # branch of the rule, without padding (and some with): the kernel named behaves as
    # its source says it does
    seen = set()
    for h, w, kh, kw, (sh, sw) in itertools.product(
            range(1, 6), range(1, 6), range(1, 4), range(1, 4),
            [(1, 1), (2, 1), (1, 2), (2, 2), (1, 3), (3, 3)]):
        if kh > h or kw > w:
            continue
        kernel = fw.mlas_pool_kernel((h, w), (kh, kw), strides=(sh, sw))
        minus_inf, nan_out = kernel_signature((h, w), (kh, kw), (sh, sw), 0)
        seen.add(kernel)
        assert minus_inf == (kernel == 'vector'), (h, w, kh, kw, sh, sw)
        if kernel == 'generic':
            assert not nan_out
        if kernel == 'global' and h * w >= 4 and X86_64:  # maxps from lowest
            assert nan_out
    assert seen == {'global', 'vector', 'generic'}
    # with padding, the vector kernel still starts inside: a window of 3 at stride 1,
    # padding 1, over 5 cells has -inf in the windows that hold no padding
    assert fw.mlas_pool_kernel((5, 5), 3, padding=1) == 'vector'
    assert kernel_signature((5, 5), 3, 1, 1) == (True, True)
    assert fw.mlas_pool_kernel((5, 5), 3, strides=3, padding=1) == 'generic'
    assert kernel_signature((5, 5), 3, 3, 1) == (False, False)


@x86_64_only
def test_layout_optimizations_run_other_pooling_kernels_where_this_cpu_has_them(tmp_path):
    # ONNX Runtime's default options add the NCHWc rewrite only where MLAS has NCHWc
    # kernels for this CPU (16 channels fill a block of either width, 8 or 16 floats);
    # where it rewrites the pooling, a NaN passes from another cell than in the
    # sessions of poolbook.frameworks (2 x 2 input, stride 2: cell (0, 1))
    import onnx
    import onnxruntime as ort
    model = fw.onnx_model((1, 16, 2, 2), 2, strides=2)
    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.optimized_model_filepath = str(tmp_path / 'optimized.onnx')
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=['CPUExecutionProvider'])
    ops = [node.op_type for node in onnx.load(options.optimized_model_filepath).graph.node]
    survives = []
    for cell in np.ndindex(2, 2):
        X = np.ones((1, 16, 2, 2), np.float32)
        X[:, :, cell[0], cell[1]] = nan
        survives.append(bool(np.isnan(session.run(None, {'X': X})[0]).all()))
        assert np.isnan(fw.onnxruntime_run(model, X)[0]).all() == (cell == (0, 1))
    if 'ReorderInput' in ops:  # rewritten: another kernel
        assert survives != [False, True, False, False]
    else:
        assert ops == ['MaxPool'] and survives == [False, True, False, False]


@x86_64_only
def test_windows_of_nan_and_minus_infinity_in_the_global_and_vector_kernels():
    # chapter 8's second NaN table, ONNX Runtime's column on x86-64: the global kernel
    # starts from the lowest float32 and takes maxps(cell, running): a window of NaN
    # gives NaN, -inf and one NaN (not in the last lane) the lowest float32; the vector
    # kernel starts from the window's cells: NaN from the last row and column, and its
    # 2 x 2 input's columns are past the last multiple of 4 (std::max down the rows)
    patterns = {'all NaN': [[nan, nan], [nan, nan]],
                '-inf and NaN': [[-inf, nan], [-inf, -inf]]}
    got = {}
    for name, v in patterns.items():
        for stride, kernel in ((1, 'global'), (2, 'vector')):
            assert fw.mlas_pool_kernel((2, 2), 2, strides=stride) == kernel
            got[name, kernel] = values(fw.onnxruntime_pool2d(f32(v), 2, strides=stride))
    assert np.isnan(got['all NaN', 'global'] + got['all NaN', 'vector']).all()
    assert got['-inf and NaN', 'global'] == [LOWEST]
    assert np.isnan(got['-inf and NaN', 'vector']).all()
    # -inf alone: no NaN meets maxps, the same on every processor
    assert values(fw.onnxruntime_pool2d(f32([[-inf] * 2] * 2), 2)) == [LOWEST]
    assert values(fw.onnxruntime_pool2d(f32([[-inf] * 2] * 2), 2, strides=2)) == [-inf]


def test_windows_without_a_number_in_onnxruntimes_generic_kernel():
    # the 2 x 2 patterns over 4 x 4 at stride 3: one window, MLAS's generic kernel,
    # which starts from the lowest float32 and never takes a NaN in
    for v in ([[nan, nan], [nan, nan]], [[-inf, -inf], [-inf, -inf]],
              [[-inf, nan], [-inf, -inf]]):
        X = np.tile(f32(v), (2, 2))
        assert fw.mlas_pool_kernel(X.shape, 2, strides=3) == 'generic'
        table = fw.compare(X, 2, strides=3)
        assert values(table['onnxruntime']) == [LOWEST]
        assert values(table['mxnet']) == values(table['mxnet-native']) == [LOWEST]
        # the reference's loop starts from the first cell: NaN, -inf, -inf
        assert same(table['onnx-reference'], [[v[0][0]]])


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


def test_mxnets_default_configuration_refuses_float32_only():
    # the same 3 x 3, window 2, stride 2, padding 2, in float64: no check, the native
    # kernel's start, the lowest float64, in every window of padding only
    X = np.arange(1, 10, dtype=np.float64).reshape(3, 3)
    lo = float(np.finfo(np.float64).min)
    for name in ('mxnet', 'mxnet-native'):
        assert same(fw.pool2d_in(name, X, 2, strides=2, padding=2),
                    [[lo, lo, lo], [lo, 5, 6], [lo, 8, 9]]), name
    assert fw.pool2d_in('mxnet', X.astype(np.float32), 2, strides=2,
                        padding=2).kind == 'error'


def test_pytorch_refuses_padding_over_half_the_window_that_leaves_no_window_empty():
    # 4 x 4, window 3, stride 3, padding 2: windows start at -2 and 1, and hold rows
    # (and columns) {0} and {1, 2, 3}: maxima 0, 3, 12, 15
    X = np.arange(16, dtype=np.float32).reshape(4, 4)
    table = fw.compare(X, 3, strides=3, padding=2)
    assert 'at most half' in table['pytorch'].message
    for name in ('mxnet', 'mxnet-native', 'onnxruntime', 'onnx-reference', 'poolbook'):
        assert same(table[name], [[0, 3], [12, 15]]), name


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


@pytest.mark.parametrize('n, out', [(7, 3), (9, 5), (11, 4), (13, 6)])
def test_adaptive_pooling_of_other_sizes_agrees_where_it_exists(n, out):
    # chapter 8's extra sizes: MXNet (average), PyTorch and poolbook on the bins of the
    # rule, each against a plain loop over floor(i n / out) to ceil((i + 1) n / out)
    X = np.random.default_rng(n).standard_normal((n, n)).astype(np.float32)
    bins = [(i * n // out, -(-(i + 1) * n // out)) for i in range(out)]
    for mode, reduce in (('avg', np.mean), ('max', np.max)):
        want = np.array([[reduce(X[a:b, c:d]) for c, d in bins] for a, b in bins])
        table = fw.compare_adaptive(X, out, mode)
        names = ('pytorch', 'poolbook') + (('mxnet', 'mxnet-native') if mode == 'avg'
                                           else ())
        for name in names:
            np.testing.assert_allclose(table[name], want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('n', range(4, 13))
def test_ordinary_pooling_in_onnxruntime_stands_in_for_adaptive_pooling(n):
    # 4 bins over n cells: (k, s, p) exists when 4 divides n, n - 1 or n + 1 (chapter 6),
    # and ONNX Runtime with them (its default average leaves padding out) gives the
    # adaptive result, average and maximum
    X = np.arange(n, dtype=np.float32).reshape(1, n)
    window = ordinary_window(n, 4)
    assert (window is None) == (n in (6, 10))
    if window is None:
        return
    k, s, p = window
    for mode in ('avg', 'max'):
        assert fw.agree(fw.adaptive_pool2d_in('pytorch', X, (1, 4), mode),
                        fw.onnxruntime_pool2d(X, (1, k), mode, strides=(1, s),
                                              padding=(0, p), count_include_pad=None))


def test_the_floor_stride_window_misses_the_bins_where_there_is_none():
    # 6 cells: bins [0, 2), [1, 3), [3, 5), [4, 6): means 0.5, 1.5, 3.5, 4.5; the guess,
    # stride 1 and window 3, averages [0, 3), [1, 4), [2, 5), [3, 6): 1, 2, 3, 4.
    # 10 cells: bins [0, 3), [2, 5), [5, 8), [7, 10): 1, 3, 6, 8; the guess, stride 2
    # and window 4: 1.5, 3.5, 5.5, 7.5
    for n, k, s, bins, guess in [(6, 3, 1, [0.5, 1.5, 3.5, 4.5], [1, 2, 3, 4]),
                                 (10, 4, 2, [1, 3, 6, 8], [1.5, 3.5, 5.5, 7.5])]:
        X = np.arange(n, dtype=np.float32).reshape(1, n)
        assert values(fw.adaptive_pool2d_in('pytorch', X, (1, 4))) == bins
        assert values(fw.onnxruntime_pool2d(X, (1, k), 'avg', strides=(1, s))) == guess


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
    # ONNX's own shape inference computes 3 for the average's output and refuses the 4
    inferred = fw.onnx_inferred_shape(model)
    assert inferred.kind == 'error' and '(3) vs (4)' in inferred.message
    # the same network in PyTorch computes what ONNX Runtime computes
    torch_net = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, padding=1, bias=False),
                                    torch.nn.MaxPool2d(2, 2, ceil_mode=True),
                                    torch.nn.AvgPool2d(2, 2, padding=1, ceil_mode=True))
    with torch.no_grad():
        torch_net[0].weight.fill_(1)
        np.testing.assert_array_equal(torch_net(torch.from_numpy(X)).numpy(), in_ort)
    # chapter 8 prints it in full: the window over the max-pooled rows 3 and 4, column 0,
    # and a padding column, (576 + 411 + 0 + 0) / 4; 576 and 411 are the convolution
    # sums at (7, 1), rows 6-8 of 0..80, and at (8, 1), rows 7-8 and padding
    assert in_ort[0, 0, 2, 0] == (576 + 411) / 4 == 246.75


def test_an_onnx_model_that_onnxruntime_refuses_is_a_refusal_twice():
    model = fw.onnx_model((1, 1, 3, 3), 2, padding=2)
    output, declared = fw.onnxruntime_run(model, np.ones((1, 1, 3, 3), np.float32))
    assert output == declared == fw.Refused('error', 'Pad should be smaller than kernel.')
    assert fw.onnx_model((1, 1, 3, 3), 2, 'sum').kind == 'unsupported'
