"""The compiled kernel behind pool2d (poolbook.kernels): against the plain computation of
tests/reference.py, its own window ranges against poolbook.geometry, the one decision
`handles`, and the switches that turn it off; the channels-last kernel (layout='NHWC')
against PyTorch's channels-last pooling, MXNet's NHWC pooling and pool2d channels first.

pool2d's own tests (tests/test_pooling.py) run it too, against MXNet and PyTorch: every
float32 and float64 case there goes through it unless a test asks for numpy's path.
"""
import os
import subprocess
import sys

import mxnet as mx
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from poolbook import kernels
from poolbook.geometry import axis_taps, output_size, window_offsets
from poolbook.pooling import pool2d
from reference import mxnet_pool2d, pair, plain_divisors, plain_pool2d
from strategies import geometries, pool_cases, values

needs_numba = pytest.mark.skipif(not kernels.enabled(), reason='numba is not available')


def kernel(X, pool_size, mode, *, strides, padding, ceil_mode=False,
           count_include_pad=True):
    """kernels.pool_maps on the maps X (m, H, W), dividing by the plain divisors."""
    D = plain_divisors(X.shape[-2:], pool_size, strides=strides, padding=padding,
                       ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    D, Y = np.ascontiguousarray(D, X.dtype), np.empty(X.shape[:1] + D.shape, X.dtype)
    kernels.pool_maps(X, *pool_size, *strides, *padding, mode == 'max', D, Y)
    return Y


@needs_numba
@settings(max_examples=150)
@given(geometries(max_side=40), st.sampled_from([np.float32, np.float64]),
       st.sampled_from(['max', 'avg']), st.booleans(), st.booleans(), st.integers(1, 3),
       st.data())
def test_kernel_equals_the_plain_computation(geometry, dtype, mode, ceil_mode,
                                            count_include_pad, maps, data):
    # Sides up to 40 reach the kernel's blocks of 16 cells and its flat runs.
    hw, pool_size, strides, padding = geometry
    X = data.draw(values(dtype, (maps,) + hw))
    args = dict(strides=strides, padding=padding, ceil_mode=ceil_mode,
                count_include_pad=count_include_pad)
    got = kernel(X, pool_size, mode, **args)
    want = plain_pool2d(X, pool_size, mode, **args)
    if mode == 'max':
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=0,
                                   atol=64 * np.finfo(dtype).eps * 100)  # |x| <= 100
    # kernels.pool (on the threads) returns how many maxima are zero: pool2d sets their
    # signs only when there are some (0 for an average)
    D = plain_divisors(X.shape[-2:], pool_size, **args)
    zeros = kernels.pool(X, pool_size, strides, padding, mode,
                         None if mode == 'max' else D, np.empty_like(got))
    assert zeros == (np.count_nonzero(want == 0) if mode == 'max' else 0)


@needs_numba
def test_kernel_propagates_nan_from_any_cell_of_a_window():
    X = np.arange(36, dtype=np.float32).reshape(1, 6, 6)
    args = dict(strides=(2, 2), padding=(1, 1))
    for r, c in np.ndindex(6, 6):
        Z = X.copy()
        Z[0, r, c] = np.nan
        for mode in ('max', 'avg'):
            want = plain_pool2d(Z, (3, 3), mode, **args)
            np.testing.assert_array_equal(np.isnan(kernel(Z, (3, 3), mode, **args)),
                                          np.isnan(want), err_msg=str((r, c, mode)))


@needs_numba
def test_kernel_averages_without_the_padding_when_asked():
    X = np.arange(1, 50, dtype=np.float64).reshape(1, 7, 7)
    args = dict(strides=(2, 2), padding=(1, 1), ceil_mode=True, count_include_pad=False)
    np.testing.assert_allclose(kernel(X, (3, 3), 'avg', **args),
                               plain_pool2d(X, (3, 3), 'avg', **args))


AXIS_GRID = [(n, k, s, p) for n in range(1, 13) for k in range(1, 5) for s in range(1, 4)
             for p in range(k) if k <= n + 2 * p]


