"""poolbook: the code of the book "Pooling, executed".

Every notebook imports its functions from here, and every function a chapter teaches is
the function shipped here (see tests/test_notebooks.py for the check that keeps them equal).

* `pool2d`: the general, fast pooling function (pooling.py; its numba kernel in
  kernels.py), max, average and MXNet's sum and Lp modes, channels first or, with
  `layout='NHWC'`, channels last, checked against MXNet and PyTorch;
* `set_num_threads`, `get_num_threads` (threads.py): how many threads the compiled
  kernels use, all cores unless told (or POOLBOOK_NUM_THREADS); results are the same
  to the bit on any number;
* `poolbook.geometry`: the window arithmetic (output size and shape, which offsets read
  which cells, divisors, the lowest value), which every other module asks;
* `poolbook.loops`: the plain loops the chapters build first, and chapter 1's loop
  compiled by numba (`poolbook.compiled` keeps chapter 5's names); `corr2d` (conv.py);
* `poolbook.checks` and `poolbook.arrays`: the argument checks many functions share and
  the one input rule (a check that serves one module lives in that module);
* `poolbook.variants`: the exercises' computations (chapter 4); `poolbook.speed`: the
  timing helpers and the bandwidth bound (chapter 5);
* `global_pool2d`, `adaptive_pool2d` (adaptive.py), `pool2d_backward` (backward.py) and
  `poolbook.networks`: pooling in real networks (chapter 6);
* `blur_pool2d`, `max_blur_pool2d`: anti-aliased pooling (antialias.py); `poolbook.shift`
  and `poolbook.training`: chapter 7's shift measurements and its digit classifier, which
  `poolbook.tinynet` trains with the same bits on every CPU;
* `poolbook.frameworks`: MXNet, PyTorch and ONNX called like `pool2d`, compared (ch. 8);
* `roi_pool`, `roi_align` and `poolbook.regions.pyramid_pool2d` (regions.py): pooling
  boxes of any size into a fixed grid, checked against MXNet and ONNX Runtime, and spatial
  pyramid pooling (chapter 9);
* `pool2d_with_indices`, `max_unpool2d` (unpool.py): max pooling that remembers where
  each maximum came from and puts it back, as PyTorch does; `poolbook.receptive`: the
  receptive fields of the traced networks, checked by autograd (chapter 10);
* `poolbook.explorer`: chapter 2's widget explorer; `poolbook.figures`: every drawing in
  the book (`poolbook.player` makes its animation player work offline).

Inputs, dtypes and refusals (one rule for every public function; poolbook/arrays.py
implements it). Functions take numpy arrays, including read-only, memory-mapped,
non-contiguous, Fortran-ordered and byte-swapped ones and `np.matrix`, as well as MXNet's
`mx.nd.NDArray` and `mx.np.ndarray`, and return the kind they were given (a plain numpy
ndarray for any numpy input; an MXNet result on the input's context). When two arrays
go in, as in `corr2d(X, K)`, the result is of X's kind. They refuse, with a TypeError
or ValueError that names the parameter, its value and the rule: masked arrays (the mask
would be silently ignored: pass `X.filled(value)`), lists and scalars (say
`np.asarray`), bools and complex numbers, empty axes, sparse NDArrays (say
`X.tostype('default')`), and sizes no array could hold (window, stride or padding above
2**60, outputs above 2**59 cells); an output merely too large for this machine's memory
raises numpy's MemoryError at once. No function changes its input, and none runs long
because a window is huge and the input small.
Gradients: poolbook computes in numpy and numba, outside MXNet's autograd graph, so
inside `autograd.record()` every function refuses (TypeError) an MXNet array that is
part of the recorded graph (given `attach_grad()`, or computed from one) rather than
return a result whose gradient would silently be 0; `X.detach()` passes the values
alone. Pooling's gradient is MXNet's (`nd.Pooling`, Gluon's layers) or, computed by the
package, `pool2d_backward`. PyTorch tensors are not taken (pass `t.numpy()`).
Dtypes: maximum pooling returns the input's dtype, exactly. Sums are taken in float32
for float16 and float32 (as MXNet does: a float16 average of 60000s is 60000, not inf;
and a float32 average whose sum passes float32's maximum, about 3.4e38, is inf, as
MXNet's is: pass float64 for such values), and in float64 for float64 and integers
(exact up to 2**53: int8 products never wrap);
an average comes back in the input's float dtype, or float64 for integers, and `corr2d`
follows the same rule with the wider dtype of X and K, as does `pool2d_backward`'s
dL/dX for X and dY (added up in at least float32). NaN propagates; inf - inf in an
average gives NaN. Ties: a maximum is the window's first maximum in row-major order (as
in MXNet and PyTorch), which shows only in the sign of a zero maximum when a window
holds both +0.0 and -0.0; a sum adds the cells as they are (-0.0s alone give -0.0).
Relative changes and norms (`shift.relative_change`) scale their values first, so that
values near 1e200 or 1e-200 neither overflow nor underflow. The teaching loops of
`poolbook.loops` take float32 or float64 (in either byte order) only and compute in it
(chapter 1's loops also refuse `mx.np` arrays); functions that build the padding or a
window's weights refuse maps that are mostly padding and above 2**22 cells, and ReLU
networks for windows above 1024 cells, pointing to `pool2d`, which builds neither.
`variants.max_pool_by_relu` computes in float64 and refuses infinities, NaN, magnitudes
above 2**1000 and integers above 2**53; its error is at most a few float64 roundings of
the largest magnitude in the window. Memory: `pool2d` holds the output plus
a few MiB: it reads, converts and copies the input a chunk of maps at a time (NDArrays,
Fortran order, byte swaps, integers), and lends its numpy result to MXNet without a copy;
so do `global_pool2d`, `adaptive_pool2d` and the blur functions (`adaptive.chunks`;
`max_blur_pool2d` also holds its stride-1 maximum). bench/pooling_memory.py measures them
against the budget of one padded copy of the input plus the output; `pool2d_backward`
holds its input and output-sized arrays whole.
Steps: a function that is a step of another (the row and column passes, the bins, the
backward pass's steps, the kernel's passes, the window arithmetic of
`poolbook.geometry`) takes what that function has checked and does not check again;
tests/test_input_rule.py lists each with the function that calls it, and holds every
other public function to the rule above.
A numba that cannot cache on disk (no writable place: set NUMBA_CACHE_DIR) leaves
`pool2d` on its numpy path, with one warning; a corrupt cache file is compiled again.
"""
from poolbook.arrays import as_ndarray, like_input, to_numpy
from poolbook.checks import as_pair, check_pool_args
from poolbook.conv import check_corr2d_args, corr2d
from poolbook.geometry import divisor, output_size
from poolbook.loops import check_pool2d_args, check_strided_args
from poolbook.pooling import CHUNK_BYTES, pool2d
from poolbook.variants import check_beta, check_shape

