"""One door to every framework the book compares pooling with: MXNet (its default kernel,
which is oneDNN's where oneDNN takes the case, and its native kernel), PyTorch, ONNX
Runtime and the ONNX reference implementation, each called like `poolbook.pool2d`:

    pool2d_in('pytorch', X, 2, 'max', strides=2, padding=1, ceil_mode=True)

returns a numpy array, or the framework's refusal as a value (`Refused`), so that a
refusal can be printed and compared like any result. `compare` runs one pooling in every
framework and returns a `Comparison`, a small table (framework -> result) that prints the
same on every machine: floats are rounded to `digits` significant digits, and results are
grouped into the frameworks that agree (A, B, ...). Beside the forward pass: output
shapes as each framework's shape inference reports them (`output_shapes`), gradients
through MXNet's and PyTorch's autograd (`pool2d_gradient`), adaptive pooling
(`adaptive_pool2d_in`), and the export of a Gluon network to ONNX (`export_gluon`,
`onnxruntime_run`). Chapter 8 ("When frameworks disagree") is built on this module.

How each framework is reached:

* MXNet: `mx.nd.Pooling`, in this process for the kernel this process runs: oneDNN's,
  unless `MXNET_MKLDNN_ENABLED=0` was set before MXNet started. MXNet reads that variable
  once per process, so the other kernel runs in a child Python (`MXNetWorker`), started
  on first use and kept for the session. Its stderr goes to a temporary file, never to
  ours. `mxnet_kernel_here()` says which kernel this process runs.
* PyTorch: `torch.nn.functional` (max_pool2d, avg_pool2d, lp_pool2d; `'sum'` is
  avg_pool2d with `divisor_override=1`, PyTorch's own way to ask for a sum).
* ONNX: a one-node model built with `onnx.helper` (MaxPool, AveragePool or LpPool, opset
  `OPSET` unless told), run by ONNX Runtime's CPU provider and by `onnx.reference`.
  ONNX Runtime's sessions (`ort_session`) run one thread, with every graph optimization
  up to ORT_ENABLE_EXTENDED: its layout optimizations (NCHWc), on by default, are left
  out, because whether they apply depends on this CPU's vector width, and they run other
  pooling kernels. `mlas_pool_kernel` names the kernel ONNX Runtime's MLAS library runs
  for a maximum or an average.
* poolbook: `poolbook.pool2d`.

Threads. Importing MXNet sets the OpenMP thread count of the importing thread to 1
unless OMP_NUM_THREADS is set (a thread count is per thread in OpenMP; MXNet's own
operators run on its engine's threads and set their own). PyTorch uses the same OpenMP
runtime: libmxnet.so and PyTorch's libtorch_cpu.so both require libgomp.so.1, and a
process loads one file for that name, from whichever library asks first (PyTorch's own
copy when torch is imported first, the system's when mxnet is). PyTorch takes its
intra-op thread count from it, so after `import mxnet` in either order
`torch.get_num_threads()` is 1 (`torch_threads_across_mxnet_import` shows it in a fresh
Python, with the file loaded). Nothing breaks: MXNet and PyTorch in one process compute
bit for bit what each computes alone. But PyTorch then
runs on one core. This module therefore sets `torch.set_num_threads(TORCH_THREADS)` when
it is imported, to the count PyTorch gives a new thread (`default_torch_threads`): MXNet's
import changed the importing thread's count only, and PyTorch sets each thread's count
when the thread first asks for it, to its own choice (from OMP_NUM_THREADS,
MKL_NUM_THREADS and the machine's cores) or to the count an earlier
`torch.set_num_threads` gave. `torch_threads_across_mxnet_import` shows the whole story in
a fresh Python. That changes speed, never a result. Measured on a 2-core machine that
other work shared: after each operator, PyTorch's idle OpenMP threads keep spinning for a
while (libgomp's default wait policy), and an MXNet operator that runs right then
competes with them. An MXNet
convolution took about 1.5 times as long right after a two-thread PyTorch operator as
after a one-thread one, and no longer with OMP_WAIT_POLICY=PASSIVE set before Python
started. To time MXNet beside PyTorch in one process, set that, or give PyTorch one
thread (`torch.set_num_threads(1)`).

Output: stderr stays empty. ONNX Runtime logs a model it refuses at ERROR level before
raising the same message as an exception, and a shape it infers differently from the
model's at WARNING level; the sessions this module opens log at FATAL only (each its own
logger: ONNX Runtime's process-wide logger is left as it is, so the sessions you open
still warn), the exception becomes a `Refused`, and `onnxruntime_run` returns both shapes
for the caller to compare. The
ONNX reference implementation's numpy warnings (the mean of an empty window) are
silenced; its result, NaN, says it. MXNet's "storage fallback" notices are switched off
(`MXNET_STORAGE_FALLBACK_LOG_VERBOSE=0`); MXNet's exporter logs through `logging`, which
`export_gluon` collects and returns.
"""
import atexit
import contextlib
import dataclasses
import functools
import inspect
import json
import logging
import os
import pickle
import re
import subprocess
import sys
import tempfile
import textwrap
import threading
import types
import warnings

import mxnet as mx
import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F
from mxnet import autograd
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from poolbook.adaptive import adaptive_pool2d
from poolbook.arrays import to_numpy
from poolbook.backward import pool2d_backward
from poolbook.checks import as_pair, check_input
from poolbook.pooling import output_size, pool2d

# MXNet reads this at its first "storage fallback" (an operator it runs on another
# kernel than planned), not at import: set before any MXNet operator runs here.
os.environ.setdefault('MXNET_STORAGE_FALLBACK_LOG_VERBOSE', '0')

FRAMEWORKS = ('mxnet', 'mxnet-native', 'pytorch', 'onnxruntime', 'onnx-reference',
              'poolbook')
LABELS = {'mxnet': 'MXNet', 'mxnet-native': 'MXNet native', 'pytorch': 'PyTorch',
          'onnxruntime': 'ONNX Runtime', 'onnx-reference': 'ONNX reference',
          'poolbook': 'poolbook'}
WIDTH = 78  # the widest line a table prints: a book page shows about 80 columns of output
SHORT = {'mxnet': 'MXNet', 'mxnet-native': 'MX-nat', 'pytorch': 'PyTorch',
         'onnxruntime': 'ORT', 'onnx-reference': 'ONNX-ref', 'poolbook': 'poolbook'}
# the column heads of an Atlas
MODES = ('max', 'avg', 'sum', 'lp')
AUTO_PADS = (None, 'NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER')
OPSET = 22  # the newest version of MaxPool, AveragePool and LpPool in onnx 1.23
ONNX_OPS = {'max': 'MaxPool', 'avg': 'AveragePool', 'lp': 'LpPool'}


