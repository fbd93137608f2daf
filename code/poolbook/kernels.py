"""The compiled kernel behind `poolbook.pool2d` for float32 and float64, and the switch
that turns compiling off.

* `pool_maps` pools maps with the same separable pooling as pool2d's numpy path (rows,
  then columns), one map at a time so that the intermediate stays in the cache. Where it
  can, a loop runs over a whole map as one flat run, indexed by the loop variable alone:
  an index such as `x - 1` makes numba check for negative indices, which stops the
  compiler from vectorizing the loop. A window of up to 3 cells is combined in one run,
  so that a stride-2 run reads both cells of a pair. Rows pooled with a stride above 1 go
  row by row, one run over up to three input rows each. Chapter 5 shows it.
* Compile time: numba compiles every function a kernel calls on its own, then optimizes
  the caller with each callee's code linked in again, so every level of calls optimizes
  the code below it once more. So every helper is inlined into its caller
  (`inline='always'`) except the two whose loops carry the forward pass,
  `_rows_inside` and `_columns_inside`: inlined, their loops no longer vectorized and
  the kernel ran 2 to 6 times slower. Measured side by side in one process against the
  same code with only `_reach`, `_rows_strided` and `_redo_columns` inlined (float32,
  one thread, the three layers of chapter 5, max and avg, medians of 9 interleaved
  calls): compiling every kernel for one dtype took 14.7 s instead of 25.5 s, the
  forward kernel 6.7 s instead of 12.5 s; the forward passes ran at 0.93 to 1.03 times
  the old time and the backward passes at 0.73 to 0.93, with the same results to the
  bit.
* `handles` is the one place that decides whether pool2d runs this kernel; `pool` runs it
  on a chunk of maps.
* The kernel computes which outputs each window offset reaches (`_span`, `_reach`) and
  which offsets of an edge window read the input in compiled code of its own: numba's
  on-disk cache would not notice a change to poolbook.geometry, so the kernel does not
  call it. tests/test_kernels.py checks that both give the same ranges.
* `backward` (max_backward_maps, avg_backward_maps) is pool2d_backward's kernel and
  `adaptive` (adaptive_maps) adaptive_pool2d's; both give the numpy steps' numbers to
  the bit (tests/test_backward.py, tests/test_adaptive.py).
* `pool`, `backward` and `adaptive` split the maps among threads (poolbook.threads); the
  compiled functions release Python's lock (nogil), and every map is computed by the same
  code on any thread, so the results do not depend on the number of threads.

Every function is cached on disk (`cache=True`): a fresh process loads the machine code
instead of compiling it again (`python3 dev.py test` loads or compiles it once, before
the tests start). Setting POOLBOOK_COMPILED=0, or a numba that fails to import, makes
`enabled()` False, and pool2d then takes its numpy path; so does `with numpy_only(): ...`.
`njit` here is numba's, or a stand-in that leaves a function as it is when compiling is
off (chapter 5's compiled loop, poolbook.loops.loop_njit, uses it too).

A cache never stops the package. Where numba finds no writable place for its cache (a
read-only install, no writable home, no NUMBA_CACHE_DIR), numba itself would refuse to
define the functions; here they are defined without a disk cache, `enabled()` is False
(compiling the kernel in every process would cost tens of seconds of CPU, the numpy path
none) and one RuntimeWarning names NUMBA_CACHE_DIR. A cache file that cannot be read
(truncated, corrupt) or written is ignored: the function is compiled again, the cache's
index rewritten, and one RuntimeWarning says so (tests/test_kernels.py runs both in
child processes).
"""
import contextlib
import os
import warnings

try:
    import fcntl
except ImportError:  # Windows: numba's cache without a lock, as numba itself runs it
    fcntl = None

import numpy as np

from poolbook.threads import run_parts

try:
    if os.environ.get('POOLBOOK_COMPILED', '1') == '0':
        raise ImportError('POOLBOOK_COMPILED=0 switches the compiled kernels off')
    from numba import njit as numba_njit
    NUMBA_ERROR = None
except ImportError as error:  # no numba, or switched off: pool2d keeps its numpy path
    NUMBA_ERROR = error
    numba_njit = None

CACHE_ERROR = None  # why numba cannot cache here (no writable location), if it cannot
_warned = set()  # the cache warnings this process has given (each is given once)


def cache_warning(kind, text):
    """Give the RuntimeWarning `text` once per process for each `kind` of cache problem.

    Parameters
    ----------
    kind : str
        'no locator', 'corrupt' or 'unwritable'.
    text : str
        The warning's message.
    """
    if kind not in _warned:
        _warned.add(kind)
        warnings.warn(text, RuntimeWarning, stacklevel=3)


class GuardedCache:
    """numba's disk cache of one function, whose unreadable or unwritable files are
    ignored: a load that fails is a cache miss (and the index is rewritten), a save that
    fails leaves the compiled function in memory only."""

    def __init__(self, cache, name):
        self.cache, self.name = cache, name

    def __getattr__(self, attribute):
        return getattr(self.cache, attribute)

    @contextlib.contextmanager
    def locked(self):
        """Hold an exclusive lock on this function's cache while its index changes.

        numba saves an entry by reading the function's index, adding the entry and
        writing the index back, with no lock: two processes saving at once (two test
        workers, or warm() for each dtype in a process of its own) would each write an
        index without the other's entry, or both name their code file alike. Where
        there is no fcntl (Windows), nothing is locked.
        """
        if fcntl is None:
            yield
            return
        path = os.path.join(self.cache.cache_path, self.name + '.lock')
        with open(path, 'a') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            yield

    def load_overload(self, sig, target_context):
        """The cached machine code for `sig`, or None (compile it) if it cannot be read."""
        try:
            return self.cache.load_overload(sig, target_context)
        except Exception as error:  # truncated or corrupt file: any unpickling error
            cache_warning('corrupt', f"numba's disk cache of {self.name} in "
                          f"{self.cache.cache_path} could not be read ({type(error).__name__}"
                          f": {error}); compiling it again and rewriting the cache")
            with contextlib.suppress(Exception), self.locked():
                self.cache.flush()  # an empty index: the next save rewrites the files
            return None

    def save_overload(self, sig, data):
        """Save the machine code for `sig`; if that fails, keep it in memory only."""
        try:
            with self.locked():
                self.cache.save_overload(sig, data)
        except Exception as error:
            cache_warning('unwritable', f"numba's disk cache of {self.name} "
                          f"in {self.cache.cache_path} could not be written "
                          f"({type(error).__name__}: {error}); the compiled code is kept "
                          f"in memory only")


