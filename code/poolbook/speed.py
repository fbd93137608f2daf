"""Measuring pooling: interpreter work per output, timings, the memory-bandwidth bound and
peak memory. Used by chapter 5 and by bench/pooling_speed.py; never by the tests' verdicts
(tests check these helpers' logic, not the machine's speed)."""
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np


def count_bytecodes(fn, *args):
    """Run fn(*args) and count the bytecode instructions Python executes in fn's own body
    (not inside the functions it calls)."""
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
    src = np.ones(nbytes // 4, dtype=np.float32)
    dst = np.empty_like(src)
    seconds = interleaved_medians({'copy': lambda: np.copyto(dst, src)}, repeat)['copy']
    return 2 * src.nbytes / seconds


def traffic_bytes(X, Y):
    """The least memory traffic of pooling X into Y: read every input once, write every
    output once."""
    return X.nbytes + Y.nbytes


def peak_extra_memory(fn):
    """Run fn() and return the peak number of bytes it allocated beyond what it started
    with, as numpy reports its allocations to tracemalloc."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def relation(seconds, reference):
    """How a time compares with a reference time, in words that follow the numbers:
    '3.2 times faster than', '1.5 times slower than' or 'about as fast as' (within 5%)."""
    ratio = reference / seconds
    if ratio >= 1.05:
        return f'{ratio:.1f} times faster than'
    if ratio <= 1 / 1.05:
        return f'{1 / ratio:.1f} times slower than'
    return 'about as fast as'


# Run by `mxnet_in_child` in a fresh Python: time nd.Pooling on one layer, print seconds.
CHILD_SCRIPT = '''
import json, sys
import mxnet as mx
import numpy as np
from poolbook.speed import interleaved_medians
shape, k, s, p, mode, repeat = json.loads(sys.argv[1])
X = mx.nd.array(np.random.default_rng(0).standard_normal(shape, dtype=np.float32))
run = lambda: mx.nd.Pooling(X, kernel=(k, k), stride=(s, s), pad=(p, p),
                            pool_type=mode).wait_to_read()
run()
seconds = interleaved_medians({'mxnet': run}, repeat)['mxnet']
print('seconds', seconds, flush=True)
'''


def child_env(native=False, verbose=False):
    """The environment of a child Python timing MXNet: this one, on one thread, with
    MXNet's native kernel if `native` (MXNET_MKLDNN_ENABLED=0), and oneDNN's log of each
    kernel it runs if `verbose`."""
    env = dict(os.environ, OMP_NUM_THREADS='1', MXNET_STORAGE_FALLBACK_LOG_VERBOSE='0')
    if native:
        env['MXNET_MKLDNN_ENABLED'] = '0'
    for name in ('DNNL_VERBOSE', 'MKLDNN_VERBOSE', 'MXNET_ONEDNN_VERBOSE'):
        env.pop(name, None)
        if verbose:
            env[name] = '1'
    return env


def mxnet_in_child(shape, k, s, p, mode='max', native=False, verbose=False, repeat=5):
    """Time nd.Pooling on one layer in a fresh Python (see child_env); return its median
    seconds and every line it printed (oneDNN's log, when verbose)."""
    args = json.dumps([list(shape), k, s, p, mode, repeat])
    done = subprocess.run([sys.executable, '-c', CHILD_SCRIPT, args], check=True,
                          capture_output=True, text=True, env=child_env(native, verbose))
    lines = done.stdout.splitlines()
    return float(lines[-1].split()[1]), lines[:-1]


def onednn_pooling_kernels(lines):
    """The kernels oneDNN's log says it ran for pooling, e.g. ['jit:avx512_core'], from
    lines like 'dnnl_verbose,exec,cpu,pooling_v2,jit:avx512_core,forward_inference,...'."""
    fields = [line.split(',') for line in lines]
    return sorted({f[4] for f in fields if len(f) > 4 and f[0].endswith('_verbose')
                   and f[1] == 'exec' and f[3].startswith('pooling')})


def onednn_choice(lines, env=os.environ):
    """In words, which pooling kernel oneDNN's log shows, or why it shows none."""
    if env.get('MXNET_MKLDNN_ENABLED') == '0':
        return ('none: oneDNN is switched off in this process (MXNET_MKLDNN_ENABLED=0), '
                'so MXNet runs its native kernel')
    kernels = onednn_pooling_kernels(lines)
    if kernels:
        return f"oneDNN's {' and '.join(kernels)} implementation"
    return 'unknown (oneDNN printed no pooling kernel)'


def onednn_isa(lines):
    """The instruction set oneDNN's log says it uses on this CPU, or None."""
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