def default_torch_threads():
    """The intra-op thread count PyTorch gives a new thread, which `import mxnet` never
    reached.

    Returns
    -------
    int
        `torch.get_num_threads()` on a thread started to ask it. PyTorch sets a thread's
        count when the thread first asks: to its own choice (from OMP_NUM_THREADS,
        MKL_NUM_THREADS and the machine's cores), or to the count an earlier
        `torch.set_num_threads` gave. Importing MXNet changes the importing thread's
        count only (module docstring).
    """
    answer = []
    thread = threading.Thread(target=lambda: answer.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    return answer[0]


TORCH_THREADS = default_torch_threads()
torch.set_num_threads(TORCH_THREADS)  # importing mxnet had set it to 1 (module docstring)


# ------------------------------------------------------------------ results as values

@dataclasses.dataclass(frozen=True)
class Refused:
    """A framework's refusal, as a value that prints and compares.

    Parameters
    ----------
    kind : str
        'error' when the framework raised (a check it makes, or a crash), 'unsupported'
        when it has no such option at all.
    message : str
        The framework's own message, on one line (paths and line numbers removed).
    """
    kind: str
    message: str

    def __str__(self):
        what = 'refused' if self.kind == 'error' else 'no such option'
        return f'{what}: {self.message}'


def one_line(message, limit=160):
    """A framework's error message on one line, without source paths, at most `limit` chars.

    Parameters
    ----------
    message : str
        The text of the exception.
    limit : int, optional
        The longest text kept; longer ones end in '...'.

    Returns
    -------
    str
    """
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(('Traceback', 'File "'))]
    text = lines[-1] if lines else str(message).strip()
    text = re.sub(r'^(MXNetError|RuntimeError|ValueError): ', '', text)
    if ' was false. ' in text:  # ONNX Runtime: "<condition> was false. <explanation>"
        text = text.split(' was false. ', 1)[1]
    text = re.sub(r'^\[ONNXRuntimeError\] : \d+ : \w+ : ', '', text)
    text = text.split('Status Message: ', 1)[-1]  # ONNX Runtime, when a node failed
    text = re.sub(r'\S+\.(?:h|cc|cpp|py):\d+ ', '', text)  # source locations
    text = text.rstrip(' :')
    return text if len(text) <= limit else text[:limit - 3] + '...'


def maps_of(X):
    """X as a float32 or float64 numpy array of shape (N, C, H, W), and X's own shape.

    Parameters
    ----------
    X : numpy.ndarray or mxnet.nd.NDArray
        Shaped (H, W), (C, H, W) or (N, C, H, W), of float32 or float64.

    Returns
    -------
    (numpy.ndarray, tuple)
    """
    check_input(X, ndims=(2, 3, 4))
    A = to_numpy(X)
    if A.dtype not in (np.float32, np.float64):
        raise TypeError(f"X must be float32 or float64, the dtypes every framework here "
                        f"pools, got {A.dtype}: convert it (X.astype('float32'))")
    A4 = A if A.ndim == 4 else A.reshape((1,) * (4 - A.ndim) + A.shape)
    return np.ascontiguousarray(A4), A.shape


def like_x(Y, shape):
    """Y (N, C, H', W') back in X's rank: the leading axes X did not have dropped."""
    if isinstance(Y, Refused):
        return Y
    return np.asarray(Y).reshape(tuple(shape[:-2]) + Y.shape[-2:])


@dataclasses.dataclass(frozen=True)
class Geometry:
    """The options of one pooling, checked once, as every framework below takes them."""
    window: tuple
    strides: tuple
    padding: tuple
    mode: str
    ceil_mode: bool
    count_include_pad: object  # True, False, or None: each framework's own default
    p_value: object
    auto_pad: object


def geometry(pool_size, mode='max', *, strides=1, padding=0, ceil_mode=False,
             count_include_pad=True, p_value=None, auto_pad=None):
    """Check the options of a pooling and return them as a `Geometry`.

    Parameters
    ----------
    pool_size, strides, padding : int or (int, int)
        The window (k_h, k_w), strides (s_h, s_w) and padding (p_h, p_w). Padding is
        passed on as it is: a framework that refuses padding >= window says so itself.
    mode : {'max', 'avg', 'sum', 'lp'}
    ceil_mode : bool
        Round the output length up (MXNet: pooling_convention='full').
    count_include_pad : bool or None
        Whether the average divides by the padding cells too; None leaves each framework
        its own default (ONNX's is False, the others' True).
    p_value : int or None
        The power of 'lp' pooling.
    auto_pad : {None, 'NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'}
        ONNX's automatic padding; with it, `padding` must be 0.

    Returns
    -------
    Geometry
    """
    window = as_pair(pool_size, 'pool_size', minimum=1)
    strides = as_pair(strides, 'strides', minimum=1)
    padding = as_pair(padding, 'padding', minimum=0)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"ceil_mode must be True or False, got {ceil_mode!r}")
    if count_include_pad is not None and not isinstance(count_include_pad,
                                                        (bool, np.bool_)):
        raise TypeError(f"count_include_pad must be True, False or None (each "
                        f"framework's default), got {count_include_pad!r}")
    if (mode == 'lp') != (p_value is not None):
        raise ValueError(f"p_value goes with mode='lp' and only with it, got "
                         f"mode={mode!r}, p_value={p_value!r}")
    if auto_pad not in AUTO_PADS:
        raise ValueError(f"auto_pad must be one of {AUTO_PADS}, got {auto_pad!r}")
    if auto_pad not in (None, 'NOTSET') and padding != (0, 0):
        raise ValueError(f"auto_pad={auto_pad!r} chooses the padding itself: padding "
                         f"must be 0, got {padding}")
    return Geometry(window, strides, padding, mode, bool(ceil_mode),
                    None if count_include_pad is None else bool(count_include_pad),
                    p_value, None if auto_pad == 'NOTSET' else auto_pad)


# ------------------------------------------------------------------ MXNet

def mxnet_kernel_here():
    """Which MXNet pooling kernel this process runs: 'default' (oneDNN) or 'native'.

    Returns
    -------
    str
        'native' when MXNET_MKLDNN_ENABLED=0 was set (MXNet reads it once per process).
    """
    return 'native' if os.environ.get('MXNET_MKLDNN_ENABLED') == '0' else 'default'


KERNEL_HERE = mxnet_kernel_here()  # read now, as MXNet did when it started


def mxnet_run(request):
    """Run one MXNet request, in this process or in a child: the one place MXNet is called.

    Parameters
    ----------
    request : tuple
        (op, kwargs, X, backward, dY): op names an operator of mx.nd ('Pooling' or
        'contrib.AdaptiveAvgPooling2D'), called on X with kwargs. With backward, the
        answer is dL/dX by autograd for the output gradient dY (ones when None)
        instead of the output.

    Returns
    -------
    (str, object)
        ('ok', numpy array) or ('refused', MXNet's message).
    """
    op, kwargs, X, backward, dY = request
    try:
        operator = mx.nd
        for name in op.split('.'):
            operator = getattr(operator, name)
        x = mx.nd.array(X, dtype=X.dtype)
        if not backward:
            return 'ok', operator(x, **kwargs).asnumpy()
        x.attach_grad()
        with autograd.record():
            y = operator(x, **kwargs)
        grad = np.ones(y.shape, X.dtype) if dY is None else dY
        y.backward(mx.nd.array(grad, dtype=X.dtype))
        return 'ok', x.grad.asnumpy()
    except mx.base.MXNetError as error:
        return 'refused', str(error)


# The child: answers pickled requests on a private copy of stdout; anything MXNet prints
# goes to stderr, which the parent sends to a temporary file.
CHILD = '''
import os, pickle, sys
answers = os.fdopen(os.dup(1), 'wb')
os.dup2(2, 1)
import mxnet as mx
import numpy as np
from mxnet import autograd
'''
SERVE = '''
while True:
    try:
        request = pickle.load(sys.stdin.buffer)
    except EOFError:
        break
    pickle.dump(mxnet_run(request), answers)
    answers.flush()
'''


