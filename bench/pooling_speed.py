"""Benchmark: pool2d, its backward pass and adaptive pooling against the memory-bandwidth
bound and against MXNet, PyTorch and ONNX Runtime, on one thread and on two.

Run with `python3 dev.py bench`. Prints the CPU, the instruction set oneDNN reports and
the oneDNN implementation MXNet ran on each layer, then five markdown tables, every
entry a median of interleaved repetitions (all calls of a row take turns, with a large
np.copyto that measures the bandwidth under the same load), as a multiple of the
memory-bandwidth bound: the least bytes the operation must move, at the bandwidth of
that copy (lower is better; the best of a row in bold):

1. forward, one thread: pool2d (NCHW), MXNet's default kernel (oneDNN), PyTorch on NCHW
   and on channels-last tensors, ONNX Runtime (its default options), and pool2d on a
   channels-last copy (layout='NHWC', beside the race: another layout);
2. pool2d's own paths: MXNet's native kernel (MXNET_MKLDNN_ENABLED=0, in a child
   process) and pool2d's numpy path, with pool2d's peak extra memory against the budget
   of one padded copy of the input plus the output;
3. forward and backward, one thread: pool2d then pool2d_backward, MXNet's and PyTorch's
   autograd; the bound counts both passes (fb_traffic_bytes);
4. adaptive pooling to 7, 5 and 1 cells per axis, one thread;
5. two threads against one, for each compiled kernel, with the two-thread bound (a copy
   split between two threads).

Then the first-call compile time per dtype (a fresh process with an empty numba cache)
and the time a fresh process takes when the cache holds the code. float32 throughout;
conversions are never timed. A benchmark, not a test: nothing here decides whether the
suite passes.
"""
import os
import subprocess
import sys
import tempfile
import time

os.environ['OMP_NUM_THREADS'] = '1'
os.environ.setdefault('MXNET_STORAGE_FALLBACK_LOG_VERBOSE', '0')

import mxnet as mx  # noqa: E402,F401  (after the thread setting)
import numpy as np  # noqa: E402
import torch  # noqa: E402

import poolbook  # noqa: E402
from poolbook import adaptive_pool2d, pool2d, pool2d_backward  # noqa: E402
from poolbook.compiled import enabled, numpy_only  # noqa: E402
from poolbook.speed import (adaptive_calls, cpu_model, fb_traffic_bytes,  # noqa: E402
                            forward_backward_calls, forward_calls, interleaved_medians,
                            marked, mxnet_in_child, onednn_isa, onednn_pooling_kernels,
                            parallel_copy, peak_extra_memory, traffic_bytes, winner)

torch.set_num_threads(1)

# (name, input shape, window, stride, padding): the targets of the book's issue tracker.
LAYERS = [
    ('3x3/2 on 56x56', (32, 64, 56, 56), 3, 2, 1),  # ResNet-18's first-stage size
    ('VGG-style 2x2/2 on 112x112', (32, 64, 112, 112), 2, 2, 0),
    ('3x3/1 on 28x28', (8, 256, 28, 28), 3, 1, 1),
]
SMALL = [('3x3 example', (1, 1, 3, 3), 2, 1, 0), ('64x64 map', (1, 1, 64, 64), 2, 2, 0)]
RACE = ['pool2d', 'MXNet', 'PyTorch NCHW', 'PyTorch channels-last', 'ONNX Runtime']
COPY = np.ones(2**24, np.float32), np.empty(2**24, np.float32)  # 64 MiB each way


def copy_call(threads=1):
    """The copy that measures the bandwidth, on `threads` threads."""
    if threads == 1:
        return lambda: np.copyto(COPY[1], COPY[0])
    return lambda: parallel_copy(COPY[1], COPY[0])


def timed(calls, nbytes, repeat, threads=1):
    """Median seconds of `calls` and of the copy, taking turns; and the bound, seconds
    to move `nbytes` at the copy's bandwidth."""
    calls = dict(calls, copy=copy_call(threads))
    t = interleaved_medians(calls, repeat=repeat)
    bandwidth = 2 * COPY[0].nbytes / t.pop('copy')
    return t, nbytes / bandwidth


def repeats(nbytes):
    """More repetitions for small inputs, where a single call takes microseconds."""
    return 101 if nbytes < 2**20 else 11


def ms(seconds):
    """Milliseconds with three decimals below 10 ms, one above."""
    return f'{seconds * 1e3:.3f}' if seconds < 1e-2 else f'{seconds * 1e3:.1f}'


