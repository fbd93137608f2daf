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


def count_bytecodes(fn, *args, callees=False):
    """Run fn(*args) and count the bytecode instructions Python executes for it.

    Parameters
    ----------
    fn : function
        A Python function (whose bytecode can be traced).
    *args
        Its arguments.
    callees : bool, default False
        False: count fn's own body only. True: count every Python function it runs
        too, directly or through others (every frame, until fn returns). Code compiled
        to machine code (numpy's C, numba) executes no bytecode and adds nothing.

    Returns
    -------
    int
    """
    if not hasattr(fn, '__code__'):
        raise TypeError(f"fn must be a Python function (whose bytecode can be traced), "
                        f"got {type(fn).__name__}")
    check_flag(callees, 'callees')
    code, count = fn.__code__, 0

    def trace(frame, event, arg):
        nonlocal count
        if not callees and frame.f_code is not code:
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


def interleaved_runs(functions, repeat=11):
    """Time each of `functions` `repeat` times, taking turns, and keep every time.

    In each turn every function runs once, in the order given, so that all of them see
    the same state of the machine; the times of one turn are measured under one load.

    Parameters
    ----------
    functions : dict
        name: a callable taking no arguments.
    repeat : int, default 11
        The number of turns.

    Returns
    -------
    dict
        name: list of `repeat` times in seconds, in the order of the turns.
    """
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
    return times


def interleaved_medians(functions, repeat=11):
    """Time each of `functions` (a dict name -> no-argument callable) `repeat` times,
    taking turns so that all of them see the same machine state; return median seconds
    (see interleaved_runs, which keeps every time)."""
    runs = interleaved_runs(functions, repeat)
    return {name: statistics.median(ts) for name, ts in runs.items()}


def quartiles(values):
    """The lower quartile, the median and the upper quartile of `values`.

    The middle half of the values lies between the two quartiles: how far apart they
    are shows how much a timing varied from turn to turn. Quartiles are interpolated
    between the sorted values (statistics.quantiles, method 'inclusive'): for 1, 2, 3, 4
    and 5 they are 2, 3 and 4.

    Parameters
    ----------
    values : list or tuple of float
        At least one number.

    Returns
    -------
    tuple of float
        (lower quartile, median, upper quartile); three times the value for one value.
    """
    if not isinstance(values, (list, tuple)) or not values:
        raise TypeError(f"values must be a non-empty list or tuple of numbers, got "
                        f"{values!r}")
    values = [check_number(v, 'values') for v in values]
    if len(values) == 1:
        return (values[0],) * 3
    low, median, high = statistics.quantiles(values, n=4, method='inclusive')
    return low, median, high


def bound_multiples(runs, traffic, copied, copy='copy'):
    """Every time of `runs` as a multiple of the memory-bandwidth bound.

    `runs` (as interleaved_runs gives them) includes a copy that moves `copied` bytes
    (reading and writing counted), timed in the same turns. The bandwidth is `copied`
    over the copy's median time; the bound is the time `traffic` bytes take at that
    bandwidth. Every time is divided by that one bound, so the median of a list of
    multiples is its median time over the bound, and its quartiles are those of its
    times over the bound.

    Parameters
    ----------
    runs : dict
        name: list of seconds, one per turn, with the copy's times under `copy`.
    traffic : int
        The bytes the timed calls must move (traffic_bytes, fb_traffic_bytes).
    copied : int
        The bytes one copy moves: 2 * nbytes for np.copyto of nbytes.
    copy : str, default 'copy'
        The copy's name in `runs`.

    Returns
    -------
    dict
        name: list of multiples of the bound, one per turn, the copy left out.
    """
    check_mapping(runs, 'runs', 'name: list of seconds')
    check_int(traffic, 'traffic', minimum=1)
    check_int(copied, 'copied', minimum=1)
    if copy not in runs:
        raise ValueError(f"runs must hold the copy's times under {copy!r}, got the names "
                         f"{list(runs)}")
    for name, seconds in runs.items():
        if not isinstance(seconds, (list, tuple)) or not seconds:
            raise ValueError(f"runs[{name!r}] must be a non-empty list of times")
        for value in seconds:
            check_number(value, f'runs[{name!r}]', positive=True)
    bound = traffic * statistics.median(runs[copy]) / copied
    return {name: [t / bound for t in seconds] for name, seconds in runs.items()
            if name != copy}