class MXNetWorker:
    """A child Python running MXNet with one kernel, for the kernel this process lacks.

    Parameters
    ----------
    kernel : {'default', 'native'}
        'native' runs it with MXNET_MKLDNN_ENABLED=0, 'default' with oneDNN on.
    """

    def __init__(self, kernel):
        self.kernel = kernel
        self.script = CHILD + inspect.getsource(mxnet_run) + SERVE
        self.process = None
        self.log = None

    def start(self):
        """Start the child (returns at once; it imports MXNet while we go on)."""
        self.close()
        env = dict(os.environ, MXNET_MKLDNN_ENABLED='0' if self.kernel == 'native'
                   else '1', MXNET_STORAGE_FALLBACK_LOG_VERBOSE='0')
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the child)
        self.process = subprocess.Popen([sys.executable, '-c', self.script], env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.log)

    def __call__(self, request):
        """Send one request to the child and return its answer, as `mxnet_run` does."""
        if self.process is None or self.process.poll() is not None:
            self.start()
        try:
            pickle.dump(request, self.process.stdin)
            self.process.stdin.flush()
            return pickle.load(self.process.stdout)
        except (EOFError, BrokenPipeError, pickle.UnpicklingError) as error:
            code = self.stop()
            self.log.seek(0)
            tail = self.log.read().decode(errors='replace')[-2000:]
            self.close()
            raise RuntimeError(f"MXNet's {self.kernel} kernel, in a child Python, stopped "
                               f"(exit code {code}):\n{tail}") from error

    def stop(self):
        """Close the child's input (it then ends), wait for it, return its exit code."""
        process, self.process = self.process, None
        if process is None:
            return None
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
        try:
            code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        process.stdout.close()
        return code

    def close(self):
        """End the child, if one runs, and drop its log."""
        self.stop()
        if self.log is not None:
            self.log.close()
            self.log = None


WORKERS = {}


@atexit.register
def close_workers():
    """End every MXNet child this module started (also run at exit)."""
    for worker in WORKERS.values():
        worker.close()


def start_workers():
    """Start the child Python for the MXNet kernel this process does not run, if need be.

    It imports MXNet (about two seconds) while the caller goes on; the first request
    would start it anyway.
    """
    kernel = 'native' if KERNEL_HERE == 'default' else 'default'
    worker = WORKERS.setdefault(kernel, MXNetWorker(kernel))
    if worker.process is None:
        worker.start()


def mxnet_call(request, native=False):
    """`mxnet_run(request)` with MXNet's default kernel or its native one, wherever it runs.

    Parameters
    ----------
    request : tuple
        As `mxnet_run` takes it.
    native : bool
        Run it with the native kernel (MXNET_MKLDNN_ENABLED=0).

    Returns
    -------
    numpy.ndarray or Refused
    """
    kernel = 'native' if native else 'default'
    if kernel == KERNEL_HERE:
        status, value = mxnet_run(request)
    else:
        status, value = WORKERS.setdefault(kernel, MXNetWorker(kernel))(request)
    return value if status == 'ok' else Refused('error', one_line(value))


def mxnet_options(g):
    """The keyword arguments of mx.nd.Pooling for a Geometry, or a Refused."""
    if g.auto_pad == 'SAME_LOWER':
        return Refused('unsupported', "MXNet has no padding that puts the extra cell "
                                      "first (SAME_LOWER)")
    kwargs = {'kernel': g.window, 'stride': g.strides, 'pad': g.padding,
              'pool_type': g.mode,
              'pooling_convention': 'full' if g.ceil_mode else 'valid'}
    if g.auto_pad == 'SAME_UPPER':
        kwargs['pooling_convention'] = 'same'  # MXNet's own; it checks what it takes
    if g.count_include_pad is not None:
        kwargs['count_include_pad'] = g.count_include_pad
    if g.mode == 'lp':
        kwargs['p_value'] = g.p_value
    return kwargs


def mxnet_pool2d(X, pool_size, mode='max', *, strides=1, padding=0, ceil_mode=False,
                 count_include_pad=True, p_value=None, auto_pad=None, native=False):
    """Pool X with MXNet's `nd.Pooling`, as `poolbook.pool2d` would.

    Parameters
    ----------
    X : numpy.ndarray or mxnet.nd.NDArray
        (H, W), (C, H, W) or (N, C, H, W), float32 or float64.
    pool_size, mode, strides, padding, ceil_mode, count_include_pad, p_value, auto_pad
        As `geometry` takes them.
    native : bool
        Use MXNet's native kernel instead of its default (oneDNN's where it applies).

    Returns
    -------
    numpy.ndarray or Refused
        In X's rank.
    """
    g = geometry(pool_size, mode, strides=strides, padding=padding, ceil_mode=ceil_mode,
                 count_include_pad=count_include_pad, p_value=p_value, auto_pad=auto_pad)
    A, shape = maps_of(X)
    kwargs = mxnet_options(g)
    if isinstance(kwargs, Refused):
        return kwargs
    return like_x(mxnet_call(('Pooling', kwargs, A, False, None), native), shape)


# ------------------------------------------------------------------ PyTorch

def torch_call(function, *args, **kwargs):
    """function(*args, **kwargs) with PyTorch's errors as a Refused."""
    try:
        return function(*args, **kwargs)
    except (RuntimeError, ValueError) as error:
        return Refused('error', one_line(str(error).splitlines()[0]))


def torch_forward(x, g):
    """PyTorch's pooling of the tensor x (N, C, H, W), a tensor or a Refused."""
    if g.auto_pad in ('SAME_UPPER', 'SAME_LOWER'):
        return Refused('unsupported', "PyTorch's pooling has no SAME padding "
                                      "(padding='same' exists for convolutions only)")
    common = {'kernel_size': g.window, 'stride': g.strides, 'ceil_mode': g.ceil_mode}
    if g.mode == 'max':
        return torch_call(F.max_pool2d, x, padding=g.padding, **common)
    if g.mode == 'lp':
        if g.padding != (0, 0):
            return Refused('unsupported', 'F.lp_pool2d takes no padding')
        return torch_call(F.lp_pool2d, x, g.p_value, **common)
    cip = {} if g.count_include_pad is None else {'count_include_pad': g.count_include_pad}
    extra = {'divisor_override': 1} if g.mode == 'sum' else {}
    return torch_call(F.avg_pool2d, x, padding=g.padding, **common, **cip, **extra)


def torch_pool2d(X, pool_size, mode='max', *, strides=1, padding=0, ceil_mode=False,
                 count_include_pad=True, p_value=None, auto_pad=None):
    """Pool X with PyTorch (`torch.nn.functional`), as `poolbook.pool2d` would.

    'sum' is `F.avg_pool2d` with `divisor_override=1`; 'lp' is `F.lp_pool2d`, which
    takes no padding.

    Parameters
    ----------
    X : numpy.ndarray or mxnet.nd.NDArray
        (H, W), (C, H, W) or (N, C, H, W), float32 or float64.
    pool_size, mode, strides, padding, ceil_mode, count_include_pad, p_value, auto_pad
        As `geometry` takes them.

    Returns
    -------
    numpy.ndarray or Refused
        In X's rank.
    """
    g = geometry(pool_size, mode, strides=strides, padding=padding, ceil_mode=ceil_mode,
                 count_include_pad=count_include_pad, p_value=p_value, auto_pad=auto_pad)
    A, shape = maps_of(X)
    y = torch_forward(torch.from_numpy(A.copy()), g)
    return like_x(y if isinstance(y, Refused) else y.numpy(), shape)