def table(head, rows):
    """A markdown table."""
    return '\n'.join(['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
                     + ['| ' + ' | '.join(row) + ' |' for row in rows])


def forward_rows(rng, log):
    """Table 1 and table 2, one row per layer and mode each."""
    race, paths = [], []
    for name, shape, k, s, p in SMALL + LAYERS:
        X = rng.standard_normal(shape, dtype=np.float32)
        _, child_log = mxnet_in_child(shape, k, s, p, verbose=True, repeat=1)
        log += child_log
        kernel = ' '.join(onednn_pooling_kernels(child_log)) or 'not oneDNN'
        for mode in ('max', 'avg'):
            Y = pool2d(X, k, mode, strides=s, padding=p)
            calls = forward_calls(X, k, s, p, mode)
            calls['numpy path'] = numpy_only()(calls['pool2d'])
            t, bound = timed(calls, traffic_bytes(X, Y), repeats(X.nbytes))
            text = marked({n: t[n] for n in RACE}, bound)
            label = f'{name} {shape} k={k} s={s} p={p}'
            race.append([label, mode, text['pool2d'], f"{text['MXNet']} ({kernel})",
                         text['PyTorch NCHW'], text['PyTorch channels-last'],
                         text['ONNX Runtime'], f"{t['pool2d NHWC'] / bound:.2f}",
                         winner({n: t[n] for n in RACE}), ms(t['pool2d']),
                         ms(bound)])
            native, _ = mxnet_in_child(shape, k, s, p, mode, native=True,
                                       repeat=repeats(X.nbytes))
            peak = peak_extra_memory(calls['pool2d'])
            padded = X.nbytes // (shape[2] * shape[3]) * (shape[2] + 2 * p) * (
                shape[3] + 2 * p)
            paths.append([label, mode, f"{t['pool2d'] / bound:.2f}",
                          f'{native / bound:.2f}', f"{t['numpy path'] / bound:.2f}",
                          f'{peak / 1024:,.1f} / {(padded + Y.nbytes) / 1024:,.1f}'])
    return race, paths


def backward_rows(rng):
    """Table 3."""
    rows = []
    for name, shape, k, s, p in LAYERS:
        X = rng.standard_normal(shape, dtype=np.float32)
        for mode in ('max', 'avg'):
            Y = pool2d(X, k, mode, strides=s, padding=p)
            dY = rng.standard_normal(Y.shape, dtype=np.float32)
            calls = forward_backward_calls(X, dY, k, s, p, mode)
            calls['backward'] = lambda: pool2d_backward(X, dY, k, mode, strides=s,
                                                        padding=p)
            t, bound = timed(calls, fb_traffic_bytes(X, Y, mode), 7)
            race = {n: t[n] for n in ('pool2d', 'MXNet', 'PyTorch NCHW',
                                      'PyTorch channels-last')}
            text = marked(race, bound)
            rows.append([name, mode, *text.values(), winner(race), ms(t['pool2d']),
                         ms(t['backward']), ms(t['MXNet']), ms(bound)])
    return rows


def adaptive_rows(rng):
    """Table 4."""
    rows = []
    for name, shape, _, _, _ in LAYERS:
        X = rng.standard_normal(shape, dtype=np.float32)
        for out in (7, 5, 1):
            for mode in ('max', 'avg'):
                Y = adaptive_pool2d(X, out, mode)
                calls = adaptive_calls(X, out, mode)
                t, bound = timed(calls, traffic_bytes(X, Y), 7)
                text = marked(t, bound)
                rows.append([f'{shape} to {out} x {out}', mode, text['pool2d'],
                             text['PyTorch NCHW'], text['PyTorch channels-last'],
                             text.get('MXNet', 'none'), winner(t)])
    return rows


