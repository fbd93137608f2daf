"""Measuring pooling: interpreter work per output, timings, the memory-bandwidth bound and
peak memory. Used by chapter 5 and by bench/pooling_speed.py; never by the tests' verdicts
(tests check these helpers' logic, not the machine's speed)."""
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

from poolbook.arrays import check_kind
from poolbook.checks import (check_callable, check_flag, check_int, check_mapping,
                             check_mode, check_number, check_texts, check_window_fits,
                             is_int)
from poolbook.geometry import output_size


def count_bytecodes(fn, *args):
    """Run fn(*args) and count the bytecode instructions Python executes in fn's own body
    (not inside the functions it calls)."""
    if not hasattr(fn, '__code__'):
        raise TypeError(f"fn must be a Python function (whose bytecode can be traced), "
                        f"got {type(fn).__name__}")
    code, count = fn.__code__, 0

    def trace(frame, event, arg):
        nonlocal count
        if frame.f_code is not code:
            return None  # do not trace other functions
        frame.f_trace_opcodes = True
        count += event == 'opcode'
        return trace

    sys.settrace(trace)
    try:
        fn(*args)
    finally:
        sys.settrace(None)
    return count


def interleaved_medians(functions, repeat=11):
    """Time each of `functions` (a dict name -> no-argument callable) `repeat` times,
    taking turns so that all of them see the same machine state; return median seconds."""
    check_mapping(functions, 'functions', 'name: function')
    for name, fn in functions.items():
        check_callable(fn, f'functions[{name!r}]')
    check_int(repeat, 'repeat', minimum=1)
    times = {name: [] for name in functions}
    for _ in range(repeat):
        for name, fn in functions.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def copy_bandwidth(nbytes=256 * 2**20, repeat=5):
    """Measured memory bandwidth in bytes per second: a large np.copyto reads and writes
    every byte once, so it moves 2 * nbytes per call."""
    check_int(nbytes, 'nbytes', minimum=4)
    check_int(repeat, 'repeat', minimum=1)
    src = np.ones(nbytes // 4, dtype=np.float32)
    dst = np.empty_like(src)
    seconds = interleaved_medians({'copy': lambda: np.copyto(dst, src)}, repeat)['copy']
    return 2 * src.nbytes / seconds


def traffic_bytes(X, Y):
    """The least memory traffic of pooling X into Y: read every input once, write every
    output once (X and Y: numpy or MXNet arrays)."""
    check_kind(X, 'X')
    check_kind(Y, 'Y')
    return sum(int(np.prod(A.shape)) * np.dtype(A.dtype).itemsize for A in (X, Y))


def peak_extra_memory(fn):
    """Run fn() and return the peak number of bytes it allocated beyond what it started
    with, as numpy reports its allocations to tracemalloc."""
    check_callable(fn, 'fn')
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def rounded(value, digits=3):
    """`value` rounded to `digits` significant digits, for a timing that is glued or
    printed: more digits would only show the noise of one run on one machine."""
    check_number(value, 'value')
    check_int(digits, 'digits', minimum=1, maximum=17)
    return float(f'{value:.{digits}g}')


def loglog_slope(sizes, times):
    """The slope of log(time) against log(size) between two measurements, (size1, size2)
    and (time1, time2): 1 when the time grows in proportion to the size, 0 when it
    stays the same."""
    for pair, name in ((sizes, 'sizes'), (times, 'times')):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"{name} must be a pair of two measurements, got {pair!r}")
        for value in pair:
            check_number(value, name, positive=True)
    (n1, n2), (t1, t2) = sizes, times
    if n1 == n2:
        raise ValueError(f"sizes must be two different sizes, got {sizes!r}")
    return math.log(t2 / t1) / math.log(n2 / n1)