@needs_numba
@pytest.mark.parametrize('ceil_mode', [False, True])
def test_the_kernels_window_ranges_are_geometrys(ceil_mode):
    # The kernel computes in compiled code which outputs an offset reaches (_span) and
    # which outputs every offset reaches (_reach); they must be poolbook.geometry's.
    for n, k, s, p in AXIS_GRID:
        out = output_size(n, k, s, p, ceil_mode)
        for a in window_offsets(n, k, s, p, out):
            blocks = [(i0, i1) for i0, i1, cells in axis_taps(n, k, s, p, out)
                      if range(n)[cells][0] == i0 * s - p + a]
            assert [kernels._span(n, s, a - p, out)] == blocks, (n, k, s, p, a)
        inside = [i for i in range(out) if i * s - p >= 0 and i * s - p + k <= n]
        lo, hi = kernels._reach(n, k, s, p, out)
        assert list(range(lo, hi)) == inside, (n, k, s, p)


def test_numpy_only_switches_the_kernel_off_and_back_on():
    before = kernels.enabled()
    with kernels.numpy_only():
        assert not kernels.enabled()
        with kernels.numpy_only():  # blocks nest
            assert not kernels.enabled()
        assert not kernels.enabled()
    assert kernels.enabled() == before


def test_handles_is_the_one_decision():
    # Plain writable C-contiguous float32 or float64 arrays of one dtype, compiling on,
    # and a window that fits in the maps; nothing else.
    f32 = np.zeros((2, 4, 4), np.float32)
    assert kernels.handles(f32, f32) == kernels.enabled()
    assert kernels.handles(f32, f32, (4, 4)) == kernels.enabled()
    assert not kernels.handles(f32, f32, (5, 4)) and not kernels.handles(f32, f32, (1, 5))
    assert not kernels.handles(f32.astype(np.int32), f32.astype(np.int32))
    assert not kernels.handles(f32.astype(np.float16), f32)
    assert not kernels.handles(f32, f32.astype(np.float64))
    assert not kernels.handles(f32[:, :, ::2], f32[:, :, ::2])
    assert not kernels.handles(f32.astype('>f4'), f32.astype('>f4'))
    matrix = np.zeros((4, 4), np.float32).view(np.matrix)
    assert not kernels.handles(matrix, matrix)
    frozen = f32.copy()
    frozen.flags.writeable = False
    assert not kernels.handles(frozen, f32)
    with kernels.numpy_only():
        assert not kernels.handles(f32, f32)


@pytest.mark.child
def test_without_numba_pool2d_takes_its_numpy_path_and_agrees_with_mxnet(tmp_path):
    code = f'''
import numpy as np
from poolbook import kernels, pool2d
assert not kernels.enabled(), 'numba should be off'
X = np.random.default_rng(2).standard_normal((2, 3, 9, 9), dtype=np.float32)
np.save({str(tmp_path / 'X.npy')!r}, X)
for mode in ('max', 'avg'):
    np.save({str(tmp_path)!r} + f'/{{mode}}.npy', pool2d(X, 3, mode, strides=2, padding=1))
'''
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          env=dict(os.environ, POOLBOOK_COMPILED='0'))
    assert done.returncode == 0, done.stderr
    X = np.load(tmp_path / 'X.npy')
    for mode in ('max', 'avg'):
        np.testing.assert_allclose(np.load(tmp_path / f'{mode}.npy'),
                                   mxnet_pool2d(X, 3, mode, strides=2, padding=1),
                                   rtol=1e-5, atol=1e-6)


def test_warm_compiles_what_pool2d_runs_and_does_nothing_when_switched_off():
    # Warm (tests/conftest.py runs it before the workers start) must leave the kernel
    # answering as before; switched off it must not touch numba at all.
    kernels.warm()
    X = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    np.testing.assert_array_equal(kernel(X, (3, 3), 'max', strides=(1, 1), padding=(0, 0)),
                                  [[[10, 11], [14, 15]]])
    with kernels.numpy_only():
        signatures = {f: len(f.signatures) for f in (kernels.pool_maps,)}
        kernels.warm()
        assert {f: len(f.signatures) for f in signatures} == signatures


