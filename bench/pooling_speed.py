"""Benchmark: poolbook.pool2d and the offset-loop version against MXNet's own operator.

Run with `python3 dev.py bench`. Prints a markdown table per MXNet kernel: for each input
size and mode, the median time of poolbook.pool2d, of mx.nd.Pooling and of the offset loop
(poolbook.loops.pool2d_offsets), pool2d's time as a ratio to MXNet's, pool2d's time as a
multiple of the memory-bandwidth bound (input read once + output written once, at the
bandwidth a large np.copyto reaches in the same run), and pool2d's peak extra memory
(tracemalloc) against the budget of one padded copy of the input plus the output.

One thread each (OMP_NUM_THREADS=1, set before MXNet is imported), float32, MXNet timed
on NDArrays with wait_to_read(), conversions not timed, medians of interleaved repetitions
in one process. MXNet 1.9.1's pip wheel pools with oneDNN by default; the benchmark runs a
second time in a child process with MXNET_MKLDNN_ENABLED=0 to compare with MXNet's native
kernel too. A benchmark, not a test: nothing here decides whether the suite passes.
"""
import os
import subprocess
import sys

os.environ['OMP_NUM_THREADS'] = '1'
os.environ.setdefault('MXNET_STORAGE_FALLBACK_LOG_VERBOSE', '0')

import mxnet as mx  # noqa: E402  (after the thread setting)
import numpy as np  # noqa: E402

from poolbook import pool2d  # noqa: E402
from poolbook.loops import pool2d_offsets  # noqa: E402
from poolbook.speed import (copy_bandwidth, interleaved_medians,  # noqa: E402
                            peak_extra_memory, traffic_bytes)

# (name, input shape, window, stride, padding): the targets of the book's issue tracker.
CASES = [
    ('3x3 example', (1, 1, 3, 3), 2, 1, 0),
    ('64x64 map', (1, 1, 64, 64), 2, 2, 0),
    ('ResNet stem', (32, 64, 56, 56), 3, 2, 1),
    ('VGG-style', (32, 64, 112, 112), 2, 2, 0),
    ('stride 1', (8, 256, 28, 28), 3, 1, 1),
]


def repeats(nbytes):
    """More repetitions for small inputs, where a single call takes microseconds."""
    return 301 if nbytes < 2**20 else 9


def row(name, shape, k, s, p, mode, bandwidth, rng):
    X = rng.standard_normal(shape, dtype=np.float32)
    X_mx = mx.nd.array(X)
    X_mx.wait_to_read()
    Y = pool2d(X, k, mode, strides=s, padding=p)
    mxnet = mx.nd.Pooling(X_mx, kernel=(k, k), stride=(s, s), pad=(p, p), pool_type=mode)
    assert np.allclose(Y, mxnet.asnumpy(), rtol=1e-5, atol=1e-6), 'pool2d disagrees with MXNet'
    times = interleaved_medians({
        'pool2d': lambda: pool2d(X, k, mode, strides=s, padding=p),
        'mxnet': lambda: mx.nd.Pooling(X_mx, kernel=(k, k), stride=(s, s), pad=(p, p),
                                       pool_type=mode).wait_to_read(),
        'offsets': lambda: pool2d_offsets(X, k, mode, s, p),
    }, repeat=repeats(X.nbytes))
    bound = traffic_bytes(X, Y) / bandwidth
    peak = peak_extra_memory(lambda: pool2d(X, k, mode, strides=s, padding=p))
    padded = X.nbytes // (shape[2] * shape[3]) * (shape[2] + 2 * p) * (shape[3] + 2 * p)
    budget = padded + Y.nbytes
    return (f"| {name} {shape} k={k} s={s} p={p} | {mode} | {ms(times['pool2d'])} | "
            f"{ms(times['mxnet'])} | {ms(times['offsets'])} | "
            f"{times['pool2d'] / times['mxnet']:.2f} | {times['pool2d'] / bound:.1f} | "
            f"{peak / 1024:,.1f} / {budget / 1024:,.1f} |")


def ms(seconds):
    return f'{seconds * 1e3:.3f}' if seconds < 1e-2 else f'{seconds * 1e3:.1f}'


def main():
    kernel = 'native' if os.environ.get('MXNET_MKLDNN_ENABLED') == '0' else 'oneDNN (default)'
    rng = np.random.default_rng(0)
    bandwidth = copy_bandwidth()
    print(f'\n### MXNet kernel: {kernel}; measured copy bandwidth {bandwidth / 1e9:.1f} GB/s\n')
    print('| input | mode | pool2d ms | mx.nd.Pooling ms | offsets ms | pool2d / MXNet '
          '| pool2d / bandwidth bound | peak extra KiB / budget KiB |')
    print('|---|---|---|---|---|---|---|---|')
    for case in CASES:
        for mode in ('max', 'avg'):
            print(row(*case, mode, bandwidth, rng), flush=True)
    print('\nPeak memory counts everything tracemalloc sees, including a constant part: about '
          '2.5 KiB of Python objects and the buffer numpy 1.23 allocates for a ufunc on a '
          'strided view (up to 8192 elements, 32 KiB in float32). On the two tiny inputs '
          'that constant is larger than the budget itself.')
    if kernel != 'native':  # the same again against MXNet's native kernel, in a child
        env = dict(os.environ, MXNET_MKLDNN_ENABLED='0')
        sys.stdout.flush()
        subprocess.run([sys.executable, __file__], env=env, check=True)


if __name__ == '__main__':
    main()