# How a time grows with the input, by the slope of its line on log-log axes (upper
# limits). With a fixed cost a per call and b per cell, time = a + b n; a slope below
# 0.5 between n and R n (R > 1) means (a + b R n) / (a + b n) < sqrt(R), which needs
# a > b n sqrt(R) > b n: more than half the time at n is the fixed cost.
GROWTH = [(0.0, 'not growing (slope below 0)'),
          (0.5, 'nearly flat (slope 0 to 0.5)'),
          (0.85, 'growing more slowly than the input (slope 0.5 to 0.85)'),
          (1.15, 'growing in proportion to the input (slope 0.85 to 1.15)'),
          (math.inf, 'growing faster than the input (slope above 1.15)')]


def growth_words(slope):
    """In words, how a time grows with the input, from its log-log slope (see GROWTH)."""
    check_number(slope, 'slope')
    return next(words for limit, words in GROWTH if slope < limit)


def growth_groups(slopes):
    """`slopes` (name: log-log slope) in words, the names grouped by how their times grow,
    in the order of GROWTH: 'nearly flat (...): pool2d, nd.Pooling; growing in ...: ...'."""
    check_mapping(slopes, 'slopes', 'name: log-log slope')
    groups = {words: [] for _, words in GROWTH}
    for name, slope in slopes.items():
        groups[growth_words(slope)].append(name)
    return '; '.join(f"{words}: {', '.join(names)}" for words, names in groups.items()
                     if names)


def relation(seconds, reference):
    """How a time compares with a reference time, in words that follow the numbers:
    '3.2 times faster than', '1.5 times slower than' or 'about as fast as' (within 5%)."""
    check_number(seconds, 'seconds', positive=True)
    check_number(reference, 'reference', positive=True)
    ratio = reference / seconds
    if ratio >= 1.05:
        return f'{ratio:.1f} times faster than'
    if ratio <= 1 / 1.05:
        return f'{1 / ratio:.1f} times slower than'
    return 'about as fast as'


# Run by `mxnet_layers_in_child` in a fresh Python: time nd.Pooling on each layer in
# turn and print one line 'seconds <median>' per layer (oneDNN's log lines, if any, are
# printed by the library itself, to the same stdout).
CHILD_SCRIPT = '''
import json, sys
import mxnet as mx
import numpy as np
from poolbook.speed import interleaved_medians
layers, mode, repeat = json.loads(sys.argv[1])
rng = np.random.default_rng(0)
for shape, k, s, p, dtype in layers:
    X = mx.nd.array(rng.standard_normal(shape, dtype=np.float32), dtype=dtype)
    run = lambda: mx.nd.Pooling(X, kernel=(k, k), stride=(s, s), pad=(p, p),
                                pool_type=mode).wait_to_read()
    run()
    seconds = interleaved_medians({'mxnet': run}, repeat)['mxnet']
    print('seconds', seconds, flush=True)
'''


def child_env(native=None, verbose=False):
    """The environment of a child Python timing MXNet: this one, on one thread, and
    oneDNN's log of each kernel it runs if `verbose`. MXNet's kernel: as in this process
    if `native` is None, its native kernel if True (MXNET_MKLDNN_ENABLED=0), its default
    (oneDNN on) if False."""
    if native is not None:
        check_flag(native, 'native')
    check_flag(verbose, 'verbose')
    env = dict(os.environ, OMP_NUM_THREADS='1', MXNET_STORAGE_FALLBACK_LOG_VERBOSE='0')
    if native:
        env['MXNET_MKLDNN_ENABLED'] = '0'
    elif native is not None:
        env.pop('MXNET_MKLDNN_ENABLED', None)
    for name in ('DNNL_VERBOSE', 'MKLDNN_VERBOSE', 'MXNET_ONEDNN_VERBOSE'):
        env.pop(name, None)
        if verbose:
            env[name] = '1'
    return env