# ------------------------------------------------------------------ ONNX

def onnx_model(shape, pool_size, mode='max', *, strides=1, padding=0, ceil_mode=False,
               count_include_pad=True, p_value=None, auto_pad=None, dtype='float32',
               opset=OPSET):
    """The one-node ONNX model that pools an input of `shape`, built with `onnx.helper`.

    Parameters
    ----------
    shape : tuple of int
        The input's shape, (N, C, H, W).
    pool_size, mode, strides, padding, ceil_mode, count_include_pad, p_value, auto_pad
        As `geometry` takes them; mode 'max', 'avg' or 'lp' (ONNX has no 'sum').
    dtype : str
        'float32' or 'float64'.
    opset : int
        The ONNX opset the model imports.

    Returns
    -------
    onnx.ModelProto or Refused
        The output's shape is left unset, for shape inference to fill in.
    """
    g = geometry(pool_size, mode, strides=strides, padding=padding, ceil_mode=ceil_mode,
                 count_include_pad=count_include_pad, p_value=p_value, auto_pad=auto_pad)
    return build_onnx(tuple(shape), g, np.dtype(dtype), opset)


def build_onnx(shape, g, dtype, opset):
    """The model `onnx_model` describes, from a checked Geometry."""
    if g.mode not in ONNX_OPS:
        return Refused('unsupported', 'ONNX has no sum pooling')
    attributes = {'kernel_shape': list(g.window), 'strides': list(g.strides)}
    if g.auto_pad is None:
        attributes['pads'] = [g.padding[0], g.padding[1], g.padding[0], g.padding[1]]
    else:
        attributes['auto_pad'] = g.auto_pad
    if g.ceil_mode:  # left out when 0, its default, so that any opset takes the model
        attributes['ceil_mode'] = 1
    if g.mode == 'avg' and g.count_include_pad is not None:
        attributes['count_include_pad'] = int(g.count_include_pad)
    if g.mode == 'lp':
        attributes['p'] = g.p_value
    element = helper.np_dtype_to_tensor_dtype(dtype)
    node = helper.make_node(ONNX_OPS[g.mode], ['X'], ['Y'], **attributes)
    graph = helper.make_graph([node], 'pool',
                              [helper.make_tensor_value_info('X', element, shape)],
                              [helper.make_tensor_value_info('Y', element, None)])
    opsets = [helper.make_opsetid('', opset)]
    return helper.make_model(graph, opset_imports=opsets,
                             ir_version=helper.find_min_ir_version_for(opsets))


def ort_session(model):
    """An ONNX Runtime CPU session for `model`: one thread, logging at FATAL only.

    Layout optimizations (NCHWc), whose choice depends on this CPU's vector width, are
    left out; every other graph optimization runs, as by default.

    Parameters
    ----------
    model : onnx.ModelProto

    Returns
    -------
    onnxruntime.InferenceSession
    """
    options = ort.SessionOptions()
    options.log_severity_level = 4  # refusals come back as exceptions (module docstring)
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=['CPUExecutionProvider'])


def onnxruntime_run(model, X):
    """Run an ONNX model on X with ONNX Runtime; also the output shape it declared.

    Parameters
    ----------
    model : onnx.ModelProto
        A model with one input and one output (such as `onnx_model` or `export_gluon`
        builds).
    X : numpy.ndarray
        The input, in the shape and dtype the model declares.

    Returns
    -------
    (numpy.ndarray or Refused, tuple or Refused)
        The output, and the output shape ONNX Runtime's session declares before running
        (its shape inference merged with the model's; None for a length it left open).
    """
    if isinstance(model, Refused):
        return model, model
    try:
        session = ort_session(model)
    except Exception as error:  # noqa: BLE001 (ONNX Runtime's classes share no other base)
        refused = Refused('error', one_line(error))
        return refused, refused
    declared = tuple(d if isinstance(d, int) else None
                     for d in session.get_outputs()[0].shape)
    try:
        output = session.run(None, {session.get_inputs()[0].name: X})[0]
    except Exception as error:  # noqa: BLE001 (as above)
        return Refused('error', one_line(error)), declared
    return output, declared


def onnxruntime_pool2d(X, pool_size, mode='max', *, strides=1, padding=0, ceil_mode=False,
                       count_include_pad=True, p_value=None, auto_pad=None, opset=OPSET):
    """Pool X with ONNX Runtime (CPU), through the model `onnx_model` builds.

    Parameters
    ----------
    X : numpy.ndarray or mxnet.nd.NDArray
        (H, W), (C, H, W) or (N, C, H, W), float32 or float64.
    pool_size, mode, strides, padding, ceil_mode, count_include_pad, p_value, auto_pad
        As `geometry` takes them.
    opset : int
        The ONNX opset of the model.

    Returns
    -------
    numpy.ndarray or Refused
        In X's rank.
    """
    g = geometry(pool_size, mode, strides=strides, padding=padding, ceil_mode=ceil_mode,
                 count_include_pad=count_include_pad, p_value=p_value, auto_pad=auto_pad)
    A, shape = maps_of(X)
    output, _ = onnxruntime_run(build_onnx(A.shape, g, A.dtype, opset), A)
    return like_x(output, shape)


# MlasPool (onnxruntime/core/mlas/lib/pooling.cpp) reduces a padded row in a buffer of
# 2048 floats, 3 of them kept free for reading a whole vector of 4 at the row's end.
MLAS_ROW_BUFFER = 2048 - 3


def mlas_pool_kernel(shape, pool_size, *, strides=1, padding=0):
    """Which of its three kernels ONNX Runtime's MLAS library runs for a MaxPool or an
    AveragePool of float32 maps, by the rule of `MlasPool` (onnxruntime/core/mlas/lib/
    pooling.cpp; ONNX Runtime's CPU MaxPool hands it every float32 pooling without
    dilation or an indices output).

    The global and vector kernels take maxima four floats at a time with
    MlasMaximumFloat32x4 (onnxruntime/core/mlas/lib/mlasi.h): on x86-64 `maxps`, which
    returns its second operand when either one is NaN, on ARM `vmaxq_f32`, which returns
    NaN. Where a NaN passes through them therefore depends on the processor; chapter 8's
    tables, and the tests, are x86-64's.

    Parameters
    ----------
    shape : tuple of int
        The input's shape, (H, W), (C, H, W) or (N, C, H, W).
    pool_size, strides, padding : int or (int, int)
        The window, strides and padding (on both sides of each axis).

    Returns
    -------
    str
        'global' when the window is the whole map, at stride 1 and without padding;
        otherwise 'vector' when the stride along the width is 1 or 2, the window at most
        32 cells along each axis, and a padded row (W + 2 p_w cells) fits MLAS_ROW_BUFFER;
        otherwise 'generic', a plain loop over each window.
    """
    if not (isinstance(shape, tuple) and 2 <= len(shape) <= 4
            and all(isinstance(n, int) and n >= 1 for n in shape)):
        raise ValueError(f"shape must be a tuple of 2 to 4 positive ints, (N, C, H, W) or "
                         f"its last axes, got {shape!r}")
    window = as_pair(pool_size, 'pool_size', minimum=1)
    strides = as_pair(strides, 'strides', minimum=1)
    padding = as_pair(padding, 'padding', minimum=0)
    if window == tuple(shape[-2:]) and strides == (1, 1) and padding == (0, 0):
        return 'global'
    row = shape[-1] + 2 * padding[1]
    if strides[1] <= 2 and max(window) <= 32 and row <= MLAS_ROW_BUFFER:
        return 'vector'
    return 'generic'


