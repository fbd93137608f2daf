"""Benchmark: poolbook.pool2d against the memory-bandwidth bound and MXNet's two kernels.

Run with `python3 dev.py bench`. Prints the CPU model, the instruction set oneDNN reports
and one markdown table: for each layer and mode, pool2d's median time as a multiple of the
memory-bandwidth bound (input read once + output written once, at the bandwidth a large
np.copyto of 64 MiB reaches, timed in turn with the calls on the large layers), then the same multiple for MXNet's
default kernel (oneDNN, and which oneDNN implementation ran, from its verbose log), for
MXNet's native kernel (MXNET_MKLDNN_ENABLED=0, timed in a child process) and for pool2d's
numpy path (poolbook.compiled.numpy_only); then the times, and pool2d's peak extra
memory (tracemalloc) against the budget of one padded copy of the input plus the output.

One thread each (OMP_NUM_THREADS=1, set before MXNet is imported), float32, MXNet timed
on NDArrays with wait_to_read(), conversions not timed, medians of interleaved
repetitions. A benchmark, not a test: nothing here decides whether the suite passes.
"""
import os
import subprocess
import sys
import time

os.environ['OMP_NUM_THREADS'] = '1'
os.environ.setdefault('MXNET_STORAGE_FALLBACK_LOG_VERBOSE', '0')

import mxnet as mx  # noqa: E402  (after the thread setting)
import numpy as np  # noqa: E402

from poolbook import pool2d  # noqa: E402
from poolbook.compiled import enabled, numpy_only  # noqa: E402
from poolbook.speed import (cpu_model, interleaved_medians, mxnet_in_child,  # noqa: E402
                            onednn_isa, onednn_pooling_kernels,
                            peak_extra_memory, traffic_bytes)

# (name, input shape, window, stride, padding): the targets of the book's issue tracker.
CASES = [
    ('3x3 example', (1, 1, 3, 3), 2, 1, 0),
    ('64x64 map', (1, 1, 64, 64), 2, 2, 0),
    ('3x3/2 on 56x56 maps', (32, 64, 56, 56), 3, 2, 1),  # ResNet-18's first-stage size
    ('VGG-style', (32, 64, 112, 112), 2, 2, 0),
    ('stride 1', (8, 256, 28, 28), 3, 1, 1),
]


# The bound's copy, 64 MiB each way (far past any cache), takes turns with the pooling
# calls so that both see the same machine state; chapter 5's speed.copy_bandwidth()
# times the same kind of copy on its own.
COPY = np.ones(2**24, np.float32), np.empty(2**24, np.float32)


def repeats(nbytes):
    """More repetitions for small inputs, where a single call takes microseconds."""
    return 101 if nbytes < 2**20 else 15


def ms(seconds):
    """Milliseconds with three decimals below 10 ms, one above."""
    return f'{seconds * 1e3:.3f}' if seconds < 1e-2 else f'{seconds * 1e3:.1f}'


def times(X, k, s, p, mode):
    """Median seconds of pool2d, its numpy path, MXNet's default kernel and a large copy
    (for the bandwidth), taking turns."""
    X_mx = mx.nd.array(X)
    X_mx.wait_to_read()
    Y = pool2d(X, k, mode, strides=s, padding=p)
    mxnet = mx.nd.Pooling(X_mx, kernel=(k, k), stride=(s, s), pad=(p, p), pool_type=mode)
    assert np.allclose(Y, mxnet.asnumpy(), rtol=1e-5, atol=1e-6), 'pool2d disagrees with MXNet'

    def numpy_path():
        with numpy_only():
            pool2d(X, k, mode, strides=s, padding=p)

    calls = {
        'pool2d': lambda: pool2d(X, k, mode, strides=s, padding=p),
        'numpy': numpy_path,
        'mxnet': lambda: mx.nd.Pooling(X_mx, kernel=(k, k), stride=(s, s), pad=(p, p),
                                       pool_type=mode).wait_to_read()}
    if X.nbytes >= 2**20:  # the bound, under the same load (it would evict small inputs)
        calls['copy'] = lambda: np.copyto(COPY[1], COPY[0])
    return interleaved_medians(calls, repeat=repeats(X.nbytes)), Y