def as_layer(layer):
    """A layer (shape, k, s, p) or (shape, k, s, p, dtype) as the latter, float32 by
    default, with the shape as a tuple of 4 ints."""
    shape, k, s, p, *dtype = layer
    if len(shape) != 4 or len(dtype) > 1:
        raise ValueError(f"a layer is (shape, k, s, p) or (shape, k, s, p, dtype) with a "
                         f"4-D shape (N, C, H, W), got {layer!r}")
    return (tuple(int(n) for n in shape), int(k), int(s), int(p),
            str(dtype[0]) if dtype else 'float32')


def mxnet_layers_in_child(layers, mode='max', native=None, verbose=False, repeat=5):
    """Time nd.Pooling on each layer, (shape, k, s, p) or (shape, k, s, p, dtype), in one
    fresh Python (see child_env); return the median seconds of each layer and every
    other line the child printed (oneDNN's log, when verbose)."""
    layers = [as_layer(layer) for layer in layers]
    check_mode(mode, ('max', 'avg', 'sum', 'lp'))
    check_int(repeat, 'repeat', minimum=1)
    args = json.dumps([layers, mode, repeat])
    done = subprocess.run([sys.executable, '-c', CHILD_SCRIPT, args], check=True,
                          capture_output=True, text=True, env=child_env(native, verbose))
    lines = done.stdout.splitlines()
    seconds = [float(line.split()[1]) for line in lines if line.startswith('seconds ')]
    return seconds, [line for line in lines if not line.startswith('seconds ')]


def mxnet_in_child(shape, k, s, p, mode='max', native=None, verbose=False, repeat=5,
                   dtype='float32'):
    """Time nd.Pooling on one layer in a fresh Python (see child_env); return its median
    seconds and every other line it printed (oneDNN's log, when verbose)."""
    (seconds,), lines = mxnet_layers_in_child([(shape, k, s, p, dtype)], mode, native,
                                              verbose, repeat)
    return seconds, lines


# oneDNN's names for the dtypes of its verbose log ('src_f32::blocked:abcd:f0 ...').
ONEDNN_DTYPES = {'float32': 'f32', 'float16': 'f16', 'bfloat16': 'bf16', 'int8': 's8',
                 'uint8': 'u8', 'int32': 's32', 'float64': 'f64'}


def onednn_pooling_runs(lines):
    """Each pooling run in oneDNN's log as (implementation, problem): the problem as a
    dict of the line's benchdnn description ('mb32ic64_ih56oh28kh3sh2dh0ph1_iw56...' gives
    {'mb': 32, 'ic': 64, 'ih': 56, ...}) and its source dtype ('dt': 'f32')."""
    check_texts(lines, 'lines')
    runs = []
    for line in lines:
        f = line.split(',')
        if (len(f) > 4 and f[0].endswith('_verbose') and f[1] == 'exec'
                and f[3].startswith('pooling')):
            problem = {}  # a line cut short names its implementation, nothing more
            if len(f) > 9:
                problem = {name: int(value)
                           for name, value in re.findall(r'([a-z]+)(\d+)', f[-2])}
                dtype = re.search(r'src_([a-z0-9]+)::', f[6])
                problem['dt'] = dtype.group(1) if dtype else None
            runs.append((f[4], problem))
    return runs


def layer_problem(layer):
    """What oneDNN's log would say about a layer (shape, k, s, p[, dtype]): the fields of
    its benchdnn description, and its dtype in oneDNN's name."""
    (n, c, h, w), k, s, p, dtype = as_layer(layer)
    return {'mb': n, 'ic': c, 'ih': h, 'iw': w, 'kh': k, 'kw': k, 'sh': s, 'sw': s,
            'ph': p, 'pw': p, 'dt': ONEDNN_DTYPES.get(dtype, dtype)}