def onnx_reference_pool2d(X, pool_size, mode='max', *, strides=1, padding=0,
                          ceil_mode=False, count_include_pad=True, p_value=None,
                          auto_pad=None, opset=OPSET):
    """Pool X with the ONNX reference implementation (`onnx.reference`).

    Parameters
    ----------
    X : numpy.ndarray or mxnet.nd.NDArray
        (H, W), (C, H, W) or (N, C, H, W), float32 or float64.
    pool_size, mode, strides, padding, ceil_mode, count_include_pad, p_value, auto_pad
        As `geometry` takes them.
    opset : int
        The ONNX opset of the model.

    Returns
    -------
    numpy.ndarray or Refused
        In X's rank. The reference is numpy code: an error it raises (even one that is
        a crash rather than a check) comes back as a Refused.
    """
    g = geometry(pool_size, mode, strides=strides, padding=padding, ceil_mode=ceil_mode,
                 count_include_pad=count_include_pad, p_value=p_value, auto_pad=auto_pad)
    A, shape = maps_of(X)
    model = build_onnx(A.shape, g, A.dtype, opset)
    if isinstance(model, Refused):
        return model
    try:
        with warnings.catch_warnings(), np.errstate(all='ignore'):
            warnings.simplefilter('ignore', RuntimeWarning)  # e.g. the mean of nothing
            output = ReferenceEvaluator(model).run(None, {'X': A})[0]
    except Exception as error:  # noqa: BLE001 (the reference is numpy code: any error)
        return Refused('error', one_line(f'{type(error).__name__}: {error}'))
    return like_x(np.asarray(output), shape)


# ------------------------------------------------------------------ poolbook

def poolbook_pool2d(X, pool_size, mode='max', *, strides=1, padding=0, ceil_mode=False,
                    count_include_pad=True, p_value=None, auto_pad=None):
    """`poolbook.pool2d`, called as the frameworks above are (refusals as values).

    Parameters
    ----------
    X : numpy.ndarray or mxnet.nd.NDArray
        (H, W), (C, H, W) or (N, C, H, W), float32 or float64.
    pool_size, mode, strides, padding, ceil_mode, count_include_pad, p_value, auto_pad
        As `geometry` takes them; pool2d has no auto_pad, and None for
        count_include_pad means its default, True.

    Returns
    -------
    numpy.ndarray or Refused
        In X's rank.
    """
    g = geometry(pool_size, mode, strides=strides, padding=padding, ceil_mode=ceil_mode,
                 count_include_pad=count_include_pad, p_value=p_value, auto_pad=auto_pad)
    A, shape = maps_of(X)
    if g.auto_pad in ('SAME_UPPER', 'SAME_LOWER'):
        return Refused('unsupported', 'pool2d pads both sides alike (no SAME padding)')
    try:
        return like_x(pool2d(A, g.window, g.mode, strides=g.strides, padding=g.padding,
                             ceil_mode=g.ceil_mode,
                             count_include_pad=g.count_include_pad is not False,
                             p_value=g.p_value), shape)
    except ValueError as error:
        return Refused('error', one_line(error))


POOL2D = {'mxnet': mxnet_pool2d,
          'mxnet-native': functools.partial(mxnet_pool2d, native=True),
          'pytorch': torch_pool2d, 'onnxruntime': onnxruntime_pool2d,
          'onnx-reference': onnx_reference_pool2d, 'poolbook': poolbook_pool2d}


def pool2d_in(framework, X, pool_size, mode='max', **options):
    """Pool X in one framework, called as `poolbook.pool2d` is.

    Parameters
    ----------
    framework : str
        One of FRAMEWORKS: 'mxnet', 'mxnet-native', 'pytorch', 'onnxruntime',
        'onnx-reference', 'poolbook'.
    X : numpy.ndarray or mxnet.nd.NDArray
        (H, W), (C, H, W) or (N, C, H, W), float32 or float64.
    pool_size, mode
        The window and the mode, as `poolbook.pool2d` takes them.
    **options
        strides, padding, ceil_mode, count_include_pad, p_value, auto_pad (and opset
        for the two ONNX frameworks).

    Returns
    -------
    numpy.ndarray or Refused
        In X's rank.
    """
    if framework not in POOL2D:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")
    return POOL2D[framework](X, pool_size, mode, **options)


# ------------------------------------------------------------------ comparing

def agree(a, b, rtol=1e-5, atol=1e-6):
    """Whether two results are the same: equal shapes and values (NaN equal to NaN), equal
    texts, or both a refusal with an error.

    Parameters
    ----------
    a, b : numpy.ndarray, tuple, str or Refused
        Results (arrays), shapes (tuples), answers in words (such as `nan_passes` gives)
        or refusals. A framework that lacks an option ('unsupported') agrees with nobody.
    rtol, atol : float
        The tolerance for floats, which frameworks add in different orders.

    Returns
    -------
    bool
    """
    if isinstance(a, Refused) or isinstance(b, Refused):
        return (isinstance(a, Refused) and isinstance(b, Refused)
                and a.kind == b.kind == 'error')
    for kind in (tuple, str):  # a shape, or an answer in words: equal to its like only
        if isinstance(a, kind) or isinstance(b, kind):
            return isinstance(a, kind) and isinstance(b, kind) and a == b
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol, atol, equal_nan=True))


def number(value, digits):
    """One float as printed in a table: `digits` significant digits ('nan', 'inf' too)."""
    text = f'{float(value):.{digits}g}'
    return '0' if text == '-0' else text


def show(result, digits=4, width=60):
    """A result as text: an array's values, rounded; a shape; an answer in words; or the
    refusal.

    Parameters
    ----------
    result : numpy.ndarray, tuple, str or Refused
    digits : int
        Significant digits of each float.
    width : int
        The widest line.

    Returns
    -------
    str
        One line, or several for a 2-D map.
    """
    if isinstance(result, Refused):
        return '\n'.join(textwrap.wrap(str(result), width, subsequent_indent='  '))
    if isinstance(result, (tuple, str)):
        return str(result)
    A = np.asarray(result)
    if A.ndim > 2 and A.size == A.shape[-2] * A.shape[-1]:
        A = A.reshape(A.shape[-2:])  # one map: show it as a matrix
    return np.array2string(A, separator=', ', max_line_width=width + 1,
                           formatter={'all': lambda v: number(v, digits)})