def row(name, shape, k, s, p, mode, rng):
    """One line of the table."""
    X = rng.standard_normal(shape, dtype=np.float32)
    t, Y = times(X, k, s, p, mode)
    native, _ = mxnet_in_child(shape, k, s, p, mode, native=True, repeat=repeats(X.nbytes))
    _, log = mxnet_in_child(shape, k, s, p, mode, verbose=True, repeat=1)
    kernel = ' '.join(onednn_pooling_kernels(log)) or 'not oneDNN'
    copy = t.get('copy') or interleaved_medians({'copy': lambda: np.copyto(COPY[1],
                                                                             COPY[0])})['copy']
    bound = traffic_bytes(X, Y) / (2 * COPY[0].nbytes / copy)
    peak = peak_extra_memory(lambda: pool2d(X, k, mode, strides=s, padding=p))
    padded = X.nbytes // (shape[2] * shape[3]) * (shape[2] + 2 * p) * (shape[3] + 2 * p)
    budget = padded + Y.nbytes
    return (f"| {name} {shape} k={k} s={s} p={p} | {mode} | "
            f"{t['pool2d'] / bound:.1f} | {t['mxnet'] / bound:.1f} ({kernel}) | "
            f"{native / bound:.1f} | {t['numpy'] / bound:.1f} | {ms(t['pool2d'])} | "
            f"{ms(t['mxnet'])} | {ms(native)} | {ms(t['numpy'])} | "
            f"{peak / 1024:,.1f} / {budget / 1024:,.1f} |"), log


def first_call_seconds():
    """Seconds a fresh Python takes to import poolbook and make its first float32 pool2d
    call (numba loads its cached kernel, or compiles it if there is no cache yet)."""
    code = ('import time; t = time.perf_counter(); import numpy as np; '
            'from poolbook import pool2d; pool2d(np.ones((4, 4), np.float32), 2); '
            'print(time.perf_counter() - t)')
    done = subprocess.run([sys.executable, '-c', code], check=True, capture_output=True,
                          text=True)
    return float(done.stdout.split()[-1])


def main():
    rng = np.random.default_rng(0)
    print(f'\nCPU: {cpu_model()}; compiled kernels: {"on" if enabled() else "off"}')
    lines = []
    table = []
    for case in CASES:
        for mode in ('max', 'avg'):
            line, log = row(*case, mode, rng)
            table.append(line)
            lines += log
    isa = onednn_isa(lines) or 'not reported'
    kernels = sorted({k for line in lines for k in onednn_pooling_kernels([line])})
    avx512 = any('avx512' in k for k in kernels)
    print(f'oneDNN instruction set: {isa}; pooling kernels it ran: {", ".join(kernels)} '
          f'(AVX-512 kernel: {"yes" if avx512 else "no"})\n')
    print('| input | mode | pool2d / bound | MXNet default / bound (kernel) '
          '| MXNet native / bound | numpy path / bound | pool2d ms | MXNet default ms '
          '| MXNet native ms | numpy path ms | peak extra KiB / budget KiB |')
    print('|---|---|---|---|---|---|---|---|---|---|---|')
    print('\n'.join(table))
    print(f'\nA fresh Python imports poolbook and makes its first float32 pool2d call in '
          f'{first_call_seconds():.2f} s (numba loads the cached kernel).')
    print('\nPeak memory counts everything tracemalloc sees, including a constant part: '
          'Python objects and the buffer numpy allocates for a ufunc on a strided view '
          '(numpy path). On the two tiny inputs that constant is larger than the budget. '
          "It does not see numba's own allocations: the compiled kernel's intermediate, "
          "one map's pooled rows (out_h x W cells, a few KiB), per call.")


if __name__ == '__main__':
    start = time.perf_counter()
    main()
    print(f'\n({time.perf_counter() - start:.0f} s)')