def onednn_pooling_kernels(lines, layer=None):
    """The implementations oneDNN's log says it ran for pooling, e.g. ['jit:avx512_core'],
    from lines like 'dnnl_verbose,exec,cpu,pooling_v2,jit:avx512_core,forward_inference,
    ...'; only those for `layer`, (shape, k, s, p[, dtype]), if it is given."""
    check_texts(lines, 'lines')
    want = None if layer is None else layer_problem(layer)
    return sorted({kernel for kernel, problem in onednn_pooling_runs(lines)
                   if want is None or all(problem.get(key) == value
                                          for key, value in want.items())})


def mxnet_kernel(kernels, env=os.environ):
    """In words, which pooling kernel MXNet ran, given the oneDNN implementations its log
    shows for it (`kernels`, as onednn_pooling_kernels gives them) and the environment of
    the process that ran it."""
    check_texts(kernels, 'kernels')
    if env.get('MXNET_MKLDNN_ENABLED') == '0':
        return ('its native kernel (oneDNN is switched off in this process: '
                'MXNET_MKLDNN_ENABLED=0)')
    if kernels:
        return f"oneDNN's {' and '.join(kernels)} implementation"
    return 'its native kernel (the oneDNN log shows no pooling for it)'


def onednn_choice(lines, env=os.environ, layer=None):
    """In words, which pooling kernel MXNet ran, from oneDNN's log (for `layer` only, if
    given) and the environment of the process that ran it; see mxnet_kernel."""
    check_texts(lines, 'lines')
    return mxnet_kernel(onednn_pooling_kernels(lines, layer), env)


def kernels_by_layer(lines, layers, labels, env=os.environ, every='on all of them'):
    """In words, which pooling kernel MXNet ran on each of `layers` (named by `labels`),
    grouping the layers that ran the same one: 'oneDNN's simple_nchw:any implementation
    on 8x8, 16x16; oneDNN's jit:avx512_core implementation on 32x32', or the one kernel
    followed by `every` when all ran the same."""
    if len(labels) != len(layers):
        raise ValueError(f"labels must name each of the {len(layers)} layers, got "
                         f"{len(labels)} labels")
    groups = {}
    for layer, label in zip(layers, labels, strict=True):
        kernel = onednn_choice(lines, env, layer)
        groups.setdefault(kernel, []).append(str(label))
    if len(groups) == 1:
        return f'{next(iter(groups))} {every}'.rstrip()
    return '; '.join(f"{kernel} on {', '.join(names)}" for kernel, names in groups.items())


def onednn_isa(lines):
    """The instruction set oneDNN's log says it uses on this CPU, or None."""
    check_texts(lines, 'lines')
    for line in lines:
        if line.split(',')[:3] == ['dnnl_verbose', 'info', 'cpu'] and ',isa:' in line:
            return line.split(',isa:', 1)[1]
    return None


def cpu_model():
    """The processor's model name, as /proc/cpuinfo gives it (or platform.processor())."""
    try:
        with open('/proc/cpuinfo') as info:
            for line in info:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


# ------------------------------------------------------------------ peers and the roofline
# Chapter 5 and bench/pooling_speed.py time pool2d, its backward pass and adaptive pooling
# beside the other frameworks' operators on the same data. The caller sets every
# framework to one thread first (OMP_NUM_THREADS=1 before MXNet is imported,
# torch.set_num_threads(1), poolbook.set_num_threads(1)): the functions below make calls,
# they do not time them.

def _check_batch(X, name='X', ndim=4):
    """Refuse X unless it is a numpy float32 array in C order with `ndim` axes, none empty:
    what the timed calls below take (they time the operators, not conversions).

    Parameters
    ----------
    X : object
    name : str, default 'X'
    ndim : int, default 4
        (N, C, H, W).
    """
    check_kind(X, name)
    if type(X) is not np.ndarray:  # not an MXNet array, nor a subclass such as np.matrix
        raise TypeError(f"{name} must be a numpy array (convert it first, so that the "
                        f"conversion is not timed), got {type(X).__name__}")
    if X.dtype != np.float32 or not X.dtype.isnative:
        raise TypeError(f"{name} must be float32 (native byte order), got {X.dtype}")
    if not X.flags.c_contiguous:
        raise TypeError(f"{name} must be in C order (np.ascontiguousarray({name}))")
    if X.ndim != ndim or 0 in X.shape:
        raise ValueError(f"{name} must have {ndim} axes, none of them empty, got shape "
                         f"{X.shape}")