class Comparison(dict):
    """One pooling's results in several frameworks: framework -> result, printed as a
    table with the groups of frameworks that agree.

    Parameters
    ----------
    results : dict
        Framework name -> numpy.ndarray, tuple (a shape) or Refused.
    title : str
        A line printed above the table.
    digits : int
        Significant digits of the printed floats.
    labels : dict, optional
        Names to print instead of LABELS' for some frameworks.
    """

    def __init__(self, results, title='', digits=4, labels=None):
        super().__init__(results)
        self.title = title
        self.digits = digits
        self.labels = {**LABELS, **(labels or {})}

    def groups(self):
        """The group letter of each framework: the same letter for results that agree,
        '-' for a framework that lacks the option.

        Returns
        -------
        dict
        """
        letters, first = {}, []
        for name, result in self.items():
            if isinstance(result, Refused) and result.kind == 'unsupported':
                letters[name] = '-'
                continue
            for letter, other in first:
                if agree(result, self[other]):
                    letters[name] = letter
                    break
            else:
                letter = 'ABCDEFGHIJ'[len(first)]
                first.append((letter, name))
                letters[name] = letter
        return letters

    def agree(self, *names):
        """Whether the named frameworks' results all agree with each other.

        Parameters
        ----------
        *names : str

        Returns
        -------
        bool
        """
        return all(agree(self[a], self[b]) for a in names for b in names)

    def __str__(self):
        letters = self.groups()
        lines = [self.title] if self.title else []
        for name, result in self.items():
            text = show(result, self.digits, width=WIDTH - 18).splitlines() or ['']
            label = self.labels.get(name, name)
            lines.append(f'{label:<15}{letters[name]}  {text[0]}')
            lines += [' ' * 18 + more for more in text[1:]]
        return '\n'.join(lines)

    def __repr__(self):
        return str(self)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def compare(X, pool_size, mode='max', *, frameworks=FRAMEWORKS, title='', digits=4,
            **options):
    """Run one pooling in every framework and return the table of their results.

    Parameters
    ----------
    X : numpy.ndarray or mxnet.nd.NDArray
        (H, W), (C, H, W) or (N, C, H, W), float32 or float64.
    pool_size, mode
        The window and the mode.
    frameworks : sequence of str
        Which of FRAMEWORKS to run, in the order of the table.
    title : str
        A line printed above the table.
    digits : int
        Significant digits of the printed floats.
    **options
        As `pool2d_in` takes them.

    Returns
    -------
    Comparison
    """
    return Comparison({name: pool2d_in(name, X, pool_size, mode, **options)
                       for name in frameworks}, title, digits)


def nan_passes(X, pool_size, *, strides=1, frameworks=FRAMEWORKS, title=''):
    """From which cells of the first window a NaN reaches that window's maximum, in every
    framework: X's first window gets a NaN in one cell at a time, and output (0, 0) is
    checked for NaN.

    Parameters
    ----------
    X : numpy.ndarray
        One map (H, W) of float32 or float64 numbers (no NaN), at least as large as the
        window.
    pool_size, strides : int or (int, int)
        The window and strides of the max pooling (no padding).
    frameworks : sequence of str
        Which of FRAMEWORKS to ask.
    title : str
        A line printed above the table.

    Returns
    -------
    Comparison
        Framework -> 'none', 'all', or the cells (row, column) of the window whose NaN
        reaches the output, such as '(1, 1)'; or the framework's Refused.
    """
    window = as_pair(pool_size, 'pool_size', minimum=1)
    A, shape = maps_of(X)
    if len(shape) != 2:
        raise ValueError(f"X must be one map (H, W), got shape {shape}")
    if np.isnan(A).any():
        raise ValueError("X must hold no NaN: each cell of its first window gets one in "
                         "turn")
    if window[0] > shape[0] or window[1] > shape[1]:
        raise ValueError(f"pool_size {window} must fit in X, of shape {shape}")
    cells = list(np.ndindex(*window))
    results = {}
    for name in frameworks:
        passes = []
        for cell in cells:
            B = A[0, 0].copy()
            B[cell] = np.nan
            Y = pool2d_in(name, B, window, 'max', strides=strides)
            if isinstance(Y, Refused):
                passes = Y
                break
            if np.isnan(Y[0, 0]):
                passes.append(cell)
        if isinstance(passes, Refused):
            results[name] = passes
        else:
            results[name] = ('none' if not passes else 'all' if len(passes) == len(cells)
                             else ' '.join(f'({r}, {c})' for r, c in passes))
    return Comparison(results, title)


class Atlas(list):
    """Rows of Comparisons, printed as one table of group letters (or of values).

    Parameters
    ----------
    rows : list of (str, Comparison)
        A name for each row and its comparison.
    values : bool
        Print each framework's value (for rows whose results are single numbers or
        short texts) instead of its group letter.
    width : int
        The width of the first column.
    """

    def __init__(self, rows, values=False, width=24):
        super().__init__(rows)
        self.values = values
        self.width = width

    def __str__(self):
        names = list(dict.fromkeys(name for _, row in self for name in row))
        head = ''.join(f'{SHORT.get(name, name):>9}' for name in names)
        lines = [f'{"":<{self.width}}{head}']
        for label, row in self:
            letters = row.groups()
            cells = []
            for name in names:
                if name not in row:
                    cells.append('')
                elif self.values and not isinstance(row[name], Refused):
                    cells.append(show(row[name], row.digits).strip('[]'))
                elif self.values:
                    cells.append('refused' if row[name].kind == 'error' else '-')
                else:
                    cells.append(letters[name])
            row_text = f'{label:<{self.width}}' + ''.join(f'{c:>9}' for c in cells)
            lines.append(row_text.rstrip())
        return '\n'.join(lines)

    def __repr__(self):
        return str(self)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


# ------------------------------------------------------------------ shapes

def torch_meta_shape(shape, g):
    """The output shape PyTorch computes for an input of `shape`, without data (meta)."""
    y = torch_forward(torch.empty(shape, device='meta'), g)
    return y if isinstance(y, Refused) else tuple(y.shape)


def mxnet_inferred_shape(shape, g):
    """The output shape MXNet's symbolic shape inference gives for an input of `shape`."""
    kwargs = mxnet_options(g)
    if isinstance(kwargs, Refused):
        return kwargs
    try:
        return tuple(mx.sym.Pooling(mx.sym.var('data'), **kwargs)
                     .infer_shape(data=shape)[1][0])
    except mx.base.MXNetError as error:
        return Refused('error', one_line(error))


def onnx_inferred_shape(model):
    """The output shape ONNX's shape inference gives for `model` (None: left open)."""
    if isinstance(model, Refused):
        return model
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except onnx.shape_inference.InferenceError as error:
        return Refused('error', one_line(error))
    dims = inferred.graph.output[0].type.tensor_type.shape.dim
    return tuple(d.dim_value if d.HasField('dim_value') else None for d in dims)


def output_shapes(shape, pool_size, mode='max', *, opset=OPSET, title='', **options):
    """The output shape of one pooling as each framework's shape inference reports it.

    Parameters
    ----------
    shape : tuple of int
        The input's shape, (N, C, H, W).
    pool_size, mode
        The window and the mode.
    opset : int
        The ONNX opset of the model ONNX and ONNX Runtime are asked about.
    title : str
        A line printed above the table.
    **options
        strides, padding, ceil_mode, count_include_pad, p_value, auto_pad.

    Returns
    -------
    Comparison
        'mxnet': MXNet's symbolic `infer_shape`; 'pytorch': PyTorch on the meta device
        (shapes without data); 'onnx-reference': `onnx.shape_inference`, the onnx
        package's own answer (printed as 'ONNX inference'); 'onnxruntime': the output
        shape an ONNX Runtime session declares; 'poolbook': `output_size` per axis.
    """
    g = geometry(pool_size, mode, **options)
    shape = tuple(shape)
    model = build_onnx(shape, g, np.dtype(np.float32), opset)
    results = {'mxnet': mxnet_inferred_shape(shape, g),
               'pytorch': torch_meta_shape(shape, g),
               'onnx-reference': onnx_inferred_shape(model),
               'onnxruntime': ort_declared_shape(model)}
    if g.auto_pad in ('SAME_UPPER', 'SAME_LOWER'):
        results['poolbook'] = Refused('unsupported', 'pool2d has no SAME padding')
    else:
        results['poolbook'] = shape[:2] + tuple(
            output_size(n, k, s, p, g.ceil_mode)
            for n, k, s, p in zip(shape[2:], g.window, g.strides, g.padding))
    return Comparison(results, title, labels={'onnx-reference': 'ONNX inference'})