def njit(*args, cache=False, always=False, **kwargs):
    """numba.njit, whose disk cache never fails (without numba: the function as it is).

    Parameters
    ----------
    *args : callable, optional
        The function, when used as `@njit` without parentheses.
    cache : bool, default False
        Cache the machine code on disk; where that cannot be done (see the module
        docstring), compile without it and warn once.
    always : bool, default False
        Compile even when POOLBOOK_COMPILED=0 switches the kernel off (code that needs
        numba, such as poolbook.tinynet's engine); numba must import.
    **kwargs
        numba.njit's other options (inline, error_model, ...).

    Returns
    -------
    numba dispatcher, or a decorator making one
    """
    if args and not callable(args[0]):
        raise TypeError(f"njit takes the function to compile (or options, then the "
                        f"function), got {type(args[0]).__name__}")

    def decorate(fn):
        compiler = numba_njit
        if compiler is None and always:
            from numba import njit as compiler
        if compiler is None:
            return fn
        dispatcher = compiler(**kwargs)(fn)
        if cache:
            global CACHE_ERROR
            try:
                dispatcher.enable_caching()  # numba.njit(cache=True) does just this
            except RuntimeError as error:  # "cannot cache function ...: no locator"
                CACHE_ERROR = error
                cache_warning('no locator', "numba finds no writable directory for its "
                              "cache (beside poolbook's source or in the user's cache "
                              "directory), so poolbook.pool2d takes its numpy path in "
                              "this process instead of compiling its kernel each time: "
                              "set NUMBA_CACHE_DIR to a writable directory to use the "
                              "compiled kernel")
            else:
                name = f'{fn.__module__}.{fn.__qualname__}'
                dispatcher._cache = GuardedCache(dispatcher._cache, name)
        return dispatcher
    return decorate(args[0]) if args and callable(args[0]) else decorate


_switched_off = []  # non-empty inside `numpy_only()`


def _raise_overlap_check_limit():
    """Let the compiler vectorize loops that read and write many arrays.

    Before it vectorizes a loop over arrays numba cannot prove distinct, LLVM checks at
    run time that they do not overlap, and gives up past 8 such checks: a loop reading
    four arrays and writing two runs one cell at a time. This raises the limit for
    every compilation in the process (it is an LLVM option), once per process: LLVM
    complains if an option is set twice. Code loaded from numba's cache is unaffected.
    """
    import llvmlite.binding as llvm
    if not getattr(llvm, '_poolbook_check_limit', False):
        llvm.set_option('poolbook', '-runtime-memory-check-threshold=64')
        llvm._poolbook_check_limit = True


if NUMBA_ERROR is None:
    _raise_overlap_check_limit()


def enabled():
    """True when numba imported, can cache its code, and no `numpy_only()` block runs.

    Returns
    -------
    bool
    """
    return NUMBA_ERROR is None and CACHE_ERROR is None and not _switched_off


@contextlib.contextmanager
def numpy_only():
    """A context in which pool2d takes its numpy path (chapter 5 times both paths).

    Blocks nest; the kernel is back on when the outermost one ends. Also usable as a
    decorator (contextlib), as chapter 5 does: `numpy_only()(lambda: pool2d(...))`.
    """
    _switched_off.append(True)
    try:
        yield
    finally:
        _switched_off.pop()


def handles(A, Y, pool_size=None):
    """True when pool2d should pool the maps A into Y with the compiled kernel.

    Parameters
    ----------
    A, Y : numpy.ndarray
        The maps (m, H, W) and their pooled result (m, out_h, out_w).
    pool_size : tuple of int, optional
        The window (k_h, k_w). Given, a window taller or wider than the maps is left to
        the numpy path, which visits only the offsets that read an input cell. Default
        None: the window is not looked at (chapter 5's pool2d checks it itself).

    Returns
    -------
    bool
        True for plain writable C-contiguous arrays of float32 or float64 in native byte
        order, Y of A's dtype, compiling enabled (other arrays would each need a
        compilation of their own), and a window that fits in the maps.
    """
    fits = pool_size is None or (pool_size[0] <= A.shape[-2]
                                 and pool_size[1] <= A.shape[-1])
    return (enabled() and fits and type(A) is np.ndarray and type(Y) is np.ndarray
            and A.dtype in (np.float32, np.float64) and Y.dtype == A.dtype
            and A.flags.c_contiguous and A.flags.writeable and Y.flags.c_contiguous)


@njit(cache=True, inline='always')
def _combine(v, x, is_max):
    """The maximum of v and x, NaN if either is NaN (as np.maximum); or their sum."""
    if is_max:
        return x if (x > v) | (x != x) else v
    return v + x


