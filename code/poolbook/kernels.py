"""The compiled kernel behind `poolbook.pool2d` for float32 and float64, and the switch
that turns compiling off.

* `pool_maps` pools maps with the same separable pooling as pool2d's numpy path (rows,
  then columns), one map at a time so that the intermediate stays in the cache. Where it
  can, a loop runs over a whole map as one flat run, indexed by the loop variable alone:
  an index such as `x - 1` makes numba check for negative indices, which stops the
  compiler from vectorizing the loop. A window of up to 3 cells is combined in one run,
  so that a stride-2 run reads both cells of a pair. Rows pooled with a stride above 1 go
  in blocks of 16 cells: written as one loop per row, a row of 56 cells ran 1.4 times
  slower on the book's machine (the compiler's vector loop, which takes many cells per
  step, left short rows to its scalar remainder). Chapter 5 shows it.
* `handles` is the one place that decides whether pool2d runs this kernel; `pool` runs it
  on a chunk of maps.
* The kernel computes which outputs each window offset reaches (`_span`, `_reach`) and
  which offsets of an edge window read the input in compiled code of its own: numba's
  on-disk cache would not notice a change to poolbook.geometry, so the kernel does not
  call it. tests/test_kernels.py checks that both give the same ranges.

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

import numpy as np

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

    def load_overload(self, sig, target_context):
        """The cached machine code for `sig`, or None (compile it) if it cannot be read."""
        try:
            return self.cache.load_overload(sig, target_context)
        except Exception as error:  # truncated or corrupt file: any unpickling error
            cache_warning('corrupt', f"numba's disk cache of {self.name} in "
                          f"{self.cache.cache_path} could not be read ({type(error).__name__}"
                          f": {error}); compiling it again and rewriting the cache")
            with contextlib.suppress(Exception):
                self.cache.flush()  # an empty index: the next save rewrites the files
            return None

    def save_overload(self, sig, data):
        """Save the machine code for `sig`; if that fails, keep it in memory only."""
        try:
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


@njit(cache=True)
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


@njit(cache=True)
def _rows_strided(Av, k_h, s_h, is_max, Rv):
    """Rv[i, t] = combine of Av[i * s_h + a, t] over a < min(k_h, 3), row by row."""
    n_w = Rv.shape[1]
    for i in range(Rv.shape[0]):
        for block in range(n_w // 16):  # blocks of 16 cells: a few vector operations each
            for u in range(16):
                _rows_cell(Av, k_h, s_h, is_max, Rv, i, 16 * block + u)
        for t in range(n_w // 16 * 16, n_w):
            _rows_cell(Av, k_h, s_h, is_max, Rv, i, t)


@njit(cache=True, inline='always')
def _rows_cell(Av, k_h, s_h, is_max, Rv, i, t):
    """Rv[i, t] = combine of Av[i * s_h + a, t] over a < min(k_h, 3)."""
    v = Av[s_h * i, t]
    if k_h > 1:
        v = _combine(v, Av[s_h * i + 1, t], is_max)
    if k_h > 2:
        v = _combine(v, Av[s_h * i + 2, t], is_max)
    Rv[i, t] = v


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True, error_model='numpy')  # numpy's rules: no check per division
def pool_maps(A, k_h, k_w, s_h, s_w, p_h, p_w, is_max, D, Y):
    """Max (or sum divided by D) of every map A[m] over its windows, into Y[m]."""
    R = np.empty((Y.shape[1], A.shape[2]), A.dtype)
    d = D.reshape(-1)
    for m in range(A.shape[0]):
        if is_max:  # a constant True or False: numba compiles each pass for each mode
            pool_rows(A[m], k_h, s_h, p_h, True, R)
            pool_columns(R, k_w, s_w, p_w, True, Y[m])
        else:
            pool_rows(A[m], k_h, s_h, p_h, False, R)
            pool_columns(R, k_w, s_w, p_w, False, Y[m])
            y = Y[m].reshape(-1)
            for x in range(len(y)):
                y[x] /= d[x]


def pool(M, pool_size, strides, padding, mode, div, Z):
    """Pool the maps M (m, H, W) into Z (m, out_h, out_w) with pool_maps.

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
    """
    if div is None:
        D = np.ones((1, 1), Z.dtype)  # never read by a max
    elif div.shape == Z.shape[1:] and div.dtype == Z.dtype and div.flags.c_contiguous:
        D = div
    else:
        D = np.ascontiguousarray(np.broadcast_to(div, Z.shape[1:]), Z.dtype)
    pool_maps(M, *pool_size, *strides, *padding, mode == 'max', D, Z)


def warm():
    """Compile the kernel for the arrays pool2d hands it, or load it from the disk cache.

    float32 and float64, max and average: what a test run or a chapter needs, so that
    processes started afterwards load the machine code instead of compiling it again.
    Nothing to do when compiling is off.
    """
    if not enabled():
        return
    for dtype in (np.float32, np.float64):
        A = np.zeros((1, 4, 4), dtype)
        Y = np.empty((1, 2, 2), dtype)
        pool(A, (3, 3), (1, 1), (0, 0), 'max', None, Y)
        pool(A, (3, 3), (1, 1), (0, 0), 'avg', np.ones((2, 2), dtype), Y)