def load_note(load, cores=None, threads=1):
    """A sentence on how busy the machine was when timings were taken.

    The load average counts the processes running or waiting for a core, averaged over
    the last minute (os.getloadavg()[0]). With `threads` 1, the page measuring counts
    for about one; above `cores` - 0.5, less than half a core was left idle on average,
    other processes competed for the cores and for the memory, and the sentence warns.
    With `threads` above 1 (timings on one thread and on `threads` in turn), the page
    counts for 1 to `threads`, so other processes took from load - threads to load - 1
    cores: the sentence says whether that was less than half a core, more, or may have
    been either.

    Parameters
    ----------
    load : float
        The load average (at least 0).
    cores : int, optional
        The number of cores; default None: those this process may run on
        (os.sched_getaffinity, or os.cpu_count() where that does not exist).
    threads : int, default 1
        The most threads the timed calls ran on.

    Returns
    -------
    str
    """
    load = check_number(load, 'load', minimum=0)
    if cores is None:
        cores = (len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity')
                 else os.cpu_count() or 1)
    check_int(cores, 'cores', minimum=1)
    check_int(threads, 'threads', minimum=1)
    if threads > 1:
        load = round(load, 1)  # as printed, so that the words follow the number shown
        start = (f'The machine had a load average of {load:.1f} on {cores} cores when '
                 f"these were measured, this page's 1 to {threads} threads included: ")
        if load - 1 < 0.5:
            return start + 'other processes took less than half a core on average.'
        if load - threads > 0.5:
            return start + ('other processes took more than half a core on average, '
                            'competing with these threads, so the times on several '
                            'threads are likely slower, and their speed-ups smaller, '
                            'than on an idle machine.')
        return start + (f'other processes took up to {load - 1:.1f} of a core on average, '
                        'which may have slowed the threads.')
    if load > cores - 0.5:
        return (f'The machine was busy when these were measured (a load average of '
                f'{load:.1f} on {cores} cores, this page included): other processes '
                f'competed for the cores and the memory, so these times are likely slower '
                f'and noisier than on an idle machine.')
    return (f'The machine had a load average of {load:.1f} on {cores} cores when these '
            f'were measured (processes running or waiting for a core over the last '
            f'minute, this page included).')


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


# Two times within 5% of each other are "about as fast as" each other (relation) and tie
# for the fastest (fastest, winner): closer than that, a second run can swap them.
ABOUT = 1.05


def relation(seconds, reference):
    """How a time compares with a reference time, in words that follow the numbers:
    '3.2 times faster than', '1.5 times slower than', '36 times faster than', '200 times
    slower than' (two significant digits: timings vary more than that) or 'about as fast
    as' (within 5%, ABOUT)."""
    check_number(seconds, 'seconds', positive=True)
    check_number(reference, 'reference', positive=True)
    ratio = reference / seconds
    if ratio >= ABOUT:
        return f'{_times(ratio)} times faster than'
    if ratio <= 1 / ABOUT:
        return f'{_times(1 / ratio)} times slower than'
    return 'about as fast as'


def _times(ratio):
    """A ratio of at least ABOUT to two significant digits: '1.1', '3', '36', '1,200'
    (at least ABOUT, so that rounding never shows a ratio of 1)."""
    ratio = rounded(max(ratio, ABOUT), 2)
    return f'{ratio:,.0f}' if ratio >= 10 else f'{ratio:g}'


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