__all__ = ['pool2d', 'output_size', 'corr2d', 'check_pool2d_args', 'check_strided_args',
           'check_corr2d_args', 'as_pair', 'check_pool_args', 'check_beta', 'check_shape',
           'to_numpy', 'like_input', 'as_ndarray', 'divisor', 'CHUNK_BYTES']

# Global and adaptive pooling, the backward pass (chapter 6).
from poolbook.adaptive import adaptive_pool2d, global_pool2d  # noqa: E402
from poolbook.backward import pool2d_backward  # noqa: E402

__all__ += ['global_pool2d', 'adaptive_pool2d', 'pool2d_backward']

# Anti-aliased pooling and shift measurements (chapter 7).
from poolbook.antialias import blur_pool2d, max_blur_pool2d  # noqa: E402

__all__ += ['blur_pool2d', 'max_blur_pool2d']

# How many threads the compiled kernels use (chapter 5), as torch.set_num_threads.
from poolbook.threads import get_num_threads, set_num_threads  # noqa: E402

__all__ += ['get_num_threads', 'set_num_threads']

# The compiled loop and kernel, and what chapter 5's shown pool2d calls (chapter 5).
from poolbook import compiled  # noqa: E402
from poolbook.checks import check_output_cells  # noqa: E402
from poolbook.loops import check_loop_args  # noqa: E402

__all__ += ['compiled', 'check_loop_args', 'check_output_cells']

# Pooling over regions, unpooling (chapters 9 and 10).
from poolbook.regions import roi_align, roi_pool  # noqa: E402
from poolbook.unpool import max_unpool2d, pool2d_with_indices  # noqa: E402

__all__ += ['roi_pool', 'roi_align', 'pool2d_with_indices', 'max_unpool2d']