def compiled_signatures():
    """How many signatures each of the package's compiled functions holds, by name."""
    from poolbook import loops, tinynet
    return {f'{module.__name__}.{name}': len(f.signatures)
            for module in (kernels, loops, tinynet) for name, f in vars(module).items()
            if hasattr(f, 'signatures')}


def test_read_only_and_strided_inputs_compile_nothing_new():
    # numba compiles a function again for each layout and for a read-only array. The
    # package hands its compiled functions C-contiguous writable arrays only: after
    # warm, pooling forward (channels first and last), backward and adaptive compile
    # nothing more, whatever arrays they get; chapter 1's compiled loop and the network
    # engine compile once per dtype, at their first call.
    from poolbook import adaptive_pool2d, loops, pool2d_backward, tinynet

    X = np.arange(2 * 3 * 6 * 6, dtype=np.float32).reshape(2, 3, 6, 6) % 7
    theta = tinynet.init_params('max', 'dense', seed=0)
    images, labels = np.zeros((2, 1, 16, 16), np.float32), np.array([1, 2, 3, 4])

    def calls(make):
        """Every call, its arrays passed through `make`."""
        for dtype in (np.float32, np.float64):
            A, dY = X.astype(dtype), np.ones((2, 3, 3, 3), dtype)
            pool2d(make(A), 3, 'avg', strides=2, padding=1, count_include_pad=False)
            pool2d(make(A), 3, 'avg', strides=2, padding=1, layout='NHWC')
            pool2d(make(A), 2, 'max', layout='NHWC')
            pool2d_backward(A, make(dY), 2, 'max', strides=2)
            pool2d_backward(A, make(dY), 3, 'avg', strides=2, padding=1,
                            count_include_pad=False)
            adaptive_pool2d(make(A), (2, 2), 'max')
            loops.pool2d_njit(make(A[0, 0]), 2)
        tinynet.loss_and_gradient(theta, 'max', images, make(labels[:2]))

    kernels.warm()
    warmed = compiled_signatures()
    calls(np.ascontiguousarray)  # first calls of the loop and the engine: they compile
    before = compiled_signatures()
    assert {k: v for k, v in before.items() if k.startswith('poolbook.kernels')} == {
        k: v for k, v in warmed.items() if k.startswith('poolbook.kernels')}
    for make in (lambda B: np.broadcast_to(B, B.shape),  # read-only views
                 np.asfortranarray, lambda B: np.repeat(B, 2, axis=-1)[..., ::2]):
        calls(make)
        assert compiled_signatures() == before


# ------------------------------------------------------------------ the disk cache