def fastest(times):
    """The names of the fastest time in `times` and of every time tied with it.

    A time ties with the smallest when relation() calls it 'about as fast as' the
    smallest (within 5%, ABOUT), so the words of the two never disagree.

    Parameters
    ----------
    times : dict
        name: seconds (positive).

    Returns
    -------
    list of str
        The tied names, fastest first (in the order of `times` among equal times).
    """
    _check_times(times)
    best = min(times.values())
    tied = [name for name, t in times.items() if best / t > 1 / ABOUT]
    return sorted(tied, key=times.get)


def winner(times):
    """In words, the fastest of `times` (name: seconds): its name, or the names tied
    with it (see fastest), 'pool2d and MXNet (within 5%)',
    'pool2d, MXNet and ONNX Runtime (within 5%)'."""
    names = fastest(times)
    if len(names) == 1:
        return names[0]
    return f'{listed(names)} (within 5%)'


def fastest_counts(rows):
    """In words, how often each name was the fastest over `rows` of times, ties shown.

    Parameters
    ----------
    rows : list of dict
        Each a dict name: seconds, as for winner.

    Returns
    -------
    str
        'pool2d on 2; PyTorch channels-last on 1; pool2d and MXNet tied on 1': each name
        that was fastest alone, in the order the names first appear in `rows`, then each
        group of names that tied (within 5%), with the number of rows, its names in the
        order winner gives them on the first row where the group tied (fastest first).
    """
    if not isinstance(rows, (list, tuple)) or not rows:
        raise TypeError(f"rows must be a non-empty list of dicts name: seconds, got "
                        f"{rows!r}")
    for i, row in enumerate(rows):
        _check_times(row, f'rows[{i}]')
    order = list(dict.fromkeys(name for row in rows for name in row))
    alone, tied = {}, {}
    for row in rows:
        names = fastest(row)
        if len(names) == 1:
            alone[names[0]] = alone.get(names[0], 0) + 1
        else:  # the same names in another order are the same group
            group = next((g for g in tied if set(g) == set(names)), tuple(names))
            tied[group] = tied.get(group, 0) + 1
    parts = [f'{name} on {alone[name]}' for name in order if name in alone]
    parts += [f'{listed(group)} tied on {n}' for group, n in tied.items()]
    return '; '.join(parts)


def listed(names):
    """Names in words: 'a', 'a and b', 'a, b and c'.

    Parameters
    ----------
    names : list or tuple
        At least one name (each written with str).

    Returns
    -------
    str
    """
    if not isinstance(names, (list, tuple)) or not names:
        raise TypeError(f"names must be a non-empty list or tuple, got {names!r}")
    names = [str(name) for name in names]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def relation_tally(pairs):
    """In words, how often a time was faster than, about as fast as or slower than its
    reference, over (seconds, reference) pairs, in relation()'s words.

    Parameters
    ----------
    pairs : iterable of (float, float)
        (seconds, reference seconds), positive.

    Returns
    -------
    str
        'faster on 4, about as fast on 1, slower on 1', leaving out the kinds that do
        not occur.
    """
    kinds = []
    for pair in pairs:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"pairs must hold (seconds, reference) pairs, got {pair!r}")
        words = relation(*pair)
        kinds.append('about as fast' if words == 'about as fast as' else words.split()[-2])
    if not kinds:
        raise ValueError("pairs must hold at least one (seconds, reference) pair")
    return ', '.join(f'{kind} on {kinds.count(kind)}'
                     for kind in ('faster', 'about as fast', 'slower') if kind in kinds)