def ort_declared_shape(model):
    """The output shape an ONNX Runtime session declares for `model`, or a Refused."""
    if isinstance(model, Refused):
        return model
    try:
        session = ort_session(model)
    except Exception as error:  # noqa: BLE001 (ONNX Runtime's classes share no other base)
        return Refused('error', one_line(error))
    return tuple(d if isinstance(d, int) else None for d in session.get_outputs()[0].shape)


# ------------------------------------------------------------------ gradients

def pool2d_gradient(framework, X, pool_size, mode='max', *, dY=None, strides=1, padding=0,
                    ceil_mode=False, count_include_pad=True):
    """dL/dX of one pooling in one framework, given dY = dL/dY (ones if None).

    Parameters
    ----------
    framework : {'mxnet', 'mxnet-native', 'pytorch', 'poolbook', 'onnxruntime',
                 'onnx-reference'}
        MXNet's autograd (either kernel), PyTorch's autograd, or
        `poolbook.pool2d_backward`. The standard ONNX operators include no pooling
        gradient, and the two ONNX frameworks here run models forward only: they answer
        with an 'unsupported' Refused.
    X : numpy.ndarray or mxnet.nd.NDArray
        (H, W), (C, H, W) or (N, C, H, W), float32 or float64.
    pool_size, mode
        The window and 'max' or 'avg'.
    dY : numpy.ndarray, optional
        The output gradient, in the framework's output shape (N, C, H', W') or X's
        rank; ones when None.
    strides, padding, ceil_mode, count_include_pad
        As `poolbook.pool2d` takes them.

    Returns
    -------
    numpy.ndarray or Refused
        dL/dX, in X's shape.
    """
    g = geometry(pool_size, mode, strides=strides, padding=padding, ceil_mode=ceil_mode,
                 count_include_pad=count_include_pad)
    if g.mode not in ('max', 'avg'):
        raise ValueError(f"mode must be 'max' or 'avg' for a gradient, got {mode!r}")
    A, shape = maps_of(X)
    G = None if dY is None else np.asarray(dY, A.dtype)
    if framework in ('mxnet', 'mxnet-native'):
        if G is not None:
            G = G.reshape((1,) * (4 - G.ndim) + G.shape)
        kwargs = mxnet_options(g)
        if isinstance(kwargs, Refused):
            return kwargs
        result = mxnet_call(('Pooling', kwargs, A, True, G),
                            native=framework == 'mxnet-native')
    elif framework == 'pytorch':
        x = torch.from_numpy(A.copy()).requires_grad_()
        y = torch_forward(x, g)
        if isinstance(y, Refused):
            return y
        if G is not None and G.size != y.numel():
            raise ValueError(f"dY must have the shape of PyTorch's output, "
                             f"{tuple(y.shape)}, got {G.shape}")
        grad = torch.ones_like(y) if G is None else torch.from_numpy(G.reshape(y.shape))
        y.backward(grad)
        result = x.grad.numpy()
    elif framework == 'poolbook':
        if G is None:
            G = np.ones(pool2d(A, g.window, g.mode, strides=g.strides, padding=g.padding,
                               ceil_mode=g.ceil_mode).shape, A.dtype)
        try:
            result = pool2d_backward(A, G.reshape((1,) * (4 - G.ndim) + G.shape),
                                     g.window, g.mode, strides=g.strides,
                                     padding=g.padding, ceil_mode=g.ceil_mode,
                                     count_include_pad=g.count_include_pad is not False)
        except ValueError as error:
            return Refused('error', one_line(error))
    elif framework in ('onnxruntime', 'onnx-reference'):
        return Refused('unsupported', 'no pooling gradient among ONNX operators')
    else:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")
    return result if isinstance(result, Refused) else np.asarray(result).reshape(shape)


def compare_gradients(X, pool_size, mode='max', *, frameworks=FRAMEWORKS, title='',
                      digits=4, **options):
    """dL/dX of one pooling (dY = ones unless given) in every framework, as a table.

    Parameters
    ----------
    X : numpy.ndarray or mxnet.nd.NDArray
        (H, W), (C, H, W) or (N, C, H, W), float32 or float64.
    pool_size, mode
        The window and 'max' or 'avg'.
    frameworks : sequence of str
        Which of FRAMEWORKS to ask.
    title : str
        A line printed above the table.
    digits : int
        Significant digits of the printed floats.
    **options
        dY, strides, padding, ceil_mode, count_include_pad.

    Returns
    -------
    Comparison
    """
    return Comparison({name: pool2d_gradient(name, X, pool_size, mode, **options)
                       for name in frameworks}, title, digits)


# ------------------------------------------------------------------ adaptive pooling

def adaptive_pool2d_in(framework, X, output_size, mode='avg'):
    """Adaptive pooling of X to `output_size` in one framework.

    Parameters
    ----------
    framework : str
        'mxnet' or 'mxnet-native' (`nd.contrib.AdaptiveAvgPooling2D`: average only),
        'pytorch' (`F.adaptive_avg_pool2d`, `F.adaptive_max_pool2d`), 'poolbook'
        (`poolbook.adaptive_pool2d`), 'onnxruntime' and 'onnx-reference' (ONNX has no
        adaptive operator: only GlobalAveragePool and GlobalMaxPool, for output size
        (1, 1), which are used then).
    X : numpy.ndarray or mxnet.nd.NDArray
        (H, W), (C, H, W) or (N, C, H, W), float32 or float64.
    output_size : int or (int, int)
    mode : {'avg', 'max'}

    Returns
    -------
    numpy.ndarray or Refused
        In X's rank.
    """
    out = as_pair(output_size, 'output_size', minimum=1)
    if mode not in ('avg', 'max'):
        raise ValueError(f"mode must be 'avg' or 'max', got {mode!r}")
    A, shape = maps_of(X)
    if framework in ('mxnet', 'mxnet-native'):
        if mode == 'max':
            return Refused('unsupported', 'MXNet has no adaptive maximum pooling')
        result = mxnet_call(('contrib.AdaptiveAvgPooling2D', {'output_size': out}, A,
                             False, None), native=framework == 'mxnet-native')
    elif framework == 'pytorch':
        pool = F.adaptive_avg_pool2d if mode == 'avg' else F.adaptive_max_pool2d
        result = torch_call(pool, torch.from_numpy(A.copy()), out)
        result = result if isinstance(result, Refused) else result.numpy()
    elif framework == 'poolbook':
        result = adaptive_pool2d(A, out, mode)
    elif framework in ('onnxruntime', 'onnx-reference'):
        if out != (1, 1):
            return Refused('unsupported', 'ONNX has no adaptive pooling (only global)')
        result = run_global_onnx(framework, A, mode)
    else:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")
    return like_x(result, shape)