def two_thread_rows(rng):
    """Table 5: each kernel on one thread and on two, taking turns."""
    rows = []
    for name, shape, k, s, p in LAYERS:
        X = rng.standard_normal(shape, dtype=np.float32)
        X_last = np.ascontiguousarray(X.transpose(0, 2, 3, 1))
        for mode in ('max', 'avg'):
            Y = pool2d(X, k, mode, strides=s, padding=p)
            dY = rng.standard_normal(Y.shape, dtype=np.float32)
            kernels = {
                'forward': (lambda: pool2d(X, k, mode, strides=s, padding=p),
                            traffic_bytes(X, Y)),
                'backward': (lambda: pool2d_backward(X, dY, k, mode, strides=s,
                                                     padding=p),
                             fb_traffic_bytes(X, Y, mode) - traffic_bytes(X, Y)),
                'adaptive to 7 x 7': (lambda: adaptive_pool2d(X, 7, mode),
                                      X.nbytes + X.nbytes * 49 // (shape[2] * shape[3])),
                'forward NHWC': (lambda: pool2d(X_last, k, mode, strides=s, padding=p,
                                                layout='NHWC'), traffic_bytes(X, Y))}
            for kernel, (call, nbytes) in kernels.items():
                def on(n, call=call):
                    def run():
                        poolbook.set_num_threads(n)
                        call()
                    return run
                calls = {'1': on(1), '2': on(2), 'copy 2': on(2, copy_call(2))}
                t, _ = timed(calls, nbytes, 7)
                bound2 = nbytes / (2 * COPY[0].nbytes / t['copy 2'])
                rows.append([name, mode, kernel, ms(t['1']), ms(t['2']),
                             f"{t['1'] / t['2']:.2f}", f"{t['2'] / bound2:.2f}"])
    poolbook.set_num_threads(1)
    return rows


def first_call_seconds(cache_dir):
    """Seconds a fresh Python takes to import poolbook and make its first float32 and
    float64 pool2d calls (max and average), with numba's cache in `cache_dir`."""
    code = ('import time; t = time.perf_counter(); import numpy as np; '
            'from poolbook import pool2d; s = time.perf_counter() - t; out = [s]\n'
            'for d in (np.float32, np.float64):\n'
            '    t = time.perf_counter(); X = np.ones((2, 8, 8), d)\n'
            '    pool2d(X, 2); pool2d(X, 2, "avg"); out.append(time.perf_counter() - t)\n'
            'print(*out)')
    done = subprocess.run([sys.executable, '-c', code], check=True, capture_output=True,
                          text=True, env=dict(os.environ, NUMBA_CACHE_DIR=cache_dir))
    return [float(v) for v in done.stdout.split()]


def main():
    rng = np.random.default_rng(0)
    poolbook.set_num_threads(1)
    print(f'\nCPU: {cpu_model()}; {os.cpu_count()} cores; compiled kernels: '
          f'{"on" if enabled() else "off"}; load average {os.getloadavg()[0]:.2f}')
    log = []
    race, paths = forward_rows(rng, log)
    isa = onednn_isa(log) or 'not reported'
    kernels = sorted({k for line in log for k in onednn_pooling_kernels([line])})
    print(f'oneDNN instruction set: {isa}; pooling kernels it ran: {", ".join(kernels)}\n')
    print('1. Forward, one thread, as multiples of the bandwidth bound (the best of the '
          'race in bold; pool2d NHWC pools a channels-last copy, beside the race)\n')
    print(table(['input', 'mode', 'pool2d', 'MXNet (oneDNN kernel)', 'PyTorch NCHW',
                 'PyTorch channels-last', 'ONNX Runtime', 'pool2d NHWC', 'first',
                 'pool2d ms', 'bound ms'], race))
    print('\n2. pool2d\'s paths and memory, one thread (MXNet native: '
          'MXNET_MKLDNN_ENABLED=0, in a child process)\n')
    print(table(['input', 'mode', 'pool2d', 'MXNet native', 'numpy path',
                 'peak extra KiB / budget KiB'], paths))
    print('\n3. Forward + backward, one thread, as multiples of their combined bound\n')
    print(table(['layer', 'mode', 'pool2d', 'MXNet', 'PyTorch NCHW',
                 'PyTorch channels-last', 'first', 'pool2d ms', 'backward alone ms',
                 'MXNet ms', 'bound ms'], backward_rows(rng)))
    print('\n4. Adaptive pooling, one thread, as multiples of the bound (MXNet has no '
          'adaptive maximum)\n')
    print(table(['input', 'mode', 'pool2d', 'PyTorch NCHW', 'PyTorch channels-last',
                 'MXNet', 'first'], adaptive_rows(rng)))
    print('\n5. Two threads against one (the two-thread bound: a copy split between two '
          'threads)\n')
    print(table(['layer', 'mode', 'kernel', '1 thread ms', '2 threads ms', 'speed-up',
                 '2 threads / 2-thread bound'], two_thread_rows(rng)))
    with tempfile.TemporaryDirectory() as cache:
        compiled = first_call_seconds(cache)
        cached = first_call_seconds(cache)
    print(f'\nFirst calls in a fresh Python with an empty numba cache: import '
          f'{compiled[0]:.2f} s, float32 {compiled[1]:.2f} s, float64 {compiled[2]:.2f} s '
          f'(compiling max and average); with the cache filled: import {cached[0]:.2f} s, '
          f'float32 {cached[1]:.2f} s, float64 {cached[2]:.2f} s.')
    print(f'Load average at the end: {os.getloadavg()[0]:.2f}.')


if __name__ == '__main__':
    start = time.perf_counter()
    main()
    print(f'\n({time.perf_counter() - start:.0f} s)')