def drop_write_override():
    """In a child started as root: give up root's right to write where permissions say
    no (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so that a read-only directory is one."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP: gone at exec
            raise OSError(ctypes.get_errno(), 'prctl(PR_CAPBSET_DROP) failed')


def run_child(code, env, **kwargs):
    """Run `code` in a fresh Python with exactly `env` (plus PATH); return the result."""
    env = dict(env, PATH=os.environ.get('PATH', ''))
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          env=env, **kwargs)


CHILD_ENV = {k: v for k, v in os.environ.items()
             if not k.startswith(('NUMBA_', 'XDG_', 'POOLBOOK_', 'PYTHON'))}


@pytest.mark.child
def test_a_read_only_install_without_a_cache_location_imports_and_computes(tmp_path):
    # The package copied to a read-only directory, a read-only home, no NUMBA_CACHE_DIR:
    # numba has nowhere to cache, and would refuse to define the kernel at import.
    import shutil
    package = tmp_path / 'site' / 'poolbook'
    shutil.copytree(os.path.dirname(kernels.__file__), package,
                    ignore=shutil.ignore_patterns('__pycache__'))
    home = tmp_path / 'home'
    home.mkdir()
    for path in [home, *package.parent.rglob('*'), package.parent]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    code = f'''
import os, warnings
for where in ({str(package)!r}, {str(home)!r}):  # really read-only for this process
    try:
        open(os.path.join(where, 'probe'), 'w')
        raise SystemExit('writable: ' + where)
    except PermissionError:
        pass
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always', RuntimeWarning)
    import numpy as np
    import poolbook
    from poolbook import kernels, tinynet  # the engine caches its code too
    assert poolbook.__file__.startswith({str(package)!r}), poolbook.__file__
    X = np.arange(16, dtype=np.float32).reshape(4, 4)
    print(poolbook.pool2d(X, 3).tolist(), poolbook.pool2d(X, 3, 'avg').tolist(),
          kernels.enabled())
print([str(w.message) for w in caught if w.category is RuntimeWarning])
'''
    try:
        done = run_child(code, dict(CHILD_ENV, HOME=str(home),
                                    PYTHONPATH=str(package.parent)),
                         preexec_fn=drop_write_override if os.geteuid() == 0 else None)
    finally:
        for path in [home, package.parent, *package.parent.rglob('*')]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert done.returncode == 0, done.stderr[-3000:]
    results, warned = done.stdout.splitlines()[-2:]
    # The 3 x 3 windows of 0..15: maxima 10, 11, 14, 15; averages 5, 6, 9, 10.
    assert results == '[[10.0, 11.0], [14.0, 15.0]] [[5.0, 6.0], [9.0, 10.0]] False'
    warned = eval(warned)
    assert len(warned) == 1 and 'NUMBA_CACHE_DIR' in warned[0], warned


def tiny_module(tmp_path, write=True):
    """The lines a child runs first to import `tiny`, a module in tmp_path/mod whose one
    function is cached through poolbook's njit (compiling it takes a second, not the
    kernels' minute); with `write`, write that module. The child imports
    poolbook.kernels without the package's __init__, and so without the seconds
    MXNet takes to import."""
    if write:
        (tmp_path / 'mod').mkdir()
        (tmp_path / 'mod' / 'tiny.py').write_text(
            'from poolbook.kernels import njit\n\n\n@njit(cache=True)\ndef twice(x):\n'
            '    return 2 * x\n')
    return f'''import sys, types
sys.path.insert(0, {str(tmp_path / 'mod')!r})
sys.modules['poolbook'] = types.ModuleType('poolbook')  # the package, __init__ not run
sys.modules['poolbook'].__path__ = [{os.path.dirname(kernels.__file__)!r}]
import poolbook.kernels as kernels
assert 'mxnet' not in sys.modules
'''


@pytest.mark.child
@needs_numba
def test_a_corrupt_or_truncated_cache_file_is_compiled_again_and_rewritten(tmp_path):
    # A function cached through poolbook's njit, in a module of its own so that its
    # compilation takes a second, not the kernels' minute.
    code = tiny_module(tmp_path) + '''import warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always', RuntimeWarning)
    import tiny
    print(tiny.twice(21.0), sum(tiny.twice.stats.cache_hits.values()),
          [str(w.message) for w in caught if w.category is RuntimeWarning])
'''
    env = dict(CHILD_ENV, NUMBA_CACHE_DIR=str(tmp_path / 'cache'))

    def run():
        done = run_child(code, env)
        assert done.returncode == 0, done.stderr[-3000:]
        value, hits, warned = done.stdout.splitlines()[-1].split(' ', 2)
        assert value == '42.0'
        return int(hits), eval(warned)

    assert run() == (0, [])  # compiled and cached
    for pattern, damage in (('*.nbi', lambda b: b[:20]), ('*.nbc', lambda b: b'garbage\n')):
        (path,) = (tmp_path / 'cache').rglob(pattern)
        path.write_bytes(damage(path.read_bytes()))
        hits, warned = run()  # compiled again, with one warning
        assert hits == 0 and len(warned) == 1 and 'could not be read' in warned[0], warned
        assert 'tiny.twice' in warned[0]
        assert run() == (1, [])  # and the cache was rewritten


@pytest.mark.child
@needs_numba
@pytest.mark.parametrize('lock', [True, False])
def test_processes_saving_one_functions_cache_at_once_keep_every_entry(tmp_path, lock):
    # Three processes compile one cached function for three argument types and reach
    # the save together (a barrier); numba then reads the index, adds its entry and
    # writes the index back, slowed here by 0.2 s. With GuardedCache's lock every entry
    # survives and loads in a fresh process; numba alone (lock=False) loses two of them.
    (tmp_path / 'ready').mkdir()
    code = tiny_module(tmp_path) + f'''import contextlib, os, time
from numba.core import caching
save, load_index = kernels.GuardedCache.save_overload, caching.IndexDataCacheFile._load_index
def barrier_then_save(self, sig, data):
    open(os.path.join({str(tmp_path / 'ready')!r}, sys.argv[1]), 'w').close()
    while len(os.listdir({str(tmp_path / 'ready')!r})) < 3:
        time.sleep(0.01)
    save(self, sig, data)
def slow_load_index(self):
    overloads = load_index(self)
    time.sleep(0.2)
    return overloads
kernels.GuardedCache.save_overload = barrier_then_save
caching.IndexDataCacheFile._load_index = slow_load_index
if sys.argv[2] == 'False':
    kernels.GuardedCache.locked = lambda self: contextlib.nullcontext()
import tiny
print(tiny.twice(eval(sys.argv[1])))
'''
    env = dict(CHILD_ENV, NUMBA_CACHE_DIR=str(tmp_path / 'cache'))
    children = [subprocess.Popen([sys.executable, '-c', code, value, str(lock)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=dict(env, PATH=os.environ.get('PATH', '')))
                for value in ('1', '1.5', '1j')]
    outputs = [child.communicate(timeout=120) for child in children]
    assert [child.returncode for child in children] == [0, 0, 0], outputs
    assert [out.split()[-1] for out, _ in outputs] == ['2', '3.0', '2j']
    saved = len(list((tmp_path / 'cache').rglob('*.nbc')))  # one code file per entry
    if not lock:
        assert saved == 1  # numba alone: all three took the first free name, one index
        return
    assert saved == 3
    load = tiny_module(tmp_path, write=False) + '''import tiny
print(tiny.twice(1), tiny.twice(1.5), tiny.twice(1j), sum(tiny.twice.stats.cache_hits.values()),
      sum(tiny.twice.stats.cache_misses.values()))
'''
    done = run_child(load, env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ['2', '3.0', '2j', '3', '0']  # every entry loaded


@needs_numba
def test_every_cached_function_of_the_package_is_guarded():
    from numba.core.dispatcher import Dispatcher

    import importlib
    import pkgutil

    import poolbook
    modules = [importlib.import_module(f'poolbook.{info.name}')
               for info in pkgutil.iter_modules(poolbook.__path__)]
    null = type(kernels.numba_njit(lambda: 0)._cache)  # numba's, for cache=False
    cached = {f'{module.__name__}.{name}': f for module in modules
              for name, f in vars(module).items()
              if isinstance(f, Dispatcher) and not isinstance(f._cache, null)}
    # every kernel function, loops' cached copy of chapter 1's loop, tinynet's engine
    assert {'poolbook.kernels.pool_maps', 'poolbook.loops._cached_loop',
            'poolbook.tinynet.exp'} <= set(cached)
    unguarded = [name for name, f in cached.items()
                 if not isinstance(f._cache, kernels.GuardedCache)]
    assert not unguarded, unguarded


# ----------------------------------------------------------------------------------------
# Channels last: pool2d(..., layout='NHWC') and its kernel, kernels.pool_nhwc.

def channels_last(X):
    """X (..., C, H, W) as a C-ordered channels-last array (..., H, W, C)."""
    return np.ascontiguousarray(np.moveaxis(X, -3, -1))


@settings(max_examples=120)
@given(pool_cases(dtypes=(np.float32, np.float64), modes=('max', 'avg', 'sum'),
                  leads=[(1,), (3,), (2, 5)], nan=True, max_side=20))
def test_channels_last_is_channels_first_moved(case):
    # Against pool2d on the channels-first array: the maximum to the bit (NaN included),
    # sums within float rounding (the kernel adds the same offsets in the same order).
    X = case.pop('X')
    Y = pool2d(channels_last(X), layout='NHWC', **case)
    want = channels_last(pool2d(X, **case))
    assert Y.shape == want.shape and Y.dtype == want.dtype and Y.flags.c_contiguous
    if case['mode'] == 'max':
        np.testing.assert_array_equal(Y, want)
    else:
        np.testing.assert_allclose(Y, want, rtol=1e-6, atol=1e-5 * (1 + np.nanmax(
            np.abs(X), initial=0)))


@pytest.mark.parametrize('mode', ['max', 'avg'])
@pytest.mark.parametrize('shape, window, stride, pad', [
    ((2, 56, 56, 16), 3, 2, 1), ((1, 112, 112, 16), 2, 2, 0), ((2, 28, 28, 32), 3, 1, 1),
    ((3, 9, 11, 5), (3, 2), (2, 1), (1, 0))])
def test_channels_last_equals_torch_channels_last_and_mxnet_nhwc(shape, window, stride,
                                                                pad, mode):
    X = np.random.default_rng(shape[-1]).standard_normal(shape).astype(np.float32)
    Y = pool2d(X, window, mode, strides=stride, padding=pad, layout='NHWC')
    pooling = torch.nn.functional.max_pool2d if mode == 'max' else \
        torch.nn.functional.avg_pool2d
    T = torch.from_numpy(X).permute(0, 3, 1, 2)  # a channels-last tensor, NCHW shape
    assert T.is_contiguous(memory_format=torch.channels_last)
    np.testing.assert_allclose(Y, pooling(T, window, stride, pad).permute(0, 2, 3, 1),
                               rtol=1e-6, atol=1e-6)
    M = mx.nd.Pooling(mx.nd.array(X), kernel=pair(window), stride=pair(stride),
                      pad=pair(pad), pool_type=mode, layout='NHWC')
    np.testing.assert_allclose(Y, M.asnumpy(), rtol=1e-6, atol=1e-6)


def test_channels_last_kinds_ranks_and_other_dtypes():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((7, 6, 3)).astype(np.float32)  # (H, W, C)
    want = channels_last(pool2d(np.moveaxis(X, -1, 0), 2, strides=2))
    np.testing.assert_array_equal(pool2d(X, 2, strides=2, layout='NHWC'), want)
    got = pool2d(mx.nd.array(X), 2, strides=2, layout='NHWC')
    assert isinstance(got, mx.nd.NDArray)
    np.testing.assert_array_equal(got.asnumpy(), want)
    # float16, integers, Fortran order and 'lp' take pool2d's own path, channels first
    for A in (X.astype(np.float16), (X * 10).astype(np.int32), np.asfortranarray(X)):
        np.testing.assert_array_equal(
            pool2d(A, 2, 'avg', strides=2, layout='NHWC'),
            channels_last(pool2d(np.moveaxis(A, -1, 0), 2, 'avg', strides=2)))
    np.testing.assert_allclose(
        pool2d(X, 2, 'lp', p_value=2, layout='NHWC'),
        channels_last(pool2d(np.moveaxis(X, -1, 0), 2, 'lp', p_value=2)), rtol=1e-6)


@pytest.mark.parametrize('kwargs, error, words', [
    (dict(layout='NWHC'), ValueError, ['layout', "'NWHC'", 'NHWC']),
    (dict(layout=0), TypeError, ['layout', 'str']),
    (dict(layout='NHWC', X=np.zeros((4, 4))), ValueError, ['X']),
    (dict(layout='NHWC', pool_size=5), ValueError, ['pool_size']),
])
def test_bad_layouts_are_refused_with_a_clear_message(kwargs, error, words):
    args = dict(X=np.zeros((4, 4, 3)), pool_size=2)
    args.update(kwargs)
    with pytest.raises(error) as info:
        pool2d(args.pop('X'), args.pop('pool_size'), **args)
    for word in words:
        assert word in str(info.value), str(info.value)