@njit(cache=True, inline='always')
def _span(n, s, c, out):
    """The outputs [i0, i1) whose cell at offset c from i * s lies inside 0..n-1."""
    return max(0, -(c // s)), min(out, (n - 1 - c) // s + 1)


@njit(cache=True, inline='always')
def _reach(n, k, s, p, out):
    """The outputs [lo, hi) that every offset of the window reaches inside 0..n-1: the
    first offset (0) decides where they start, the last (k - 1) where they end."""
    lo, hi = _span(n, s, -p, out)[0], _span(n, s, k - 1 - p, out)[1]
    return lo, max(lo, hi)


@njit(cache=True, inline='always')
def _first3(src, at, k, is_max):
    """Combine src[at], src[at + 1], src[at + 2], or as many of them as k < 3 says."""
    v = src[at]
    if k > 1:
        v = _combine(v, src[at + 1], is_max)
    if k > 2:
        v = _combine(v, src[at + 2], is_max)
    return v


@njit(cache=True)
def _rows_inside(Av, k_h, s_h, is_max, Rv):
    """Rv[i, t] = combine of Av[i * s_h + a, t] over a < k_h: windows inside the input."""
    if s_h == 1:  # rows i + a: one flat run, reading three shifted views
        n, r = Rv.size, Rv.reshape(-1)
        a0, a1, a2 = Av.reshape(-1), Av.reshape(-1)[Rv.shape[1]:], Av.reshape(-1)[
            2 * Rv.shape[1]:]
        for x in range(n):
            v = a0[x]
            if k_h > 1:
                v = _combine(v, a1[x], is_max)
            if k_h > 2:
                v = _combine(v, a2[x], is_max)
            r[x] = v
    else:
        _rows_strided(Av, k_h, s_h, is_max, Rv)
    for a in range(3, k_h):  # windows taller than 3: one more run per offset
        for i in range(Rv.shape[0]):
            for t in range(Rv.shape[1]):
                Rv[i, t] = _combine(Rv[i, t], Av[s_h * i + a, t], is_max)


@njit(cache=True, inline='always')
def _rows_strided(Av, k_h, s_h, is_max, Rv):
    """Rv[i, t] = combine of Av[i * s_h + a, t] over a < min(k_h, 3), row by row."""
    k = min(k_h, 3)
    for i in range(Rv.shape[0]):
        r0 = Av[s_h * i]  # one run per row over up to three rows, each contiguous
        r1, r2, out = Av[s_h * i + min(1, k - 1)], Av[s_h * i + min(2, k - 1)], Rv[i]
        if k == 1:
            for t in range(len(out)):
                out[t] = r0[t]
        elif k == 2:
            for t in range(len(out)):
                out[t] = _combine(r0[t], r1[t], is_max)
        else:
            for t in range(len(out)):
                out[t] = _combine(_combine(r0[t], r1[t], is_max), r2[t], is_max)


@njit(cache=True, inline='always')
def pool_rows(A, k_h, s_h, p_h, is_max, R):
    """R[i, t] = the max (or sum) of A[i * s_h - p_h + a, t] over the offsets a.

    Parameters
    ----------
    A : numpy.ndarray
        One map (H, W), float32 or float64.
    k_h, s_h, p_h : int
        The window's height, the stride and the padding along the rows.
    is_max : bool
        Maximum (NaN if a window holds one) or sum.
    R : numpy.ndarray
        The rows-pooled map (out_h, W), of A's dtype, written in place.
    """
    n_h, n_w = A.shape
    lo, hi = _reach(n_h, k_h, s_h, p_h, R.shape[0])
    if hi > lo:  # rows whose whole window lies inside the input
        _rows_inside(A[lo * s_h - p_h:], k_h, s_h, is_max, R[lo:hi])
    for i in range(R.shape[0]):  # rows at the edges, where the window leaves the input
        if lo <= i < hi:
            continue
        top = i * s_h - p_h  # the window's rows: top + a, for a from a0 to a1 - 1
        a0, a1 = max(0, -top), min(k_h, n_h - top)
        R[i] = A[top + a0]
        for a in range(a0 + 1, a1):
            for t in range(n_w):
                R[i, t] = _combine(R[i, t], A[top + a, t], is_max)


@njit(cache=True)
def _columns_inside(r, k_w, s_w, is_max, y):
    """y[x] = combine of r[x * s_w + b] over b < k_w, with steps 1 and 2 spelled out."""
    if s_w == 1:
        for x in range(len(y)):
            y[x] = _first3(r, x, k_w, is_max)
    elif s_w == 2:
        for x in range(len(y)):
            y[x] = _first3(r, 2 * x, k_w, is_max)
    else:
        for x in range(len(y)):
            y[x] = _first3(r, s_w * x, k_w, is_max)
    for b in range(3, k_w):  # windows wider than 3: one more run per offset
        for x in range(len(y)):
            y[x] = _combine(y[x], r[s_w * x + b], is_max)


@njit(cache=True, inline='always')
def pool_columns(R, k_w, s_w, p_w, is_max, Y):
    """Y[i, j] = the max (or sum) of R[i, j * s_w - p_w + b] over the offsets b.

    Parameters
    ----------
    R : numpy.ndarray
        A rows-pooled map (out_h, W), as `pool_rows` writes it.
    k_w, s_w, p_w : int
        The window's width, the stride and the padding along the columns.
    is_max : bool
        Maximum (NaN if a window holds one) or sum.
    Y : numpy.ndarray
        The pooled map (out_h, out_w), of R's dtype, written in place.
    """
    n_w, (out_h, out_w) = R.shape[1], Y.shape
    lo, hi = _reach(n_w, k_w, s_w, p_w, out_w)
    if n_w == s_w * out_w and hi > lo:
        # R's rows are s_w times Y's: one flat run over the whole map. Near the left
        # and right edges it reads the neighbouring row; those cells are redone below.
        end = out_h * out_w - (out_w - hi)
        _columns_inside(R.reshape(-1)[lo * s_w - p_w:], k_w, s_w, is_max,
                        Y.reshape(-1)[lo:end])
    elif hi > lo:  # rows of R and Y do not line up: one row at a time
        for i in range(out_h):
            _columns_inside(R[i, lo * s_w - p_w:], k_w, s_w, is_max, Y[i, lo:hi])
    _redo_columns(R, k_w, s_w, p_w, is_max, Y, 0, lo)  # the edge columns, where the
    _redo_columns(R, k_w, s_w, p_w, is_max, Y, hi, out_w)  # flat run read wrong cells


@njit(cache=True, inline='always')
def _redo_columns(R, k_w, s_w, p_w, is_max, Y, j0, j1):
    """Recompute Y[:, j0:j1] from R, reading only the columns inside R."""
    for j in range(j0, j1):
        left = j * s_w - p_w  # the window's columns: left + b, for b from b0 to b1 - 1
        b0, b1 = max(0, -left), min(k_w, R.shape[1] - left)
        for i in range(Y.shape[0]):
            v = R[i, left + b0]
            for b in range(b0 + 1, b1):
                v = _combine(v, R[i, left + b], is_max)
            Y[i, j] = v


@njit(cache=True, nogil=True, error_model='numpy')  # numpy's rules: no zero check
def pool_maps(A, k_h, k_w, s_h, s_w, p_h, p_w, is_max, D, Y):
    """Max (or sum divided by D) of every map A[m] over its windows, into Y[m]; for a
    max, return how many maxima are zero (their signs need a look, as pool2d says)."""
    R = np.empty((Y.shape[1], A.shape[2]), A.dtype)
    d = D.reshape(-1)
    zeros = 0
    for m in range(A.shape[0]):
        pool_rows(A[m], k_h, s_h, p_h, is_max, R)  # one compilation for both modes
        pool_columns(R, k_w, s_w, p_w, is_max, Y[m])
        y = Y[m].reshape(-1)
        if is_max:  # counted while the map is in the cache
            for x in range(len(y)):
                zeros += y[x] == 0
        else:
            for x in range(len(y)):
                y[x] /= d[x]
    return zeros


def _plain(div, shape, dtype):
    """div broadcast to `shape`, as a C-contiguous writable array of `dtype`: div itself
    where it is one, else a copy (numba would compile its functions again for a
    read-only or non-contiguous array, such as a broadcast view)."""
    div = np.asarray(div)
    return np.require(div if div.shape == shape else np.broadcast_to(div, shape), dtype,
                      ('C', 'W'))


def pool(M, pool_size, strides, padding, mode, div, Z):
    """Pool the maps M (m, H, W) into Z (m, out_h, out_w) with pool_maps, on the threads.

    The maps are split among the threads poolbook.threads allows.

    Parameters
    ----------
    M, Z : numpy.ndarray
        Arrays `handles` accepts.
    pool_size, strides, padding : tuple of int
        (k_h, k_w), (s_h, s_w), (p_h, p_w).
    mode : str
        'max', or any other mode for a sum divided by `div`.
    div : numpy.ndarray or int or None
        What the sum of each output cell is divided by, broadcast to (out_h, out_w);
        None for a max.

    Returns
    -------
    int
        For a max, how many maxima are zero (0 for any other mode).
    """
    if div is None:
        D = np.ones((1, 1), Z.dtype)  # never read by a max
    else:
        D = _plain(div, Z.shape[1:], Z.dtype)
    args = (*pool_size, *strides, *padding, mode == 'max', D)
    return sum(run_parts(lambda start, stop: pool_maps(M[start:stop], *args, Z[start:stop]),
                         len(M), M.shape[1] * M.shape[2]))


def backward(A, G, pool_size, strides, padding, mode, div, dX):
    """dL/dA of pooling the maps A into dX, given G = dL/dY, with the compiled kernels.

    max_backward_maps or avg_backward_maps, the maps split among the threads.

    Parameters
    ----------
    A, G, dX : numpy.ndarray
        A and G arrays `handles` accepts (as its A and Y), dX like G.
    pool_size, strides, padding : tuple of int
        (k_h, k_w), (s_h, s_w), (p_h, p_w).
    mode : str
        'max' or 'avg'.
    div : numpy.ndarray or int or None
        For 'avg', what each window's sum is divided by, broadcast to (out_h, out_w);
        it is used in float64, as pool2d_backward does.
    """
    geometry = (*pool_size, *strides, *padding)
    G = np.require(G, requirements=('C', 'W'))  # a read-only G would compile again
    if mode == 'max' and geometry == (2, 2, 2, 2, 0, 0) and (
            2 * G.shape[1] <= A.shape[1] and 2 * G.shape[2] <= A.shape[2]):
        work = lambda start, stop: max_backward_2x2(A[start:stop], G[start:stop],
                                                    dX[start:stop])
    elif mode == 'max':
        work = lambda start, stop: max_backward_maps(A[start:stop], G[start:stop],
                                                     *geometry, dX[start:stop])
    else:
        D = _plain(div, G.shape[1:], np.float64)
        disjoint = pool_size[0] <= strides[0] and pool_size[1] <= strides[1]
        kernel = avg_backward_disjoint if disjoint else avg_backward_maps
        work = lambda start, stop: kernel(G[start:stop], D, *geometry, dX[start:stop])
    run_parts(work, len(A), A.shape[1] * A.shape[2])


def warm(dtypes=(np.float32, np.float64)):
    """Compile the kernels pool2d and pool2d_backward run, or load them from the cache.

    Max and average, forward (channels first and last), backward and adaptive: what a
    test run or a chapter needs, so that processes started afterwards load the machine
    code instead of compiling it again. The callers pass these functions C-contiguous,
    writable arrays only, as warm does: numba would compile again for any other layout
    and for a read-only array. Nothing to do when compiling is off.

    Parameters
    ----------
    dtypes : tuple of numpy dtypes, default (np.float32, np.float64)
        The dtypes to compile for. Each dtype compiles on its own, so two processes can
        warm one dtype each at the same time (the cache's index is locked while it
        changes; see GuardedCache.locked).
    """
    if not (isinstance(dtypes, (tuple, list)) and all(
            d in (np.float32, np.float64, 'float32', 'float64') for d in dtypes)):
        raise TypeError(f'warm: dtypes must be a tuple of float32 and float64 dtypes '
                        f'(the dtypes the kernels take), got {dtypes!r}')
    if not enabled():
        return
    for dtype in dtypes:
        A = np.zeros((1, 4, 4), dtype)
        Y = np.empty((1, 2, 2), dtype)
        pool(A, (3, 3), (1, 1), (0, 0), 'max', None, Y)
        pool(A, (3, 3), (1, 1), (0, 0), 'avg', np.ones((2, 2), dtype), Y)
        pool_channels_last(A[..., None], (3, 3), (1, 1), (0, 0), 'max', None, Y[..., None])
        for mode in ('max', 'avg'):
            backward(A, Y, (3, 3), (1, 1), (0, 0), mode, 1, np.empty_like(A))
            backward(A, Y, (2, 2), (2, 2), (0, 0), mode, 1, np.empty_like(A))
            bins = (np.array([0, 2]), np.array([3, 4]))
            adaptive(A, bins, bins, mode, Y)

# ----------------------------------------------------------------------------------------
# The backward pass (poolbook.backward.pool2d_backward runs these for float32 and float64).
#
# A stride-2 axis read as one run would read every other cell: a strided read, which the
# compiler turns into slow gather instructions. So the maps are first split into *phase
# planes*: plane rho of a row holds its cells rho, rho + s, rho + 2 s, ... side by side,
# and offset b of window j reads plane (b - p) mod s at position j + floor((b - p) / s),
# a contiguous run. Splitting (and merging back) is a loop the compiler vectorizes with
# shuffles. Every hot loop indexes its arrays by the loop variable alone (shifts are
# views made before the loop), so that numba's check for negative indices drops out.

@njit(cache=True, inline='always')
def _better(v, best):
    """True when v replaces best as the first maximum: larger, or the first NaN."""
    return (v > best) | ((v != v) & (best == best))


@njit(cache=True, inline='always')
def _split_planes(A, s, P):
    """P[rho, r, q] = A[r, q * s + rho] for every cell of the maps' rows A (n_h, n_w)."""
    n_h, n_w = A.shape
    W = P.shape[2]
    if s == 1 and W == n_w:
        P[0] = A
    elif s == 2 and n_w == 2 * W:  # one run over the whole map: the compiler's shuffles
        a, e, o = A.reshape(-1), P[0].reshape(-1), P[1].reshape(-1)
        for x in range(n_h * W):
            e[x] = a[2 * x]
            o[x] = a[2 * x + 1]
    else:
        for r in range(n_h):
            for c in range(n_w):
                P[c % s, r, c // s] = A[r, c]


@njit(cache=True, inline='always')
def _offset_plane(b, s, p):
    """The plane rho and the shift d at which offset b of window j reads: plane rho,
    position j + d."""
    e = b - p
    rho = e % s
    return rho, (e - rho) // s


@njit(cache=True, inline='always')
def _run_argmax(k, first, offsets, steps, h, c):
    """h[x], c[x]: the maximum over offsets 0..k-1 of first[x + steps[b]] (a flat array
    read at shift steps[b] for offset b) and the offset of its first occurrence."""
    v0 = first[steps[0]:steps[0] + len(h)]
    if k == 1:
        for x in range(len(h)):
            h[x], c[x] = v0[x], offsets[0]
        return
    v1 = first[steps[1]:steps[1] + len(h)]
    b0, b1 = offsets[0], offsets[1]
    for x in range(len(h)):  # the first two offsets in one run
        old, new = v0[x], v1[x]
        u = _better(new, old)
        h[x], c[x] = (new if u else old), (b1 if u else b0)
    for b in range(2, k):
        v, code = first[steps[b]:steps[b] + len(h)], offsets[b]
        for x in range(len(h)):
            old, new, was = h[x], v[x], c[x]  # read everything, then choose
            u = _better(new, old)
            h[x], c[x] = (new if u else old), (code if u else was)


@njit(cache=True, inline='always')
def _row_argmax(A, k_w, s_w, p_w, P, H, C, steps, offsets):
    """H[r, j], C[r, j]: the maximum of row r of A over window j's columns, and the
    offset b of its first occurrence (the first NaN, if any); P holds A's phase planes,
    of H's width; steps and offsets are room for k_w numbers each."""
    n_h, n_w = A.shape
    W = H.shape[1]
    lo, hi = _reach(n_w, k_w, s_w, p_w, W)
    if hi > lo:  # windows inside the row: runs over the whole map, edges redone below
        start, stop = lo, (n_h - 1) * W + hi
        planes = P.reshape(-1)  # plane rho, position q: planes[rho * n_h * W + q]
        for b in range(k_w):
            rho, d = _offset_plane(b, s_w, p_w)
            steps[b], offsets[b] = rho * n_h * W + start + d, b
        _run_argmax(k_w, planes, offsets, steps, H.reshape(-1)[start:stop],
                    C.reshape(-1)[start:stop])
    for j in range(min(lo, W)):  # the edge windows, where the runs crossed rows
        _edge_argmax(A, k_w, s_w, p_w, j, H, C)
    for j in range(max(hi, lo), W):
        _edge_argmax(A, k_w, s_w, p_w, j, H, C)


@njit(cache=True, inline='always')
def _edge_argmax(A, k_w, s_w, p_w, j, H, C):
    """H[:, j], C[:, j]: the maximum of window j over the cells of each row of A it
    covers, and the offset b of its first occurrence."""
    left = j * s_w - p_w
    b0, b1 = max(0, -left), min(k_w, A.shape[1] - left)
    for r in range(A.shape[0]):
        best, at = A[r, max(0, left + b0)], b0
        for b in range(b0 + 1, b1):
            if _better(A[r, left + b], best):
                best, at = A[r, left + b], b
        H[r, j], C[r, j] = best, at


@njit(cache=True, nogil=True, error_model='numpy')
def max_backward_maps(A, G, k_h, k_w, s_h, s_w, p_h, p_w, dX):
    """dX[m] = dL/dA[m] of max pooling the maps A, given G[m] = dL/dY[m].

    Each G[m, i, j] is added to the first cell, in row-major order, holding its window's
    maximum (the first NaN if the window holds one), the outputs taken last to first as
    pool2d_backward does: the same numbers to the bit.

    Parameters
    ----------
    A : numpy.ndarray
        The maps (m, H, W), float32 or float64, C-contiguous.
    G : numpy.ndarray
        dL/dY (m, out_h, out_w), A's dtype.
    k_h, k_w, s_h, s_w, p_h, p_w : int
        Window, strides and padding; the window at most the map's size.
    dX : numpy.ndarray
        dL/dA, A's shape and G's dtype, written in place.
    """
    n_maps, n_h, n_w = A.shape
    out_h, out_w = G.shape[1], G.shape[2]
    W = max(out_w, -(-n_w // s_w))  # positions per plane row; room for every window
    P = np.empty((s_w, n_h, W), A.dtype)
    H = np.empty((n_h, W), A.dtype)  # the row pass: each window's maximum along a row,
    C = np.empty((n_h, W), np.int32)  # and its column offset b
    # The column pass, for every top row t whose window lies inside the map (every t,
    # whatever the stride: one run): the maximum, and where it lies from the window's
    # first cell: a * n_w + b for its cell (a, b).
    n_t = n_h - k_h + 1
    V, K = np.empty(n_t * W, A.dtype), np.empty(n_t * W, np.int64)
    steps, offsets = np.empty(k_w, np.int64), np.empty(k_w, np.int32)
    left = np.arange(out_w) * s_w - p_w  # each window's first column
    best = np.empty(out_w, A.dtype)  # windows cut by the top or bottom edge: each one's
    at = np.empty(out_w, np.int64)  # maximum so far, and where its first one lies
    for m in range(n_maps):
        if s_w == 1 and W == n_w:
            planes = A[m].reshape((1, n_h, n_w))  # one plane: the map itself
        else:
            _split_planes(A[m], s_w, P)
            planes = P
        _row_argmax(A[m], k_w, s_w, p_w, planes, H, C, steps, offsets)
        _column_codes(k_h, n_w, H.reshape(-1), C.reshape(-1), W, V, K)
        d = dX[m].reshape(-1)
        for x in range(len(d)):
            d[x] = 0
        for i in range(out_h - 1, -1, -1):  # outputs last to first, as pool2d_backward
            top = i * s_h - p_h
            g = G[m, i]
            if 0 <= top < n_t:
                k, t = K[top * W:top * W + out_w], top * n_w
                for j in range(out_w - 1, -1, -1):
                    d[t + left[j] + k[j]] += g[j]
                continue
            a0, a1 = max(0, -top), min(k_h, n_h - top)
            # up to three rows in one run; a window of fewer rows names one twice
            r0, r1, r2 = top + a0, top + min(a0 + 1, a1 - 1), top + min(a0 + 2, a1 - 1)
            _column_argmax(H, C, r0, r1, r2, n_w, left, best, at)
            for r in range(top + a0 + 3, top + a1):  # windows taller than 3 rows
                _column_argmax(H, C, r, r, r, n_w, left, best, at, True)
            for j in range(out_w - 1, -1, -1):
                d[at[j]] += g[j]


@njit(cache=True, nogil=True, error_model='numpy')
def max_backward_2x2(A, G, dX):
    """max_backward_maps for 2 x 2 windows at stride 2, unpadded: the same bits.

    VGG's and ResNet's downsampling, no window cut by an edge. The windows do not
    overlap, so a cell takes one G at most: 0 + G[m, i, j] at its window's first
    maximum, 0 everywhere else. For each pair of rows, the four cells of every window
    are compared with selects (a loop the compiler vectorizes), then the two rows of dX
    are zeroed and each G is added at its window's first maximum.

    Parameters
    ----------
    A, G, dX
        As for max_backward_maps; G's maps at most half of A's, rounded down, each way.
    """
    n_maps, n_h, n_w = A.shape
    out_h, out_w = G.shape[1], G.shape[2]
    at = np.empty(out_w, np.int64)  # each window's first maximum, in its two rows
    for m in range(n_maps):
        d = dX[m].reshape(-1)
        for i in range(out_h):
            top, bottom, g = A[m, 2 * i], A[m, 2 * i + 1], G[m, i]
            for j in range(out_w):  # cells in row-major order: a later one must be better
                a, b, c, e = top[2 * j], top[2 * j + 1], bottom[2 * j], bottom[2 * j + 1]
                u = _better(b, a)
                v, k = (b if u else a), (2 * j + 1 if u else 2 * j)
                u = _better(c, v)
                v, k = (c if u else v), (n_w + 2 * j if u else k)
                at[j] = n_w + 2 * j + 1 if _better(e, v) else k
            rows = d[2 * i * n_w:(2 * i + 2) * n_w]
            for x in range(2 * n_w):
                rows[x] = 0
            for j in range(out_w):
                rows[at[j]] += g[j]  # 0 + G, as max_backward_maps adds it
        for x in range(2 * out_h * n_w, n_h * n_w):  # a last row in no window
            d[x] = 0


@njit(cache=True, inline='always')
def _column_codes(k_h, n_w, h, c, W, V, K):
    """V[x], K[x]: the maximum over rows a < k_h of h[x + a W] and the offset a n_w + b
    of its first occurrence from the window's first cell, where c[x + a W] holds the
    row's own offset b."""
    n = len(V)
    h0, c0 = h[:n], c[:n]
    if k_h == 1:
        for x in range(n):
            V[x], K[x] = h0[x], c0[x]
        return
    h1, c1 = h[W:W + n], c[W:W + n]
    for x in range(n):  # the first two rows in one run
        old, new, b0, b1 = h0[x], h1[x], c0[x], c1[x]
        u = _better(new, old)
        V[x], K[x] = (new if u else old), (b1 + n_w if u else b0)
    for a in range(2, k_h):
        ha, ca = h[a * W:a * W + n], c[a * W:a * W + n]
        for x in range(n):
            old, new, was, b = V[x], ha[x], K[x], ca[x]
            u = _better(new, old)
            V[x], K[x] = (new if u else old), (b + a * n_w if u else was)


@njit(cache=True, inline='always')
def _column_argmax(H, C, r0, r1, r2, n_w, left, best, at, carry=False):
    """best[j], at[j]: the maximum of window j over rows r0, r1, r2 of the row pass (H:
    each row's maximum in the window, C: its column offset) and the flat index of its
    first occurrence; with `carry`, rows after those best and at hold. A row given twice
    changes nothing: only a larger value (or a first NaN) wins."""
    for j in range(len(at)):  # every value read before any choice: no branches
        v0, v1, v2, b, a = H[r0, j], H[r1, j], H[r2, j], best[j], at[j]
        w0 = r0 * n_w + C[r0, j] + left[j]
        w1, w2 = r1 * n_w + C[r1, j] + left[j], r2 * n_w + C[r2, j] + left[j]
        if carry:
            u = _better(v0, b)
            v0, w0 = (v0 if u else b), (w0 if u else a)
        u = _better(v1, v0)
        v0, w0 = (v1 if u else v0), (w1 if u else w0)
        u = _better(v2, v0)
        best[j], at[j] = (v2 if u else v0), (w2 if u else w0)


@njit(cache=True, nogil=True, error_model='numpy')
def avg_backward_maps(G, D, k_h, k_w, s_h, s_w, p_h, p_w, dX):
    """dX[m] = dL/dA[m] of average pooling, given G[m] = dL/dY[m] and the divisors D.

    Every cell of window (i, j) gets G[m, i, j] / D[i, j], computed in float64 and added
    in dX's dtype, offset by offset in row-major order, as pool2d_backward does (so the
    results are the same to the bit).

    Parameters
    ----------
    G : numpy.ndarray
        dL/dY (m, out_h, out_w), float32 or float64, C-contiguous.
    D : numpy.ndarray
        The divisors (out_h, out_w), float64.
    k_h, k_w, s_h, s_w, p_h, p_w : int
        Window, strides and padding; the window at most the map's size.
    dX : numpy.ndarray
        dL/dA (m, H, W), G's dtype, written in place.

    Notes
    -----
    The shares are laid out with margins of zeros, and each window offset (a, b) adds
    them, shifted, to one phase plane of dX (rows a - p_h mod s_h, columns b - p_w mod
    s_w) in one run over all windows; the planes are then merged into dX row by row."""
    n_maps, out_h, out_w = G.shape
    n_h, n_w = dX.shape[1], dX.shape[2]
    M = max(0, -_offset_plane(0, s_w, p_w)[1])  # margin columns before the shares
    Wg = max(out_w, -(-n_w // s_w)) + M + (k_w - 1) // s_w + 1  # row width of both
    Hq = -(-n_h // s_h)
    S = np.zeros((out_h, Wg), np.float64)  # the shares, columns M to M + out_w
    planes = np.empty((s_h, s_w, Hq + 2, Wg), dX.dtype)  # a spare row before and after
    flat_planes = planes.reshape(-1)
    shares = S.reshape(-1)
    runs = np.empty((k_h * k_w, 3), np.int64)  # per offset: first share, count, target
    for a in range(k_h):
        i0 = max(0, -((a - p_h) // s_h))  # the windows whose row a lies inside the map
        i1 = min(out_h, (n_h - 1 + p_h - a) // s_h + 1)
        sigma, e = _offset_plane(a, s_h, p_h)
        for b in range(k_w):
            rho, d = _offset_plane(b, s_w, p_w)
            plane = (sigma * s_w + rho) * (Hq + 2) * Wg
            runs[a * k_w + b, 0] = i0 * Wg
            runs[a * k_w + b, 1] = max(0, i1 - i0) * Wg
            runs[a * k_w + b, 2] = plane + (i0 + e + 1) * Wg + d
    for m in range(n_maps):
        g = G[m]
        for i in range(out_h):
            row, d_row, g_row = S[i, M:M + out_w], D[i], g[i]
            for j in range(out_w):
                row[j] = np.float64(g_row[j]) / d_row[j]
        for x in range(len(flat_planes)):
            flat_planes[x] = 0
        for k in range(k_h * k_w):  # offsets in row-major order, as pool2d_backward
            first, count, target = runs[k, 0], runs[k, 1], runs[k, 2]
            out, add = flat_planes[target:target + count], shares[first:first + count]
            for x in range(count):
                out[x] = out[x] + add[x]  # in float32, each sum rounded, as numpy
        for r in range(n_h):
            _merge_planes(planes[r % s_h, :, r // s_h + 1, M:], s_w, dX[m, r])


@njit(cache=True, nogil=True, error_model='numpy')
def avg_backward_disjoint(G, D, k_h, k_w, s_h, s_w, p_h, p_w, dX):
    """avg_backward_maps where no two windows overlap (k_h <= s_h, k_w <= s_w).

    A cell then lies in one window at most, so its sum has one share: it is 0 + G[m, i,
    j] / D[i, j], computed in float64 and rounded once to dX's dtype (the bits
    avg_backward_maps gives it), and 0 outside every window. So each output row of
    shares is made once, as a row of dX, and copied to the rows of its windows: dX is
    written once, and the phase planes are not needed.

    Parameters
    ----------
    G, D, k_h, k_w, s_h, s_w, p_h, p_w, dX
        As for avg_backward_maps.
    """
    n_maps, out_h, out_w = G.shape
    n_h, n_w = dX.shape[1], dX.shape[2]
    window_of_row = np.full(n_h, -1, np.int64)  # the window covering each row, or -1
    for i in range(out_h):
        for a in range(k_h):
            if 0 <= i * s_h - p_h + a < n_h:
                window_of_row[i * s_h - p_h + a] = i
    window_of_column = np.full(n_w, out_w, np.int64)  # out_w: no window (share 0)
    for j in range(out_w):
        for b in range(k_w):
            if 0 <= j * s_w - p_w + b < n_w:
                window_of_column[j * s_w - p_w + b] = j
    paired = k_w == 2 and s_w == 2 and p_w == 0 and 2 * out_w <= n_w  # VGG's, ResNet's
    shares = np.zeros(out_w + 1, dX.dtype)  # one output row's; the last one stays 0
    row = np.empty(n_w, dX.dtype)  # those shares spread over a row of dX
    for m in range(n_maps):
        made = -1  # the output row whose shares `row` holds
        for r in range(n_h):
            i, out = window_of_row[r], dX[m, r]
            if i < 0:
                for c in range(n_w):
                    out[c] = 0
                continue
            if i != made:
                g, d = G[m, i], D[i]
                for j in range(out_w):
                    shares[j] = 0.0 + np.float64(g[j]) / d[j]  # 0 + share, as one sum
                if paired:  # a loop the compiler vectorizes (the gather below, hardly)
                    for j in range(out_w):
                        row[2 * j] = shares[j]
                        row[2 * j + 1] = shares[j]
                    for c in range(2 * out_w, n_w):
                        row[c] = 0
                else:
                    for c in range(n_w):
                        row[c] = shares[window_of_column[c]]
                made = i
            for c in range(n_w):
                out[c] = row[c]


@njit(cache=True, inline='always')
def _merge_planes(T, s, row):
    """row[q * s + rho] = T[rho, q]: the phase planes of one row merged back."""
    n_w = len(row)
    if s == 1:
        for c in range(n_w):
            row[c] = T[0, c]
    elif s == 2:
        e, o = T[0], T[1]
        for q in range(n_w // 2):
            row[2 * q] = e[q]
            row[2 * q + 1] = o[q]
        if n_w % 2:
            row[n_w - 1] = e[n_w // 2]
    else:
        for c in range(n_w):
            row[c] = T[c % s, c // s]


# ----------------------------------------------------------------------------------------
# Adaptive pooling (poolbook.adaptive.adaptive_pool2d runs this for float32 and float64).

@njit(cache=True, inline='always')
def _run_more(x, is_max, out):
    """out[t] = the max (or sum) of out[t] and x[t]: one more row of a bin."""
    for t in range(len(out)):
        out[t] = _combine(out[t], x[t], is_max)


@njit(cache=True, nogil=True, error_model='numpy')
def adaptive_maps(A, row_bins, col_bins, is_max, Y):
    """Y[m, i, j] = the max (or mean) of A[m] over row bin i and column bin j.

    The bins of an axis are given as their starts and ends (exclusive), one pair per row
    of row_bins or col_bins (poolbook.adaptive.adaptive_bins). Row bin i is pooled as
    one run per row of the bin, adding rows in order; then each column bin of that,
    cells in order: the order poolbook.adaptive.pool_bins adds them in, so the average
    is the same to the bit.

    Parameters
    ----------
    A : numpy.ndarray
        The maps (m, H, W), float32 or float64, C-contiguous.
    row_bins, col_bins : numpy.ndarray
        int64 arrays (out_h, 2) and (out_w, 2): each bin's start and end.
    is_max : bool
        Maximum (NaN if a bin holds one) or average.
    Y : numpy.ndarray
        The pooled maps (m, out_h, out_w), A's dtype, written in place.
    """
    R = np.empty(A.shape[2], A.dtype)  # one row bin, pooled down the rows
    for m in range(A.shape[0]):
        for i in range(row_bins.shape[0]):
            r0, r1 = row_bins[i, 0], row_bins[i, 1]
            first = A[m, r0]
            for t in range(len(R)):
                R[t] = first[t]
            for r in range(r0 + 1, r1):
                _run_more(A[m, r], is_max, R)
            for j in range(col_bins.shape[0]):
                c0, c1 = col_bins[j, 0], col_bins[j, 1]
                v = R[c0]
                for c in range(c0 + 1, c1):
                    v = _combine(v, R[c], is_max)
                if not is_max:
                    v = v / A.dtype.type((r1 - r0) * (c1 - c0))
                Y[m, i, j] = v


def adaptive(A, row_bins, col_bins, mode, Y):
    """Adaptive pooling of the maps A (m, H, W) into Y with adaptive_maps, on the threads.

    Parameters
    ----------
    A, Y : numpy.ndarray
        Arrays `handles` accepts (as its A and Y).
    row_bins, col_bins : tuple of numpy.ndarray
        Each axis's bin starts and ends, as poolbook.adaptive.adaptive_bins gives them.
    mode : str
        'max' or 'avg'.
    """
    rows = np.ascontiguousarray(np.stack(row_bins, axis=1), np.int64)
    cols = np.ascontiguousarray(np.stack(col_bins, axis=1), np.int64)
    run_parts(lambda start, stop: adaptive_maps(A[start:stop], rows, cols, mode == 'max',
                                                Y[start:stop]),
              len(A), A.shape[1] * A.shape[2])


# ----------------------------------------------------------------------------------------
# Channels last (pool2d's layout='NHWC'): the channels of a cell lie side by side, so
# every step of the window combines whole runs of C channels (16 float32 channels fill
# one AVX-512 register), with no stride inside a run and no edge inside a vector.

@njit(cache=True, nogil=True, error_model='numpy')
def pool_nhwc(A, k_h, k_w, s_h, s_w, p_h, p_w, is_max, D, Y):
    """Max (or sum divided by D) of channels-last maps A (n, H, W, C) into Y.

    Rows first, then columns, offsets in order, as pool_maps adds them.

    Parameters
    ----------
    A : numpy.ndarray
        (n, H, W, C), float32 or float64, C-contiguous.
    k_h, k_w, s_h, s_w, p_h, p_w : int
        Window, strides and padding; the window at most the map's size.
    is_max : bool
        Maximum (NaN if a window holds one) or sum divided by D.
    D : numpy.ndarray
        The divisors (out_h, out_w), A's dtype; not read for a maximum.
    Y : numpy.ndarray
        (n, out_h, out_w, C), A's dtype, written in place.
    """
    n_h, n_w, C = A.shape[1], A.shape[2], A.shape[3]
    out_h, out_w = Y.shape[1], Y.shape[2]
    R = np.empty(n_w * C, A.dtype)  # one output row's window rows, pooled: (W, C)
    for m in range(A.shape[0]):
        for i in range(out_h):
            top = i * s_h - p_h
            a0, a1 = max(0, -top), min(k_h, n_h - top)
            first = A[m, top + a0].reshape(-1)
            for t in range(len(R)):
                R[t] = first[t]
            for a in range(a0 + 1, a1):
                _run_more(A[m, top + a].reshape(-1), is_max, R)
            for j in range(out_w):
                left = j * s_w - p_w
                b0, b1 = max(0, -left), min(k_w, n_w - left)
                y = Y[m, i, j]
                cells = R[(left + b0) * C:(left + b0 + 1) * C]
                for c in range(C):
                    y[c] = cells[c]
                for b in range(b0 + 1, b1):
                    _run_more(R[(left + b) * C:(left + b + 1) * C], is_max, y)
                if not is_max:
                    d = D[i, j]
                    for c in range(C):
                        y[c] /= d


def pool_channels_last(M, pool_size, strides, padding, mode, div, Z):
    """Pool channels-last maps M (n, H, W, C) into Z (n, out_h, out_w, C), on the threads.

    Parameters
    ----------
    M, Z : numpy.ndarray
        C-contiguous float32 or float64 arrays of one dtype (`handles` as A and Y).
    pool_size, strides, padding : tuple of int
        (k_h, k_w), (s_h, s_w), (p_h, p_w).
    mode : str
        'max', or any other mode for a sum divided by `div`.
    div : numpy.ndarray or int or None
        What the sum of each output cell is divided by, broadcast to (out_h, out_w);
        None for a max.
    """
    shape = Z.shape[1:3]
    D = _plain(1 if div is None else div, shape, Z.dtype)
    args = (*pool_size, *strides, *padding, mode == 'max', D)
    run_parts(lambda start, stop: pool_nhwc(M[start:stop], *args, Z[start:stop]),
              len(M), M[0].size)


@njit(cache=True, nogil=True)
def running_max(a, b, repeat):
    """a[t] = max(a[t], b[t]), `repeat` times over: poolbook.speed.comparison_rate's loop.

    Parameters
    ----------
    a, b : numpy.ndarray
        float32 arrays of one length; a is written in place.
    repeat : int
        How many times to sweep the arrays.
    """
    for _ in range(repeat):
        for t in range(len(a)):
            a[t] = _combine(a[t], b[t], True)
