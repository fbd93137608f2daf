"""Peak memory of poolbook.pool2d against its budget (issue 11), on (32, 64, 56, 56) layers,
and of the other functions that convert dtypes (issue 20): adaptive_pool2d,
global_pool2d, pool2d_backward, blur_pool2d and max_blur_pool2d on the inputs images
arrive as (uint8), int8, float16 and an mx.nd.NDArray.

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


# The other functions: name -> (the call on X and its output gradient dY, the padding
# the function reads past each edge). Each runs on every input of INPUTS.
FUNCTIONS = {
    'adaptive_pool2d (7, 7), avg': (lambda f, X, dY: f.adaptive_pool2d(X, 7, 'avg'), 0),
    'global_pool2d, avg': (lambda f, X, dY: f.global_pool2d(X, 'avg'), 0),
    'pool2d_backward 3/2 pad 1, avg': (lambda f, X, dY: f.pool2d_backward(
        X, dY, 3, 'avg', strides=2, padding=1), 1),
    'blur_pool2d /2': (lambda f, X, dY: f.blur_pool2d(X), 1),
    'max_blur_pool2d 2/2': (lambda f, X, dY: f.max_blur_pool2d(X, 2), 1),
}
INPUTS = {'uint8': ('uint8', 'C'), 'int8': ('int8', 'C'), 'float16': ('float16', 'C'),
          'float32, mx.nd.NDArray': ('float32', 'nd')}


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


def run_function(name, kind):
    """In the child: run one function on one input; print its peak and budget as JSON."""
    import numpy as np
    from mxnet import nd
    import poolbook
    call, pad = FUNCTIONS[name]
    dtype, layout = INPUTS[kind]
    # Warm up on a small input (imports, MXNet's engine), as run_case does, with dY in the
    # dtype measured below: a float64 dY would leave the float32 compiled kernel (33 MiB of
    # machine code loaded on first use) to be counted in the measured call.
    call(poolbook, make_input(dtype, layout, (2, 2, 8, 8)), np.ones((2, 2, 4, 4), np.float32))
    X = make_input(dtype, layout)
    n, c, h, w = SHAPE
    out_hw = tuple(poolbook.output_size(m, 3, 2, 1) for m in (h, w))
    dY = np.ones((n, c) + out_hw, np.float32)  # pool2d_backward's output gradient
    with open('/proc/self/clear_refs', 'w') as clear:
        clear.write('5')
    before = kib('VmRSS')
    Y = call(poolbook, X, dY)
    peak = kib('VmHWM') - before
    tracemalloc.start()
    del Y
    Y = call(poolbook, X, dY)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    out = Y.asnumpy() if isinstance(Y, nd.NDArray) else Y
    itemsize = np.dtype(dtype).itemsize
    # One padded copy of the input, the output, and the chunks the function converts (a
    # few maps at a time: 4 * CHUNK_BYTES covers a chunk and its temporaries).
    budget = (n * c * (h + 2 * pad) * (w + 2 * pad) * itemsize + out.nbytes
              + 4 * poolbook.CHUNK_BYTES)
    print(json.dumps(dict(peak=peak, traced=traced, budget=budget)))


def table(title, cases):
    """Run each case (name, command-line arguments) in its own process; print a table;
    return the names over budget."""
    print(title)
    print('| input | peak resident | tracemalloc | budget | peak / budget |')
    print('|---|---:|---:|---:|---:|')
    over = []
    for name, args in cases:
        out = subprocess.run([sys.executable, __file__, *args], capture_output=True,
                             text=True, check=True).stdout
        r = json.loads(out.splitlines()[-1])
        mib = lambda b: f'{b / 2**20:,.1f}'
        print(f"| {name} | {mib(r['peak'])} | {mib(r['traced'])} | {mib(r['budget'])} | "
              f"{r['peak'] / r['budget']:.2f} |")
        if r['peak'] > r['budget'] + 64 * 1024:
            over.append(name)
    return over


def main():
    """Run every case in its own process and print the tables."""
    over = table(f'\nPeak extra memory of pool2d on {SHAPE}, window {K}, stride {S}, '
                 f'padding {P} (MiB; budget = one padded copy of the input + the '
                 f'output)\n', [(name, [name]) for name in CASES])
    for function in FUNCTIONS:
        cases = [(f'{function}, {kind}', [function, kind]) for kind in INPUTS]
        over += table(f'\nPeak extra memory of {function} on {SHAPE} (MiB; budget as '
                      f'above, plus 4 MiB for the chunks it converts)\n', cases)
    print('\nEvery case within budget.' if not over else
          f'\nOVER BUDGET (beyond 64 KiB of constant overhead): {", ".join(over)}')


if __name__ == '__main__':
    if len(sys.argv) == 3:
        run_function(*sys.argv[1:])
    elif len(sys.argv) == 2:
        run_case(sys.argv[1])
    else:
        main()