def spread_table(table, width=11):
    """The multiples of a bound measured turn by turn, as a text table, and their spread.

    Parameters
    ----------
    table : dict
        (layer, mode): {name: list of multiples, one per turn}, as bound_multiples
        gives them for each (layer, mode).
    width : int, default 11
        The width of a column.

    Returns
    -------
    tuple of (str, float)
        The table: a line of layers and a line of modes over the columns, then a line
        per name found in every row, each entry the median multiple and, after '±', half
        the width of its middle half (quartiles) in percent of the median; and the
        largest of those percentages.
    """
    check_mapping(table, 'table', '(layer, mode): {name: multiples}')
    if not table:
        raise ValueError("table must hold at least one (layer, mode)")
    for key, row in table.items():
        if not isinstance(key, tuple) or len(key) != 2:
            raise ValueError(f"table's keys must be (layer, mode) pairs, got {key!r}")
        check_mapping(row, f'table[{key!r}]', 'name: multiples')
    check_int(width, 'width', minimum=8)
    names = [name for name in next(iter(table.values()))
             if all(name in row for row in table.values())]
    label = max([len(str(name)) for name in names] + [0]) + 2
    lines = [' ' * label + ''.join(str(key[i]).rjust(width) for key in table)
             for i in (0, 1)]
    widest = 0.0
    for name in names:
        cells = []
        for row in table.values():
            low, mid, high = quartiles(list(row[name]))
            half = 50 * (high - low) / mid
            widest = max(widest, half)
            cells.append(f'{mid:.2f} ±{half:.0f}%'.rjust(width))
        lines.append(str(name).ljust(label) + ''.join(cells))
    return '\n'.join(lines), widest


def spread_note(widest):
    """What the spread of a spread_table means for its ranking, in words.

    Parameters
    ----------
    widest : float
        The largest spread of the table in percent, as spread_table returns it (at
        least 0).

    Returns
    -------
    str
        A sentence without its full stop: the spread, then, if it prints as less than
        the 5% that makes a tie (ABOUT), that it is less; otherwise that a row's first
        two, where closer than that, may rank the other way in another run.
    """
    widest = check_number(widest, 'widest', minimum=0)
    text = (f'From turn to turn each entry varied by at most ±{widest:.0f}% of its median '
            '(half the width of its middle half, as printed)')
    if round(widest) < round(100 * (ABOUT - 1)):  # as printed: ±4% at most
        return text + ', less than the 5% that makes a tie'
    return text + (", so where a row's first two are closer than that, another run may "
                   'rank them the other way')


def rate_verdict(rate, needs, words):
    """How a rate of operations per byte compares with what each layer needs, in words,
    the layers grouped by the verdict.

    A rate at least 5% (ABOUT) above a layer's need does its operations in less time
    than the layer's bytes take at the same bandwidth; within 5% in about as long; more
    than 5% below, in longer (as relation() draws the line).

    Parameters
    ----------
    rate : float
        Operations per byte moved (a rate of operations over the copy's bandwidth).
    needs : dict
        label: the operations per byte a layer needs (positive), e.g.
        {'3 × 3/2': 0.45}.
    words : tuple of three str
        What to say of the layers the rate covers, of those it about matches and of
        those it falls short of.

    Returns
    -------
    str
        'on the 3 × 3/2 and VGG-style layers, <words[0]>; on the stride-1 layer,
        <words[2]>': one part per verdict that occurs, in the order of `words`, the
        layers in the order of `needs`.
    """
    rate = check_number(rate, 'rate', positive=True)
    check_mapping(needs, 'needs', 'label: operations per byte')
    if not needs:
        raise ValueError("needs must hold at least one layer")
    for label, need in needs.items():
        check_number(need, f'needs[{label!r}]', positive=True)
    if (not isinstance(words, (tuple, list)) or len(words) != 3
            or not all(isinstance(w, str) for w in words)):
        raise TypeError(f"words must be three phrases (above, about, below), got {words!r}")
    groups = ([], [], [])
    for label, need in needs.items():
        ratio = rate / need
        groups[0 if ratio >= ABOUT else 2 if ratio <= 1 / ABOUT else 1].append(label)
    return '; '.join(f"on the {listed(labels)} layer{'s' if len(labels) > 1 else ''}, "
                     f'{phrase}' for labels, phrase in zip(groups, words) if labels)


