"""How many threads the compiled kernels use, set the way PyTorch readers expect.

* By default every core this process may run on (`os.sched_getaffinity`), as PyTorch
  does; the environment variable POOLBOOK_NUM_THREADS, read at the first call, or
  `set_num_threads(n)` choose another number (`get_num_threads()` says which).
* `run_parts(fn, count, cells)` splits `count` maps into one contiguous range per thread
  and runs fn(start, stop) on each, the calling thread taking the first range. Every map
  is computed by the same code whichever thread takes it, and no two threads write the
  same cells, so the results are the same to the bit with any number of threads
  (tests/test_threads.py checks it). Inputs too small to be worth a second thread
  (fewer than MIN_CELLS input cells per thread) run on the calling thread alone.

The kernels release Python's global lock while they run (numba's nogil=True), so plain
Python threads run them in parallel: no OpenMP runtime to share with MXNet or PyTorch.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor


ENV = 'POOLBOOK_NUM_THREADS'
MIN_CELLS = 2**16  # input cells per thread below which a second thread costs more than it saves
_chosen = []  # the number set_num_threads chose, if it was called
_workers = {}  # 'pool': the executor, 'size': its number of worker threads
_lock = threading.Lock()


def available_cores():
    """How many cores this process may run on.

    Returns
    -------
    int
    """
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def check_num_threads(n, name='n'):
    """Return n if it is a whole number of threads (an int of at least 1), else refuse.

    Parameters
    ----------
    n : object
        The number to check.
    name : str, default 'n'
        What to call it in the message.

    Raises
    ------
    TypeError
        For anything but an int (bools included).
    ValueError
        For an int below 1.
    """
    from poolbook.checks import is_int  # here: kernels.py, which imports this module,
    # then loads without the package (tests/test_kernels.py's children: no MXNet import)
    if not is_int(n):
        raise TypeError(f"{name} must be an int, the number of threads, got {n!r} of "
                        f"type {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{name} must be at least 1, got {n}")
    return int(n)


def get_num_threads():
    """The number of threads the compiled kernels use.

    Returns
    -------
    int
        The number `set_num_threads` set; else POOLBOOK_NUM_THREADS, if set; else the
        number of cores this process may run on.

    Raises
    ------
    ValueError
        If POOLBOOK_NUM_THREADS is set to anything but a whole number of at least 1.
    """
    if _chosen:
        return _chosen[-1]
    value = os.environ.get(ENV)
    if value is None or value.strip() == '':
        return available_cores()
    try:
        n = int(value)
    except ValueError:
        raise ValueError(f"the environment variable {ENV} must be a whole number of "
                         f"threads, at least 1, got {value!r}") from None
    return check_num_threads(n, f'the environment variable {ENV}')


def set_num_threads(n):
    """Let the compiled kernels use n threads from now on (as torch.set_num_threads).

    Parameters
    ----------
    n : int
        At least 1; more threads than cores only adds overhead.
    """
    n = check_num_threads(n)
    _chosen[:] = [n]


def _pool(size):
    """An executor with at least `size` worker threads, made once and kept."""
    with _lock:
        if _workers.get('size', 0) < size:
            if 'pool' in _workers:
                _workers['pool'].shutdown(wait=True)
            _workers['pool'] = ThreadPoolExecutor(size, thread_name_prefix='poolbook')
            _workers['size'] = size
        return _workers['pool']


def _forget_workers():
    """In a child process made by fork: the parent's worker threads do not exist there."""
    _workers.clear()


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_forget_workers)


def parts(count, threads):
    """`count` items split into contiguous ranges (start, stop), one per thread.

    The ranges differ in length by one at most, the longer ones first; none is empty.

    Parameters
    ----------
    count, threads : int
        At least 1 each.

    Returns
    -------
    list of tuple of int
    """
    threads = min(threads, count)
    size, extra = divmod(count, threads)
    bounds, start = [], 0
    for t in range(threads):
        stop = start + size + (t < extra)
        bounds.append((start, stop))
        start = stop
    return bounds


def run_parts(fn, count, cells):
    """Run fn(start, stop) over `count` maps, split among the threads; wait for them all.

    See the module docstring for how many threads a call gets.

    Parameters
    ----------
    fn : callable
        fn(start, stop) computes maps start to stop - 1, releasing the GIL.
    count : int
        The number of maps.
    cells : int
        Input cells per map: decides how many threads are worth starting.

    Returns
    -------
    list
        What fn returned for each range, in the order of the ranges.
    """
    if count == 0:
        return []
    threads = min(get_num_threads(), count, max(1, count * cells // MIN_CELLS))
    if threads == 1:
        return [fn(0, count)]
    ranges = parts(count, threads)
    pool = _pool(threads - 1)
    futures = [pool.submit(fn, start, stop) for start, stop in ranges[1:]]
    try:
        first = fn(*ranges[0])
    finally:
        rest = [future.result() for future in futures]
    return [first, *rest]
