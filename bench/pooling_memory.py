"""Peak memory of poolbook.pool2d against its budget (issue 11), on (32, 64, 56, 56) layers.

The budget is one padded copy of the input plus the output. Each case runs in a fresh
child process, which builds its input, resets the kernel's record of its peak resident
memory (writing 5 to /proc/self/clear_refs, Linux 4.0 or later), pools, and reads the new
peak (VmHWM in /proc/self/status). That counts every allocation, numpy's and MXNet's
alike. tracemalloc's peak, which sees numpy's allocations only, is shown beside it.

Run: python3 bench/pooling_memory.py (python3 dev.py bench runs every bench/*.py).
"""
import json
import subprocess
import sys
import tracemalloc

SHAPE = (32, 64, 56, 56)
K, S, P = 3, 2, 1  # a typical layer: window 3, stride 2, padding 1
CASES = {  # name: (dtype, layout, mode)
    'float32, C order (reference)': ('float32', 'C', 'avg'),
    'float32, C order, max': ('float32', 'C', 'max'),
    'int8, average': ('int8', 'C', 'avg'),
    'int32, average': ('int32', 'C', 'avg'),
    'float16, average': ('float16', 'C', 'avg'),
    'float32, Fortran order': ('float32', 'F', 'avg'),
    'int8, Fortran order, average': ('int8', 'F', 'avg'),
    'float32, mx.nd.NDArray': ('float32', 'nd', 'avg'),
    'int8, mx.nd.NDArray, average': ('int8', 'nd', 'avg'),
}


def make_input(dtype, layout, shape=SHAPE):
    """The input of one case, built without a larger temporary."""
    import numpy as np
    from mxnet import nd
    if layout == 'nd':
        X = nd.ones(shape, dtype=dtype)
        X.wait_to_read()
        return X
    return np.ones(shape, dtype=dtype, order='F' if layout == 'F' else 'C')


def kib(field):
    """A field of /proc/self/status (e.g. VmRSS, VmHWM) in bytes."""
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith(field + ':'):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def run_case(name):
    """In the child: pool one case and print its peak and budget as JSON."""
    import numpy as np
    from poolbook import output_size, pool2d
    dtype, layout, mode = CASES[name]
    # Warm up on a small input (imports, compiled kernels, MXNet's engine), not on the big
    # one: freeing big blocks would leave memory resident that the next call reuses unseen.
    pool2d(make_input(dtype, layout, (2, 2, 8, 8)), K, mode, strides=S, padding=P)
    X = make_input(dtype, layout)
    with open('/proc/self/clear_refs', 'w') as clear:
        clear.write('5')  # the peak is now the current resident memory
    before = kib('VmRSS')
    Y = pool2d(X, K, mode, strides=S, padding=P)
    peak = kib('VmHWM') - before
    tracemalloc.start()
    del Y
    Y = pool2d(X, K, mode, strides=S, padding=P)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    itemsize = np.dtype(dtype).itemsize
    n, c, h, w = SHAPE
    out = output_size(h, K, S, P) * output_size(w, K, S, P)
    out_itemsize = np.dtype(Y.dtype).itemsize
    budget = n * c * ((h + 2 * P) * (w + 2 * P) * itemsize + out * out_itemsize)
    print(json.dumps(dict(peak=peak, traced=traced, budget=budget)))


def main():
    """Run every case in its own process and print the table."""
    print(f'\nPeak extra memory of pool2d on {SHAPE}, window {K}, stride {S}, padding {P} '
          '(MiB; budget = one padded copy of the input + the output)\n')
    print('| input | peak resident | tracemalloc | budget | peak / budget |')
    print('|---|---:|---:|---:|---:|')
    over = []
    for name in CASES:
        out = subprocess.run([sys.executable, __file__, name], capture_output=True,
                             text=True, check=True).stdout
        r = json.loads(out.splitlines()[-1])
        mib = lambda b: f'{b / 2**20:,.1f}'
        print(f"| {name} | {mib(r['peak'])} | {mib(r['traced'])} | {mib(r['budget'])} | "
              f"{r['peak'] / r['budget']:.2f} |")
        if r['peak'] > r['budget'] + 64 * 1024:
            over.append(name)
    print('\nEvery case within budget.' if not over else
          f'\nOVER BUDGET (beyond 64 KiB of constant overhead): {", ".join(over)}')


if __name__ == '__main__':
    run_case(sys.argv[1]) if len(sys.argv) > 1 else main()