def _check_layer_args(X, k, s, p, mode):
    """Refuse a window k, stride s, padding p (ints, p at most k // 2, as PyTorch and ONNX
    Runtime require) or mode that cannot pool the batch X (N, C, H, W)."""
    check_int(k, 'k', minimum=1)
    check_int(s, 's', minimum=1)
    check_int(p, 'p', minimum=0, maximum=k // 2)
    check_mode(mode)
    check_window_fits(X.shape[-2:], (k, k), (p, p), name='k')


def _check_times(times, name='times'):
    """Refuse `times` unless it is a non-empty dict of positive numbers (name: seconds)."""
    check_mapping(times, name, 'name: seconds')
    if not times:
        raise ValueError(f"{name} must hold at least one time")
    for key, value in times.items():
        check_number(value, f'{name}[{key!r}]', positive=True)


def ready(A):
    """A, once MXNet has computed it (NDArrays are computed asynchronously)."""
    A.wait_to_read()
    return A


def fb_traffic_bytes(X, Y, mode):
    """The least memory traffic of a forward and a backward pass of pooling X into Y.

    The forward pass reads X and writes Y; the backward pass reads dY (Y's size) and
    writes dX (X's size), and for the maximum it reads X again, to find each window's
    maximum.

    Parameters
    ----------
    X, Y : numpy.ndarray
        The input and the pooled output.
    mode : str
        'max' or 'avg'.

    Returns
    -------
    int
    """
    check_kind(X, 'X')
    check_kind(Y, 'Y')
    check_mode(mode)
    forward = X.nbytes + Y.nbytes
    backward = Y.nbytes + X.nbytes + (X.nbytes if mode == 'max' else 0)
    return forward + backward


def winner(times):
    """The name of the smallest time in `times` (name: seconds); ties go to the first."""
    _check_times(times)
    return min(times, key=times.get)


def marked(times, bound, digits=2):
    """Each time of `times` as a multiple of `bound`, the winner's in bold (markdown).

    Parameters
    ----------
    times : dict
        name: seconds.
    bound : float
        Seconds of the memory-bandwidth bound.
    digits : int, default 2
        Decimals of each multiple.

    Returns
    -------
    dict
        name: the multiple as text, '**1.23**' for the winner.
    """
    check_number(bound, 'bound', positive=True)
    check_int(digits, 'digits', minimum=0, maximum=6)
    best = winner(times)
    return {name: (f'**{t / bound:.{digits}f}**' if name == best else
                   f'{t / bound:.{digits}f}') for name, t in times.items()}


def onnxruntime_session(shape, pool_size, mode, strides, padding):
    """An ONNX Runtime session pooling a float32 input of `shape`, with its defaults
    (every graph optimization) on one thread.

    Parameters
    ----------
    shape : tuple of int
        (N, C, H, W).
    pool_size, strides, padding : int
        As for pool2d (one number each).
    mode : str
        'max' or 'avg'.

    Returns
    -------
    onnxruntime.InferenceSession
    """
    import onnxruntime as ort

    from poolbook.frameworks import onnx_model
    if (not isinstance(shape, tuple) or len(shape) != 4
            or not all(is_int(n) and n > 0 for n in shape)):
        raise ValueError(f"shape must be (N, C, H, W), four positive ints, got {shape!r}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 4
    model = onnx_model(shape, pool_size, mode, strides=strides, padding=padding)
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=['CPUExecutionProvider'])


def forward_calls(X, k, s, p, mode):
    """No-argument calls that pool the float32 batch X (N, C, H, W) with a k x k window,
    stride s and padding p: pool2d, MXNet's default kernel (oneDNN), PyTorch on NCHW and
    on channels-last tensors, ONNX Runtime, and pool2d on a channels-last copy.

    Parameters
    ----------
    X : numpy.ndarray
        float32, (N, C, H, W), C order.
    k, s, p : int
        Window, stride and padding.
    mode : str
        'max' or 'avg'.

    Returns
    -------
    dict
        name: callable; every input is converted before, so conversions are not timed.
    """
    import mxnet as mx
    import torch

    from poolbook.pooling import pool2d
    _check_batch(X)
    _check_layer_args(X, k, s, p, mode)
    X_mx = mx.nd.array(X)
    X_mx.wait_to_read()
    T = torch.from_numpy(X)
    T_last = T.contiguous(memory_format=torch.channels_last)
    X_last = np.ascontiguousarray(X.transpose(0, 2, 3, 1))
    pooling = (torch.nn.functional.max_pool2d if mode == 'max'
               else torch.nn.functional.avg_pool2d)
    session = onnxruntime_session(X.shape, k, mode, s, p)
    return {
        'pool2d': lambda: pool2d(X, k, mode, strides=s, padding=p),
        'MXNet': lambda: ready(mx.nd.Pooling(X_mx, kernel=(k, k), stride=(s, s),
                                             pad=(p, p), pool_type=mode)),
        'PyTorch NCHW': lambda: pooling(T, k, s, p),
        'PyTorch channels-last': lambda: pooling(T_last, k, s, p),
        'ONNX Runtime': lambda: session.run(None, {'X': X}),
        'pool2d NHWC': lambda: pool2d(X_last, k, mode, strides=s, padding=p,
                                      layout='NHWC')}


def forward_backward_calls(X, dY, k, s, p, mode):
    """No-argument calls that run a forward and a backward pass of pooling X (as in
    forward_calls) given the output gradient dY: pool2d then pool2d_backward, MXNet's
    autograd, PyTorch's autograd on NCHW and on channels-last tensors.

    Parameters
    ----------
    X, dY : numpy.ndarray
        float32, (N, C, H, W) and the pooled shape, C order.
    k, s, p : int
        Window, stride and padding.
    mode : str
        'max' or 'avg'.

    Returns
    -------
    dict
        name: callable.
    """
    import mxnet as mx
    import torch
    from mxnet import autograd

    from poolbook.backward import pool2d_backward
    from poolbook.pooling import pool2d
    _check_batch(X)
    _check_batch(dY, 'dY')
    _check_layer_args(X, k, s, p, mode)
    out = (output_size(X.shape[2], k, s, p), output_size(X.shape[3], k, s, p))
    if dY.shape != X.shape[:2] + out:
        raise ValueError(f"dY must have the pooled shape {X.shape[:2] + out}, got {dY.shape}")
    X_mx, dY_mx = mx.nd.array(X), mx.nd.array(dY)
    X_mx.attach_grad()

    def mxnet():
        with autograd.record():
            Y = mx.nd.Pooling(X_mx, kernel=(k, k), stride=(s, s), pad=(p, p),
                              pool_type=mode)
        Y.backward(dY_mx)
        X_mx.grad.wait_to_read()
    pooling = (torch.nn.functional.max_pool2d if mode == 'max'
               else torch.nn.functional.avg_pool2d)

    def torch_call(memory_format):
        T = torch.from_numpy(X).contiguous(memory_format=memory_format).requires_grad_()
        G = torch.from_numpy(dY).contiguous(memory_format=memory_format)

        def run():
            T.grad = None
            pooling(T, k, s, p).backward(G)
        return run
    return {
        'pool2d': lambda: (pool2d(X, k, mode, strides=s, padding=p),
                           pool2d_backward(X, dY, k, mode, strides=s, padding=p)),
        'MXNet': mxnet,
        'PyTorch NCHW': torch_call(torch.contiguous_format),
        'PyTorch channels-last': torch_call(torch.channels_last)}


def adaptive_calls(X, out, mode):
    """No-argument calls of adaptive pooling of X (N, C, H, W) to out x out cells:
    adaptive_pool2d, PyTorch on NCHW and channels-last tensors, and for the average
    MXNet's contrib.AdaptiveAvgPooling2D.

    Parameters
    ----------
    X : numpy.ndarray
        float32, (N, C, H, W), C order.
    out : int
        Output cells per axis.
    mode : str
        'max' or 'avg'.

    Returns
    -------
    dict
        name: callable.
    """
    import mxnet as mx
    import torch

    from poolbook.adaptive import adaptive_pool2d
    _check_batch(X)
    check_int(out, 'out', minimum=1)
    check_mode(mode)
    T = torch.from_numpy(X)
    T_last = T.contiguous(memory_format=torch.channels_last)
    pooling = (torch.nn.functional.adaptive_max_pool2d if mode == 'max'
               else torch.nn.functional.adaptive_avg_pool2d)
    calls = {'pool2d': lambda: adaptive_pool2d(X, out, mode),
             'PyTorch NCHW': lambda: pooling(T, out),
             'PyTorch channels-last': lambda: pooling(T_last, out)}
    if mode == 'avg':
        X_mx = mx.nd.array(X)
        X_mx.wait_to_read()
        calls['MXNet'] = lambda: ready(mx.nd.contrib.AdaptiveAvgPooling2D(
            X_mx, output_size=(out, out)))
    return calls


def parallel_copy(dst, src):
    """Copy src into dst split among poolbook's threads (np.copyto releases the GIL):
    what the memory-bandwidth bound of that many cores is measured with.

    Parameters
    ----------
    dst, src : numpy.ndarray
        One-dimensional, of one size.
    """
    from poolbook.threads import MIN_CELLS, run_parts
    check_kind(dst, 'dst')
    check_kind(src, 'src')
    for name, A in (('dst', dst), ('src', src)):
        if type(A) is not np.ndarray or A.ndim != 1 or not A.flags.c_contiguous:
            raise TypeError(f"{name} must be a one-dimensional numpy array in C order")
    if not dst.flags.writeable:
        raise ValueError("dst must be writable (it receives the copy)")
    if dst.shape != src.shape or dst.dtype != src.dtype:
        raise ValueError(f"dst and src must have one size and dtype, got {dst.shape} "
                         f"{dst.dtype} and {src.shape} {src.dtype}")
    run_parts(lambda start, stop: np.copyto(dst[start:stop], src[start:stop]), len(src),
              MIN_CELLS)


def comparison_rate(cells=4096, repeat=200):
    """Comparisons per second one core makes on float32 data in its fastest cache.

    A compiled loop takes the maximum of two arrays of `cells` cells (16 KiB each by
    default, small enough for the first-level cache) into the first, `repeat` times: the
    arithmetic rate of pooling's one operation, with no memory traffic to wait for.

    Parameters
    ----------
    cells : int, default 4096
    repeat : int, default 200

    Returns
    -------
    float
    """
    from poolbook.kernels import enabled, running_max
    check_int(cells, 'cells', minimum=1)
    check_int(repeat, 'repeat', minimum=1)
    if not enabled():  # numba switched off: numpy's maximum, with its call overhead
        a, b = np.zeros(cells, np.float32), np.ones(cells, np.float32)
        run = lambda: [np.maximum(a, b, out=a) for _ in range(repeat)]
    else:
        a, b = np.zeros(cells, np.float32), np.ones(cells, np.float32)
        running_max(a, b, 1)  # compile, or load from the cache
        run = lambda: running_max(a, b, repeat)
    seconds = interleaved_medians({'max': run}, repeat=7)['max']
    return cells * repeat / seconds
