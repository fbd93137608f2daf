"""The one place where poolbook turns its inputs into numpy arrays and its results back
into the kind of array it was given.

The rule (stated for readers in the package docstring, poolbook/__init__.py):

* accepted: numpy arrays, including read-only, memory-mapped, non-contiguous,
  Fortran-ordered and byte-swapped ones and `np.matrix`; MXNet's `mx.nd.NDArray` and
  `mx.np.ndarray` (on any context);
* refused with a TypeError naming the parameter: masked arrays (a mask is a meaning we
  would otherwise silently drop: pass `X.filled(value)`), and everything that is not an
  array (lists, tuples, scalars: say `np.asarray(X)` to mean them as an array);
* returned: a numpy input gives a plain numpy ndarray, an `mx.nd.NDArray` an NDArray and
  an `mx.np.ndarray` an `mx.np.ndarray`, on the input's context;
* gradients: poolbook computes in numpy (and numba), outside MXNet's autograd graph, so
  a result computed from an MXNet array that autograd is recording would carry no
  gradient back: a silent zero. Inside `autograd.record()`, an array that is part of
  the recorded graph (given `attach_grad()`, or computed from one) is refused with a
  TypeError naming the rule; `X.detach()` passes its values alone. Gradients through
  pooling come from MXNet's operators (`nd.Pooling`, Gluon's layers) or, computed by
  the package itself, from `poolbook.pool2d_backward`.
"""
import mxnet as mx
import numpy as np
from mxnet import autograd, nd


def check_kind(X, name='X'):
    """Refuse X unless it is a numpy array (not masked), an mx.nd.NDArray or mx.np.ndarray.

    Parameters
    ----------
    X : object
        What a function was given as an array.
    name : str, default 'X'
        The parameter's name, for the message.

    Raises
    ------
    TypeError
        For a masked array (pass X.filled(value)), for anything not an array, for an
        MXNet array that is not dense and for one autograd is recording (`recorded`).
    """
    if isinstance(X, np.ma.MaskedArray):
        raise TypeError(f"{name} is a numpy masked array, whose mask poolbook would ignore: "
                        f"pass {name}.filled(value) with the value masked cells should take")
    if not isinstance(X, (np.ndarray, nd.NDArray)):
        raise TypeError(f"{name} must be a numpy array or an mx.nd.NDArray (or mx.np."
                        f"ndarray), got {type(X).__name__} (np.asarray makes a list an array)")
    if isinstance(X, nd.NDArray):
        if X.stype != 'default':
            raise TypeError(f"{name} is a sparse NDArray (storage type {X.stype!r}), which "
                            f"poolbook does not take: pass {name}.tostype('default')")
        if recorded(X):
            raise TypeError(f"{name} is an MXNet array that autograd is recording (inside "
                            f"autograd.record(), from an array given attach_grad()): "
                            f"poolbook computes outside MXNet's graph, so the gradient "
                            f"through it would be silently 0. Use MXNet's operators "
                            f"(nd.Pooling, Gluon's layers) where a gradient must flow, "
                            f"poolbook.pool2d_backward for pooling's gradient, or pass "
                            f"{name}.detach() for the values alone")


def recorded(X):
    """True when autograd is recording and the MXNet array X is part of its graph.

    Parameters
    ----------
    X : mx.nd.NDArray or mx.np.ndarray

    Returns
    -------
    bool
        True inside `autograd.record()` for an array given `attach_grad()` or computed
        from one there: a result poolbook computed from it would get no gradient.
    """
    if not autograd.is_recording():
        return False
    try:
        autograd.get_symbol(X)  # MXNet refuses an array outside every recorded graph
    except mx.base.MXNetError:
        return False
    return True


def to_numpy(X, name='X'):
    """X as a base-class numpy ndarray in native byte order, copied only when it must be.

    Parameters
    ----------
    X : numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
        Any kind `check_kind` accepts; np.matrix and np.memmap become plain views.
    name : str, default 'X'
        The parameter's name, for a refusal.

    Returns
    -------
    numpy.ndarray
        X itself when it is one already, a view of a matrix or memmap, else a copy.

    Notes
    -----
    An MXNet array is copied (`asnumpy`) rather than viewed. MXNet 1.9.1's arrays have no
    `__dlpack__`; numpy's `from_dlpack` view of one (through `to_dlpack_for_read` or
    `to_dlpack_for_write`) is read-only, which the compiled kernels do not take
    (`kernels.handles`), and the copy keeps every function's steps off the caller's
    memory. Results go back to MXNet without a copy (`like_input`).
    """
    check_kind(X, name)
    A = X.asnumpy() if isinstance(X, nd.NDArray) else np.asarray(X)  # matrix, memmap: views
    if not A.dtype.isnative:
        A = A.astype(A.dtype.newbyteorder('='))
    return A