def run_global_onnx(framework, A, mode):
    """GlobalAveragePool or GlobalMaxPool of A in ONNX Runtime or the reference."""
    element = helper.np_dtype_to_tensor_dtype(A.dtype)
    op = 'GlobalAveragePool' if mode == 'avg' else 'GlobalMaxPool'
    graph = helper.make_graph([helper.make_node(op, ['X'], ['Y'])], 'global',
                              [helper.make_tensor_value_info('X', element, A.shape)],
                              [helper.make_tensor_value_info('Y', element, None)])
    opsets = [helper.make_opsetid('', OPSET)]
    model = helper.make_model(graph, opset_imports=opsets,
                              ir_version=helper.find_min_ir_version_for(opsets))
    if framework == 'onnxruntime':
        return onnxruntime_run(model, A)[0]
    return ReferenceEvaluator(model).run(None, {'X': A})[0]


def compare_adaptive(X, output_size, mode='avg', *, frameworks=FRAMEWORKS, title='',
                     digits=4):
    """Adaptive pooling of X in every framework, as a table.

    Parameters
    ----------
    X : numpy.ndarray or mxnet.nd.NDArray
        (H, W), (C, H, W) or (N, C, H, W), float32 or float64.
    output_size : int or (int, int)
    mode : {'avg', 'max'}
    frameworks : sequence of str
    title : str
    digits : int

    Returns
    -------
    Comparison
    """
    return Comparison({name: adaptive_pool2d_in(name, X, output_size, mode)
                       for name in frameworks}, title, digits)


# ------------------------------------------------------------------ export to ONNX

def legacy_onnx_mapping_tables():
    """The two tables of `onnx.mapping` (removed in onnx 1.19) that MXNet's exporter uses.

    Returns
    -------
    (dict, dict)
        TENSOR_TYPE_TO_NP_TYPE (ONNX element type -> numpy dtype) and
        NP_TYPE_TO_TENSOR_TYPE (numpy dtype -> ONNX element type), both built from
        `onnx.helper.tensor_dtype_to_np_dtype` over every element type it knows.
    """
    to_numpy_dtype = {}
    for value in TensorProto.DataType.values():
        try:
            to_numpy_dtype[value] = helper.tensor_dtype_to_np_dtype(value)
        except (KeyError, ValueError, TypeError):  # UNDEFINED has no dtype
            continue
    to_tensor = {dtype: helper.np_dtype_to_tensor_dtype(dtype)
                 for dtype in set(to_numpy_dtype.values())}
    return to_numpy_dtype, to_tensor


@contextlib.contextmanager
def legacy_onnx_mapping():
    """Provide `onnx.mapping` while the block runs, for MXNet 1.9.1's ONNX exporter.

    The exporter does `from onnx import mapping` and reads `onnx.mapping.<table>`;
    onnx 1.19 removed that module. Inside the block, a module with the two tables it
    reads (`legacy_onnx_mapping_tables`) stands in; afterwards onnx is as it was. When
    onnx still has its own `mapping`, nothing is replaced.
    """
    if hasattr(onnx, 'mapping') or 'onnx.mapping' in sys.modules:
        yield
        return
    mapping = types.ModuleType('onnx.mapping', 'onnx.mapping as MXNet 1.9.1 reads it')
    mapping.TENSOR_TYPE_TO_NP_TYPE, mapping.NP_TYPE_TO_TENSOR_TYPE = \
        legacy_onnx_mapping_tables()
    sys.modules['onnx.mapping'] = mapping
    onnx.mapping = mapping
    try:
        yield
    finally:
        del sys.modules['onnx.mapping']
        del onnx.mapping


class Collect(logging.Handler):
    """A logging handler that keeps the messages it is given, as text."""

    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(f'{record.levelname}: {record.getMessage()}')


def export_gluon(net, input_shape, dtype='float32'):
    """Export a Gluon network to ONNX with MXNet's exporter (`mx.onnx.export_model`).

    Parameters
    ----------
    net : mxnet.gluon.HybridBlock
        An initialized network; it is hybridized and run once on zeros.
    input_shape : tuple of int
        The input's shape, (N, C, H, W).
    dtype : str
        The input's dtype.

    Returns
    -------
    (onnx.ModelProto, list of str)
        The model (opset: the newest onnx knows, as the exporter chooses) and what the
        exporter logged, which would otherwise reach stderr.
    """
    net.hybridize()
    net(mx.nd.zeros(input_shape, dtype=dtype))
    collect = Collect()
    root = logging.getLogger()
    root.addHandler(collect)
    try:
        with tempfile.TemporaryDirectory() as folder, legacy_onnx_mapping():
            prefix = os.path.join(folder, 'net')
            net.export(prefix)
            path = mx.onnx.export_model(f'{prefix}-symbol.json', f'{prefix}-0000.params',
                                        [tuple(input_shape)], np.dtype(dtype),
                                        os.path.join(folder, 'net.onnx'))
            model = onnx.load(path)
    finally:
        root.removeHandler(collect)
    return model, collect.messages


# ------------------------------------------------------------------ threads

THREADS_CHILD = '''
import json
import os
import threading
import torch
alone = torch.get_num_threads()
{set_threads}
before = torch.get_num_threads()
import mxnet
after = torch.get_num_threads()
answer = []
thread = threading.Thread(target=lambda: answer.append(torch.get_num_threads()))
thread.start()
thread.join()
import poolbook.frameworks
maps = '/proc/self/maps'  # the files this process has mapped (Linux)
openmp = []
if os.path.exists(maps):
    with open(maps) as lines:
        files = {{line.split()[-1] for line in lines if '/' in line}}
    openmp = sorted(f for f in files if os.path.basename(f).startswith('libgomp.so.1'))
print(json.dumps([alone, before, after, answer[0], torch.get_num_threads(), openmp]))
'''


def torch_threads_across_mxnet_import(threads=2, environ=None):
    """PyTorch's thread count around `import mxnet` and `import poolbook.frameworks`, in a
    fresh Python, and the GNU OpenMP runtime that Python loaded.

    Parameters
    ----------
    threads : int, 'more' or None
        The count PyTorch is given (`torch.set_num_threads`) before MXNet is imported:
        an int; 'more', one more than PyTorch's own choice in that Python, so that the
        count a new thread gets tells a count given from PyTorch's own choice on any
        machine; or None, none given, and PyTorch keeps its own choice.
    environ : dict, optional
        The child's environment; by default this one without OMP_NUM_THREADS and
        MKL_NUM_THREADS (with OMP_NUM_THREADS set, MXNet leaves the count alone).

    Returns
    -------
    dict
        'alone': PyTorch's own choice in that Python; 'before' and 'after': the count
        before and after `import mxnet`; 'new_thread': the count on a thread started
        after it; 'restored': the count after `import poolbook.frameworks`; 'openmp': the
        paths of the files loaded for the name libgomp.so.1, which libmxnet.so and
        PyTorch's libtorch_cpu.so both require (read from /proc/self/maps; an empty list
        where that file does not exist).
    """
    if threads is not None and threads != 'more' and (
            isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be None, 'more' or a positive int, got {threads!r}")
    if environ is None:
        environ = {k: v for k, v in os.environ.items()
                   if k not in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS')}
    set_threads = {None: '', 'more': 'torch.set_num_threads(alone + 1)'}.get(
        threads, f'torch.set_num_threads({threads})')
    done = subprocess.run([sys.executable, '-c',
                           THREADS_CHILD.format(set_threads=set_threads)],
                          env=environ, capture_output=True, text=True, check=True)
    names = ('alone', 'before', 'after', 'new_thread', 'restored', 'openmp')
    return dict(zip(names, json.loads(done.stdout.splitlines()[-1])))