def marked(times, bound, digits=2):
    """Each time of `times` as a multiple of `bound`, the fastest in bold (markdown):
    every name tied with the fastest (see fastest) is bold.

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
        name: the multiple as text, '**1.23**' for the fastest and those tied with it.
    """
    check_number(bound, 'bound', positive=True)
    check_int(digits, 'digits', minimum=0, maximum=6)
    best = fastest(times)
    return {name: (f'**{t / bound:.{digits}f}**' if name in best else
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
    """Comparisons per second of a loop that loads, compares and stores, in the cache.

    A compiled loop takes the maximum of two arrays of `cells` cells (16 KiB each by
    default, small enough for the first-level cache) into the first, `repeat` times
    over (poolbook.kernels.running_max, with pool2d's NaN rule). Each comparison also
    loads two values and stores one, so this is not the processor's arithmetic peak
    (addition_rate measures one): it is the rate of a pooling-like inner loop whose data
    is already in the cache, with no memory traffic to wait for.

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


def sum_repeatedly(b, repeat):
    """The sum of the cells of b, added up `repeat` times over into one total: the loop
    addition_rate times (compiled there with numba's fastmath, which lets LLVM reorder
    the additions into several independent vector accumulators held in registers).

    Parameters
    ----------
    b : numpy.ndarray
        One-dimensional, float32.
    repeat : int

    Returns
    -------
    float
    """
    total = np.float32(0)
    for _ in range(repeat):
        for t in range(len(b)):
            total += b[t]
    return total


_SUM_KERNEL = []  # sum_repeatedly compiled with fastmath, once per process


def _sum_kernel():
    """sum_repeatedly compiled by numba with fastmath=True (once per process), or None
    when the compiled kernels are switched off (poolbook.kernels.enabled() is False).

    Returns
    -------
    numba dispatcher or None
    """
    from poolbook.kernels import enabled, njit
    if not enabled():
        return None
    if not _SUM_KERNEL:
        _SUM_KERNEL.append(njit(fastmath=True, nogil=True)(sum_repeatedly))
    return _SUM_KERNEL[0]


def addition_rate(cells=4096, repeat=1000):
    """Additions per second one core makes on float32 values already in its registers.

    A compiled loop adds up an array of `cells` ones (16 KiB by default, small enough to
    stay in the first-level cache) `repeat` times over (sum_repeatedly). With fastmath
    the compiler keeps several running sums in vector registers, each adding a whole
    register of cells per instruction; nothing is stored, and each value loaded from the
    cache is added at once: a practical arithmetic peak of one core for additions, the
    operation of average pooling (the processor's own peak may be higher still). The
    total is checked (cells * repeat), so the compiler cannot have skipped the work.

    Parameters
    ----------
    cells : int, default 4096
    repeat : int, default 1000
        cells * repeat must stay below 2**24, where float32 counts ones exactly.

    Returns
    -------
    float
        Additions per second (median of 7 runs). With the compiled kernels switched off,
        numpy's sum instead, with its call overhead.
    """
    check_int(cells, 'cells', minimum=1)
    check_int(repeat, 'repeat', minimum=1)
    if cells * repeat >= 2**24:
        raise ValueError(f"cells * repeat must be below 2**24 (float32 counts ones exactly "
                         f"up to there), got cells={cells}, repeat={repeat}")
    b = np.ones(cells, np.float32)
    kernel = _sum_kernel()
    if kernel is None:  # numba switched off
        run = lambda: sum(float(b.sum()) for _ in range(repeat))
    else:
        run = lambda: kernel(b, repeat)
    total = run()  # compiles, the first time
    if total != cells * repeat:
        raise RuntimeError(f"the timed sum gave {total}, not {cells * repeat}")
    seconds = interleaved_medians({'sum': run}, repeat=7)['sum']
    return cells * repeat / seconds