def map_chunks(X, name='X'):
    """X (..., H, W) as maps that can be fetched a chunk at a time, with their count.

    A view where a numpy X's maps lie in memory that way; else a copy of the chunk's maps
    only (MXNet arrays, Fortran order, byte-swapped), so that no step copies the whole input.

    Parameters
    ----------
    X : numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
        At least two axes.
    name : str, default 'X'
        The parameter's name, for a refusal.

    Returns
    -------
    count : int
        How many maps X holds: the product of its leading axes.
    fetch : callable
        fetch(c0, c1) gives maps c0 to c1 - 1 as one (m, H, W) numpy array in native byte
        order.
    """
    check_kind(X, name)
    if X.ndim < 2:
        raise ValueError(f"{name} must have at least two axes, (..., H, W), got shape "
                         f"{tuple(X.shape)}")
    lead, hw = tuple(X.shape[:-2]), tuple(X.shape[-2:])
    count = int(np.prod(lead))
    if isinstance(X, nd.NDArray):  # an NDArray is contiguous: reshaping it is free
        flat = X.as_nd_ndarray().reshape((count,) + hw)
        return count, lambda c0, c1: flat[c0:min(c1, count)].asnumpy()
    A = np.asarray(X)
    if leading_axes_merge(A):
        flat = A.reshape((count,) + hw)  # a view
        fetch = lambda c0, c1: flat[c0:c1]
    else:  # e.g. Fortran order: gather the chunk's maps
        fetch = lambda c0, c1: A[np.unravel_index(np.arange(c0, min(c1, count)), lead)]
    if A.dtype.isnative:
        return count, fetch
    return count, lambda c0, c1: fetch(c0, c1).astype(A.dtype.newbyteorder('='))


def leading_axes_merge(A):
    """True when the axes of A before the last two merge into one without a copy.

    Parameters
    ----------
    A : numpy.ndarray

    Returns
    -------
    bool
    """
    axes = [(n, stride) for n, stride in zip(A.shape[:-2], A.strides[:-2]) if n > 1]
    return all(outer == inner * n for (_, outer), (n, inner) in zip(axes, axes[1:]))


def like_input(Y, X):
    """The result Y as the kind of array X is, on X's context, in Y's dtype.

    Parameters
    ----------
    Y : numpy.ndarray or mx.nd.NDArray
        A result. A C-contiguous numpy Y is lent to MXNet without a copy (except int8,
        which MXNet cannot borrow).
    X : numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
        The input whose kind the result takes.

    Returns
    -------
    numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
    """
    if not isinstance(X, nd.NDArray):
        return Y.asnumpy() if isinstance(Y, nd.NDArray) else Y
    if isinstance(Y, nd.NDArray):
        Z = Y.as_nd_ndarray().as_in_context(X.ctx)
    elif Y.flags.c_contiguous and Y.dtype != np.int8:  # lend Y's memory to MXNet: no copy
        Z = nd.from_numpy(Y, zero_copy=True).as_in_context(X.ctx)
    else:  # MXNet cannot borrow int8 or strided memory
        Z = nd.array(Y, ctx=X.ctx, dtype=Y.dtype)
    return Z.as_np_ndarray() if isinstance(X, mx.np.ndarray) else Z


def as_ndarray(X, dtype=None):
    """X as an mx.nd.NDArray in `dtype`, without a copy if it is one already.

    Parameters
    ----------
    X : numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
    dtype : numpy.dtype, optional
        Default None: X's dtype.

    Returns
    -------
    mx.nd.NDArray
    """
    check_kind(X)
    dtype = real_dtype(X.dtype if dtype is None else dtype)
    if isinstance(X, nd.NDArray):
        X = X.as_nd_ndarray()
        return X if X.dtype == dtype else X.astype(dtype)
    return nd.array(to_numpy(X), dtype=dtype)


def real_dtype(dtype, name='dtype'):
    """`dtype` as a numpy.dtype in native byte order; a TypeError unless it is real numbers.

    Parameters
    ----------
    dtype : numpy.dtype, or a name or type numpy.dtype takes
        An integer or float dtype, of either byte order.
    name : str, default 'dtype'
        The parameter's name, for a refusal.

    Returns
    -------
    numpy.dtype
    """
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"{name} must be a numpy dtype of real numbers, got {dtype!r} "
                        f"({error})") from None
    if dtype.kind not in 'iuf':
        raise TypeError(f"{name} must be a dtype of real numbers (integers or floats), "
                        f"got {dtype.name}")
    return dtype.newbyteorder('=')


def sum_dtype(dtype):
    """The dtype to add values of `dtype` in: at least float32, float64 for integers.

    float32 for float16 (a float16 sum of 60000s overflows) and float32, float64 for
    float64 and every integer dtype (exact for sums below 2**53: int8 products never
    wrap). Always in native byte order.

    Parameters
    ----------
    dtype : numpy.dtype, or a name or type numpy.dtype takes
    """
    dtype = real_dtype(dtype)
    if dtype.kind != 'f':
        return np.dtype(np.float64)  # exact for every sum below 2**53
    return max(dtype, np.dtype(np.float32), key=lambda d: d.itemsize)


def mean_dtype(dtype):
    """The dtype an average of `dtype` values comes back in: its own if float, else float64.

    Parameters
    ----------
    dtype : numpy.dtype, or a name or type numpy.dtype takes
        The values' dtype; the result is a numpy.dtype in native byte order.
    """
    dtype = real_dtype(dtype)
    return dtype if dtype.kind == 'f' else np.dtype(np.float64)
