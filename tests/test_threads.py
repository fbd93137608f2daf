"""poolbook.threads: how many threads the compiled kernels use, how the maps are split
among them, and that the results do not depend on it (to the bit).

Expected values: the rules stated in the module (PyTorch's: all cores by default, a
number set by the environment or by set_num_threads), and pool2d's and
pool2d_backward's own results on one thread, which two or three threads must repeat
exactly (the kernels compute every map by the same code, whichever thread takes it).
"""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import poolbook
from poolbook import kernels, threads
from poolbook.adaptive import adaptive_pool2d
from poolbook.backward import pool2d_backward
from poolbook.pooling import pool2d


@pytest.fixture
def restore_threads(monkeypatch):
    """Leave the thread setting as the test found it."""
    monkeypatch.delenv(threads.ENV, raising=False)
    saved = list(threads._chosen)
    yield
    threads._chosen[:] = saved


def test_the_package_exports_the_setting():
    assert poolbook.set_num_threads is threads.set_num_threads
    assert poolbook.get_num_threads is threads.get_num_threads


def test_all_cores_by_default(restore_threads):
    threads._chosen.clear()
    assert threads.get_num_threads() == len(os.sched_getaffinity(0))


def test_the_environment_variable_chooses(restore_threads, monkeypatch):
    threads._chosen.clear()
    monkeypatch.setenv('POOLBOOK_NUM_THREADS', '3')
    assert threads.get_num_threads() == 3
    threads.set_num_threads(1)  # an explicit setting wins over the environment
    assert threads.get_num_threads() == 1


@pytest.mark.parametrize('value', ['0', '-2', 'two', '1.5'])
def test_a_bad_environment_variable_is_refused_by_name(restore_threads, monkeypatch, value):
    threads._chosen.clear()
    monkeypatch.setenv('POOLBOOK_NUM_THREADS', value)
    with pytest.raises(ValueError, match='POOLBOOK_NUM_THREADS'):
        threads.get_num_threads()


@pytest.mark.parametrize('n, error', [(0, ValueError), (-1, ValueError), (2.0, TypeError),
                                      (True, TypeError), ('2', TypeError), (None, TypeError)])
def test_set_num_threads_refuses_anything_but_a_positive_int(restore_threads, n, error):
    with pytest.raises(error, match=r'\bn\b'):
        threads.set_num_threads(n)


def test_set_num_threads_takes_numpy_ints(restore_threads):
    threads.set_num_threads(np.int64(2))
    assert threads.get_num_threads() == 2 and type(threads.get_num_threads()) is int


@pytest.mark.parametrize('count, n', [(1, 1), (1, 4), (7, 2), (8, 2), (9, 4), (100, 3)])
def test_parts_cover_every_item_once_in_near_equal_ranges(count, n):
    ranges = threads.parts(count, n)
    assert len(ranges) == min(count, n)
    assert [i for start, stop in ranges for i in range(start, stop)] == list(range(count))
    sizes = [stop - start for start, stop in ranges]
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1


def test_run_parts_splits_large_inputs_among_threads(restore_threads):
    threads.set_num_threads(2)
    seen = []
    threads.run_parts(lambda start, stop: seen.append((start, stop, threading.get_ident())),
                      10, threads.MIN_CELLS)
    assert sorted(s[:2] for s in seen) == [(0, 5), (5, 10)]
    assert len({s[2] for s in seen}) == 2  # two threads, the caller one of them
    seen.clear()
    threads.run_parts(lambda start, stop: seen.append((start, stop)), 10, 100)
    assert seen == [(0, 10)]  # too small to be worth a second thread


def test_run_parts_returns_what_each_range_gave_in_range_order(restore_threads):
    threads.set_num_threads(3)
    # 10 maps of 2**16 cells: three threads; ranges (0, 4), (4, 7), (7, 10)
    assert threads.run_parts(lambda a, b: (a, b), 10, 2**16) == [(0, 4), (4, 7), (7, 10)]
    threads.set_num_threads(1)
    assert threads.run_parts(lambda a, b: (a, b), 10, 2**16) == [(0, 10)]
    assert threads.run_parts(lambda a, b: (a, b), 0, 2**16) == []


def test_run_parts_passes_on_an_error_from_any_part(restore_threads):
    threads.set_num_threads(2)

    def fail_late(start, stop):
        if start > 0:
            raise RuntimeError('part failed')
    with pytest.raises(RuntimeError, match='part failed'):
        threads.run_parts(fail_late, 4, threads.MIN_CELLS)


original_parts = threads.parts


@pytest.mark.skipif(not kernels.enabled(), reason='numba is not available')
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_results_are_the_same_to_the_bit_on_one_two_and_three_threads(
        restore_threads, monkeypatch, mode, dtype):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((3, 8, 96, 96)).astype(dtype)  # 3.4 MIN_CELLS in all
    X[0, 0, 3, 3] = np.nan
    dY = rng.standard_normal((3, 8, 48, 48)).astype(dtype)
    splits = []  # how run_parts split the maps, call by call
    monkeypatch.setattr(threads, 'parts', lambda count, n: splits.append(n) or
                        [(start, stop) for start, stop in original_parts(count, n)])
    last = np.ascontiguousarray(np.moveaxis(X, 1, -1))  # channels last: 3 images
    results = {}
    for n in (1, 2, 3):
        threads.set_num_threads(n)
        results[n] = (pool2d(X, 3, mode, strides=2, padding=1),
                      pool2d_backward(X, dY, 3, mode, strides=2, padding=1),
                      adaptive_pool2d(X, 5, mode),
                      pool2d(last, 3, mode, strides=2, padding=1, layout='NHWC'))
    # forward, backward, adaptive and channels last, on two and on three threads
    assert splits == [2] * 4 + [3] * 4
    for n in (2, 3):
        for got, want in zip(results[n], results[1]):
            np.testing.assert_array_equal(got, want)


@pytest.mark.child
def test_a_forked_child_can_still_use_threads(tmp_path):
    # The parent's worker threads do not survive a fork; the child makes its own.
    code = '''
import os, numpy as np
from poolbook import pool2d, set_num_threads
set_num_threads(2)
X = np.random.default_rng(0).standard_normal((4, 16, 64, 64)).astype(np.float32)
Y = pool2d(X, 2, strides=2)
pid = os.fork()
if pid == 0:
    os._exit(0 if np.array_equal(pool2d(X, 2, strides=2), Y) else 1)
print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
'''
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == '0'
