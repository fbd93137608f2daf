"""Chapter 7's digit classifier, trained by a small engine that gives the same bits on
every x86-64 CPU.

The network is the one `poolbook.training.make_net` defines in MXNet Gluon: a 3 x 3
convolution with ReLU, a layer that halves the resolution, a second 3 x 3 convolution
with ReLU, a second halving, and a head (a dense layer on every cell, or global average
pooling and a dense layer). This module computes exactly that network, in float32, its
gradient and Adam's update, because training it with MXNet gives results that differ from
CPU to CPU: MXNet's convolutions run on oneDNN or the BLAS, whose kernels (and so the
order of their sums) depend on the processor, and training is chaotic, so that a
difference in the last bit grows until a test prediction flips. Here every result is
the same on every CPU by construction:

* every sum runs in one fixed order written in the loops, compiled by numba; no BLAS, no
  `np.dot`, no numpy reduction. A loop that the compiler vectorizes runs across
  independent numbers (positions and examples of a batch, or the running sums of
  `_lane_dot`), which changes no number's order of operations;
* numba compiles without `fastmath`, so that LLVM neither reorders sums nor fuses a
  multiplication and an addition (which a CPU with FMA would round once, one without it
  twice); the few numpy steps are elementwise +, -, x, /, square roots and selections,
  which IEEE 754 rounds the same way in every SIMD unit;
* the exponential and the logarithm of the softmax loss are computed here from +, -, x,
  / and ldexp; the C library's `exp` and numpy's vectorized one may differ in the last
  bit from one CPU to the next;
* random numbers (initial weights, positions, order) come from numpy's seeded
  RandomState, which draws the same numbers everywhere.

tests/test_tinynet.py checks the scores and gradients against the Gluon network and
against PyTorch (both in float64, up to float32's rounding) on a batch for every variant,
one Adam step against Gluon's trainer, networks trained together against the same
networks trained alone, and short training runs, bit for bit, against the same runs in a
process that pretends to be another CPU (no AVX, numba compiling for a generic x86-64).

Layout: the parameters of one network are one flat float32 vector, `theta`, cut into
arrays in the order and shapes of the Gluon network's parameters (`param_shapes`).
`Networks` computes several networks of one kind together (one per seed, in
`train_seeds`): activations are (networks, channels, rows, columns, batch), the batch
innermost, and every kernel loops over the networks, computing each as if it were alone.
During training the first convolution runs on the 10 x 10 cells around each digit only
(`PATCH`): the rest of the canvas is empty, and there its output is the bias.

What chapter 10's class activation maps need: `train(kind, images, labels,
head='global')` for a trained network, and `gap_maps` for the maps its global average
pooling reads and its dense layer's weights.
"""
import functools
import math
import sys

import numpy as np

if 'poolbook' in sys.modules:  # imported as part of the package: numba.njit, whose disk
    # cache never stops the import (a read-only install, a corrupt file: poolbook.kernels),
    # compiling even with POOLBOOK_COMPILED=0 (the engine needs numba)
    from poolbook.kernels import njit as guarded_njit
    njit = functools.partial(guarded_njit, always=True)
else:  # loaded alone from its file (tests/test_tinynet.py's other-CPU child): numba's own
    from numba import njit


CANVAS = 16  # a digit (8 x 8) on a 16 x 16 canvas fits at 9 x 9 positions
DOWNSAMPLINGS = ('max', 'avg', 'max-blur', 'strided conv')
HEADS = ('dense', 'global')
CHANNELS = (5, 10)  # the two convolutions' output channels
CLASSES = 10
DTYPE = np.float32  # what the engine computes in
BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-8  # Adam's usual constants

# Cody and Waite's split of log(2): LN2_HI has 11 zero bits at its end, so k * LN2_HI is
# exact for |k| < 2**11, and the reduction x - k log(2) loses nothing.
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e+00
SQRT_HALF = 0.70710678118654752440


def check_array(A, name, ndim):
    """Refuse anything but a numpy array of real numbers with `ndim` axes, none empty.

    poolbook's input rule for numpy arrays: the engine imports nothing from MXNet (a test
    loads it alone), so it takes numpy arrays only (X.asnumpy() converts an MXNet array).

    Parameters
    ----------
    A : object
        What a function was given as an array.
    name : str
        The parameter's name, for the message.
    ndim : int
        The number of axes A must have.

    Returns
    -------
    numpy array
        A, as numpy takes it (np.matrix as a plain array).
    """
    if isinstance(A, np.ma.MaskedArray) or not isinstance(A, np.ndarray):
        raise TypeError(f"{name} must be a numpy array (the engine takes numpy arrays only: "
                        f"X.asnumpy() converts an MXNet array), got {type(A).__name__}")
    if A.dtype.kind not in 'iuf':
        raise TypeError(f"{name} must hold real numbers, got dtype {A.dtype.name}")
    if A.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} axes, got shape {A.shape}")
    if 0 in A.shape:
        raise ValueError(f"{name} must not have an empty axis, got shape {A.shape}")
    return np.asarray(A)


def _plain(A, dtype):
    """A as a C-contiguous, writable array of `dtype`, copied only where it is not one:
    numba compiles a function again for each layout and for read-only arrays."""
    return np.require(A, dtype, ('C', 'W'))


def kind_code(kind):
    """The index of `kind` in DOWNSAMPLINGS, or a ValueError naming the choices.

    Parameters
    ----------
    kind : str
        The downsampling layer, one of DOWNSAMPLINGS.

    Returns
    -------
    int
    """
    if kind not in DOWNSAMPLINGS:
        raise ValueError(f"kind must be one of {DOWNSAMPLINGS}, got {kind!r}")
    return DOWNSAMPLINGS.index(kind)


def check_head(head):
    """Refuse a head other than 'dense' or 'global'.

    Parameters
    ----------
    head : str
        The head to check.
    """
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}, got {head!r}")


def param_shapes(kind, head='dense', channels=CHANNELS):
    """The (name, shape) of each parameter, in the order of the Gluon network's.

    Parameters
    ----------
    kind : str
        The downsampling layer, one of DOWNSAMPLINGS.
    head : {'dense', 'global'}, default 'dense'
        A dense layer on every cell of the last maps, or on the mean of each map.
    channels : tuple of int, default CHANNELS
        The output channels of the two convolutions.

    Returns
    -------
    list of (str, tuple of int)
    """
    kind_code(kind)
    check_head(head)
    c1, c2 = channels
    shapes = [('conv1 weight', (c1, 1, 3, 3)), ('conv1 bias', (c1,))]
    if kind == 'strided conv':
        shapes += [('down1 weight', (c1, c1, 2, 2)), ('down1 bias', (c1,))]
    shapes += [('conv2 weight', (c2, c1, 3, 3)), ('conv2 bias', (c2,))]
    if kind == 'strided conv':
        shapes += [('down2 weight', (c2, c2, 2, 2)), ('down2 bias', (c2,))]
    features = c2 if head == 'global' else c2 * (CANVAS // 4) ** 2
    return shapes + [('dense weight', (CLASSES, features)), ('dense bias', (CLASSES,))]


def unpack(theta, kind, head='dense', channels=CHANNELS):
    """The parameters in theta as a dict name: array (views of theta, no copies).

    Parameters
    ----------
    theta : numpy array (P,)
        One network's parameters, laid out as param_shapes lists them.
    kind : str
        The downsampling layer, one of DOWNSAMPLINGS.
    head : {'dense', 'global'}, default 'dense'
        A dense layer on every cell of the last maps, or on the mean of each map.
    channels : tuple of int, default CHANNELS
        The output channels of the two convolutions.

    Returns
    -------
    dict of str: numpy array
    """
    theta = check_array(theta, 'theta', 1)
    shapes = param_shapes(kind, head, channels)
    ends = np.cumsum([int(np.prod(shape)) for _, shape in shapes])
    if ends[-1] != len(theta):
        raise ValueError(f"theta has {len(theta)} numbers, but a {kind!r} network with a "
                         f"{head!r} head and channels {tuple(channels)} has {ends[-1]}")
    return {name: theta[end - int(np.prod(shape)):end].reshape(shape)
            for (name, shape), end in zip(shapes, ends)}


def init_params(kind, head='dense', seed=0, channels=CHANNELS):
    """A fresh network's parameters, as one flat float32 vector.

    Drawn from numpy's seeded RandomState (the same numbers on every machine): weights
    uniform in +-sqrt(6 / fan_in), He's initialization for ReLU networks; biases zero.

    Parameters
    ----------
    kind : str
        The downsampling layer, one of DOWNSAMPLINGS.
    head : {'dense', 'global'}, default 'dense'
        A dense layer on every cell of the last maps, or on the mean of each map.
    seed : int, default 0
        The generator's seed.
    channels : tuple of int, default CHANNELS
        The output channels of the two convolutions.

    Returns
    -------
    numpy array (P,), float32
    """
    rng = np.random.RandomState(seed)
    parts = []
    for name, shape in param_shapes(kind, head, channels):
        if name.endswith('bias'):
            parts.append(np.zeros(shape))
            continue
        bound = math.sqrt(6.0 / int(np.prod(shape[1:])))  # fan_in: the inputs per output
        parts.append(rng.uniform(-bound, bound, shape))
    return np.concatenate([p.ravel() for p in parts]).astype(DTYPE)


# --- the exponential and the logarithm from +, -, x, / and ldexp -------------------------

# 1 / n! and 1 / (2n + 1), each correctly rounded (Python divides integers exactly).
INV_FACTORIAL = np.array([1 / math.factorial(n) for n in range(14)])
INV_ODD = np.array([1 / (2 * n + 1) for n in range(14)])


@njit(cache=True)
def exp(x):
    """e**x to about an ulp, the same bits on every CPU.

    x = k log(2) + r with |r| <= log(2) / 2, then e**r by its Taylor series to r**13 / 13!,
    times 2**k: only +, -, x, / and ldexp, which every CPU rounds alike.

    Parameters
    ----------
    x : float
        The exponent; NaN gives NaN, above 709.78 infinity, below -746 zero.

    Returns
    -------
    float
    """
    if x != x or x > 709.78:
        return x if x != x else math.inf
    if x < -746.0:
        return 0.0
    k = math.floor(x * INV_LN2 + 0.5)
    r = (x - k * LN2_HI) - k * LN2_LO
    p = INV_FACTORIAL[13]
    for n in range(12, -1, -1):  # Horner's rule
        p = p * r + INV_FACTORIAL[n]
    return math.ldexp(p, k)


@njit(cache=True)
def log(x):
    """The natural logarithm of x to about an ulp, the same bits on every CPU.

    x = m 2**e with m in [sqrt(1/2), sqrt(2)), then log(m) = 2 atanh((m - 1) / (m + 1)) by
    its series.

    Parameters
    ----------
    x : float
        The argument; 0 gives -infinity, a negative number or NaN gives NaN.

    Returns
    -------
    float
    """
    if not x > 0.0:
        return -math.inf if x == 0.0 else math.nan
    if x == math.inf:
        return x
    m, e = math.frexp(x)
    if m < SQRT_HALF:
        m, e = 2.0 * m, e - 1
    f = (m - 1.0) / (m + 1.0)
    f2 = f * f
    s = INV_ODD[13]
    for n in range(12, -1, -1):
        s = s * f2 + INV_ODD[n]
    return e * LN2_HI + (e * LN2_LO + 2.0 * f * s)


# --- compiled kernels -------------------------------------------------------------------
# Activations are (seeds, channels, rows, columns, batch): several networks (one per seed,
# each with its own parameters and its own batch) go through every kernel in one call,
# each computed on its own exactly as if it were alone. The batch is innermost, so one row
# of a map (its columns, each with the whole batch) is one run of memory. Few kernels,
# because numba compiles each one the first time it runs; the simple elementwise layers
# are numpy expressions, exact on any CPU (+, -, x, / and comparisons are rounded by IEEE
# 754 the same way by every SIMD unit).

@njit(cache=True)
def _column_range(e, pad, stride, w_out, width):
    """The output columns j whose window column e lies inside the input: j0 <= j < j1."""
    j0 = max(0, -((e - pad) // stride))  # the first j with j * stride + e - pad >= 0
    j1 = min(w_out, (width - 1 - e + pad) // stride + 1)
    return j0, max(j0, j1)


@njit(cache=True)
def _gather_windows(X, k, pad, stride, COLS):
    """cols[c, a, e, i, j] = x[c, i * stride + a - pad, j * stride + e - pad] (a batch
    row each) for each seed's x and cols, 0 where that cell lies in the zero padding
    ("im2col")."""
    COLS[:] = 0.0
    for s in range(X.shape[0]):
        x, cols = X[s], COLS[s]
        n_in, h, wd, batch = x.shape
        _, _, _, h_out, w_out, _ = cols.shape
        for c in range(n_in):
            for a in range(k):
                for e in range(k):
                    j0, j1 = _column_range(e, pad, stride, w_out, wd)
                    for i in range(h_out):
                        r = i * stride + a - pad
                        if r < 0 or r >= h:
                            continue
                        for j in range(j0, j1):
                            dst, src = cols[c, a, e, i, j], x[c, r, j * stride + e - pad]
                            for b in range(batch):
                                dst[b] = src[b]


@njit(cache=True)
def _scatter_windows(DCOLS, pad, stride, DX):
    """The reverse of _gather_windows: add each window cell's gradient back to the cell of
    x it came from, in the order (c, a, e, i, j)."""
    DX[:] = 0.0
    for s in range(DX.shape[0]):
        dcols, dx = DCOLS[s], DX[s]
        n_in, k, _, h_out, w_out, batch = dcols.shape
        _, h, wd, _ = dx.shape
        for c in range(n_in):
            for a in range(k):
                for e in range(k):
                    j0, j1 = _column_range(e, pad, stride, w_out, wd)
                    for i in range(h_out):
                        r = i * stride + a - pad
                        if r < 0 or r >= h:
                            continue
                        for j in range(j0, j1):
                            dst, src = dx[c, r, j * stride + e - pad], dcols[c, a, e, i, j]
                            for b in range(batch):
                                dst[b] += src[b]


@njit(cache=True)
def _weighted_sums(W, ROWS, OUT, relu=False):
    """out[o] += the sum over q, in order, of w[o, q] * rows[q] for each seed's w (O, Q),
    rows (Q, N) and out (O, N), up to six terms per pass over memory; each number of out
    still adds its terms one at a time and in order. With relu, negative results
    become 0."""
    for s in range(W.shape[0]):
        w, rows, out = W[s], ROWS[s], OUT[s]
        n_out, n_q = w.shape
        for o in range(n_out):
            y, q = out[o], 0
            while q + 6 <= n_q:
                w0, w1, w2, w3, w4, w5 = w[o, q:q + 6]
                r0, r1, r2, r3, r4, r5 = (rows[q], rows[q + 1], rows[q + 2], rows[q + 3],
                                          rows[q + 4], rows[q + 5])
                for n in range(y.size):
                    y[n] = (((((y[n] + w0 * r0[n]) + w1 * r1[n]) + w2 * r2[n])
                             + w3 * r3[n]) + w4 * r4[n]) + w5 * r5[n]
                q += 6
            while q < n_q:
                w0, r0 = w[o, q], rows[q]
                for n in range(y.size):
                    y[n] = y[n] + w0 * r0[n]
                q += 1
            if relu:
                for n in range(y.size):
                    if not y[n] > 0.0:
                        y[n] = 0.0


@njit(cache=True)
def _relu_gradient(a, da):
    """da where the ReLU's output a is positive, 0 elsewhere, in place."""
    flat_a, flat_da = a.reshape(-1), da.reshape(-1)
    for n in range(flat_da.size):  # a product, not a choice: fast without AVX too
        flat_da[n] = flat_da[n] * (flat_a[n] > 0.0)


LANES = 128  # _lane_dot's running sums


@njit(cache=True)
def _fold(lanes):
    """The sum of lanes in one fixed order: eight running sums, number n going to sum
    n % 8, then the eight sums pairwise."""
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    full = lanes.size // 8 * 8
    blocks = lanes[:full].reshape((full // 8, 8))
    for r in range(blocks.shape[0]):
        a = blocks[r]
        s0 += a[0]
        s1 += a[1]
        s2 += a[2]
        s3 += a[3]
        s4 += a[4]
        s5 += a[5]
        s6 += a[6]
        s7 += a[7]
    rest = lanes[full:]  # at most seven numbers, to the sums 0, 1, ... in turn
    if rest.size > 0:
        s0 += rest[0]
    if rest.size > 1:
        s1 += rest[1]
    if rest.size > 2:
        s2 += rest[2]
    if rest.size > 3:
        s3 += rest[3]
    if rest.size > 4:
        s4 += rest[4]
    if rest.size > 5:
        s5 += rest[5]
    if rest.size > 6:
        s6 += rest[6]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@njit(cache=True)
def _lane_dot(u, v, lanes):
    """The sum of u * v in one fixed order: lanes[k] (k < LANES) adds the products k,
    k + LANES, k + 2 LANES, ... in turn, then _fold adds up the lanes. The loop across the
    lanes runs on independent sums, so the compiler may vectorize it."""
    lanes[:] = 0.0
    rounds = u.size // LANES
    for r in range(rounds):
        a, b = u[r * LANES:(r + 1) * LANES], v[r * LANES:(r + 1) * LANES]
        for k in range(LANES):
            lanes[k] += a[k] * b[k]
    done = rounds * LANES
    for k in range(u.size - done):
        lanes[k] += u[done + k] * v[done + k]
    return _fold(lanes)


@njit(cache=True)
def _weight_gradients(DY, COLS, DW, DBIAS):
    """dw[o, q] = _lane_dot(dy[o], cols[q]) and dbias[o] = the same sum of dy[o] alone,
    for each seed: the gradient of the weights and biases of out = w cols + bias, from
    dy (O, N)."""
    lanes = np.empty(LANES, DY.dtype)
    ones = np.ones(DY.shape[2], DY.dtype)
    for s in range(DY.shape[0]):
        dy, cols, dw, dbias = DY[s], COLS[s], DW[s], DBIAS[s]
        for o in range(dy.shape[0]):
            dbias[o] = _lane_dot(dy[o], ones, lanes)
            for q in range(cols.shape[0]):
                dw[o, q] = _lane_dot(dy[o], cols[q], lanes)


# The 3 x 3 convolutions at stride 1, computed directly from the padded input: the three
# cells of a window row are one run of memory read at three offsets, and the loops across
# a run are across independent numbers, which the compiler vectorizes.

@njit(cache=True)
def _conv3x3(XP, W, BIAS, Y, relu):
    """y[o, i, j, b] = bias[o] plus w[o, c, a, e] * xp[c, i + a, j + e, b] added over
    (c, a, e) in that order, for each seed (xp is the input with its padding); then,
    with relu, negative results become 0."""
    for s in range(XP.shape[0]):
        xp, w, bias, y = XP[s], W[s], BIAS[s], Y[s]
        n_out, n_in = w.shape[0], w.shape[1]
        _, h_out, w_out, batch = y.shape
        run = w_out * batch
        for o in range(n_out):
            for i in range(h_out):
                acc = y[o, i].reshape(-1)
                start = bias[o]
                for n in range(run):
                    acc[n] = start
                for c in range(n_in):
                    for a in range(3):
                        row = xp[c, i + a].reshape(-1)
                        w0, w1, w2 = w[o, c, a, 0], w[o, c, a, 1], w[o, c, a, 2]
                        r1, r2 = row[batch:], row[2 * batch:]
                        for n in range(run):
                            acc[n] = ((acc[n] + w0 * row[n]) + w1 * r1[n]) + w2 * r2[n]
                if relu:
                    for n in range(run):
                        if not acc[n] > 0.0:
                            acc[n] = 0.0


@njit(cache=True)
def _conv3x3_weight_gradient(XP, DY, DW, DBIAS):
    """dw[o, c, a, e] = the sum over (i, j, b) of dy[o, i, j, b] * xp[c, i + a, j + e, b],
    and dbias[o] that of dy[o, i, j, b], for each seed: one running sum per (j, b) adds
    the rows i in turn, then _fold adds up the running sums."""
    for s in range(XP.shape[0]):
        xp, dy, dw, dbias = XP[s], DY[s], DW[s], DBIAS[s]
        n_out, h_out, w_out, batch = dy.shape
        n_in = xp.shape[0]
        run = w_out * batch
        lanes = np.empty((3, run), dy.dtype)
        for o in range(n_out):
            total = lanes[0]
            total[:] = 0.0
            for i in range(h_out):
                d = dy[o, i].reshape(-1)
                for n in range(run):
                    total[n] += d[n]
            dbias[o] = _fold(total)
            for c in range(n_in):
                for a in range(3):
                    lanes[:] = 0.0
                    for i in range(h_out):
                        d, row = dy[o, i].reshape(-1), xp[c, i + a].reshape(-1)
                        for e in range(3):
                            sums, cells = lanes[e], row[e * batch:]
                            for n in range(run):
                                sums[n] += d[n] * cells[n]
                    for e in range(3):
                        dw[o, c, a, e] = _fold(lanes[e])


@njit(cache=True)
def _batch_sums(DZ, H, DW, DBIAS):
    """dw[k, f] = the sum over the batch, example by example, of dz[k, b] * h[f, b], and
    dbias[k] that of dz[k, b], for each seed: the dense layer's gradient (dz: (K, B),
    h: (F, B)). The loop runs across the features, each dw[k, f] adding its own terms."""
    for s in range(DZ.shape[0]):
        dz, h, dw, dbias = DZ[s], H[s], DW[s], DBIAS[s]
        n_out, batch = dz.shape
        rows = np.empty((batch, h.shape[0]), h.dtype)  # one example's features per row
        for f in range(h.shape[0]):
            for b in range(batch):
                rows[b, f] = h[f, b]
        for k in range(n_out):
            dzk, dwk = dz[k], dw[k]
            total = 0.0
            for b in range(batch):
                total += dzk[b]
            dbias[k] = total
            dwk[:] = 0.0
            for b in range(batch):
                dzkb, row = dzk[b], rows[b]
                for f in range(row.size):
                    dwk[f] += dzkb * row[f]


# The first convolution during training. The canvas is empty around the digit, so a 3 x 3
# window off the digit holds zeros only, and its output is the bias alone (bias + w * 0 +
# ... adds nothing). The convolution need only run on the 10 x 10 cells around each digit,
# where its terms are the same, in the same order, as on the whole canvas.
PATCH = 10


@njit(cache=True)
def _move_patches(PATCHES, CANVAS_MAPS, CORNERS, to_canvas):
    """Copy each example's patch (C, 10, 10) onto the canvas (C, 16, 16), its cell (1, 1)
    on the digit's corner, dropping cells off the canvas (to_canvas); or the reverse,
    each patch from the canvas, with zeros for cells off it. For each seed."""
    if not to_canvas:
        PATCHES[:] = 0.0
    for s in range(PATCHES.shape[0]):
        patches, canvas, corners = PATCHES[s], CANVAS_MAPS[s], CORNERS[s]
        n, size, _, batch = canvas.shape
        for b in range(batch):
            r0, c0 = corners[b, 0] - 1, corners[b, 1] - 1
            for c in range(n):
                for i in range(max(0, -r0), min(PATCH, size - r0)):
                    for j in range(max(0, -c0), min(PATCH, size - c0)):
                        if to_canvas:
                            canvas[c, r0 + i, c0 + j, b] = patches[c, i, j, b]
                        else:
                            patches[c, i, j, b] = canvas[c, r0 + i, c0 + j, b]


@njit(cache=True)
def _max_forward(X, stride, Y, WHERE):
    """2 x 2 max pooling at `stride` of each seed's maps; `where` (0-3, row-major in the
    window) records the first cell that holds the maximum, as MXNet and PyTorch do."""
    for s in range(X.shape[0]):
        x, y, where = X[s], Y[s], WHERE[s]
        n, h_out, w_out, batch = y.shape
        for c in range(n):
            for i in range(h_out):
                for j in range(w_out):
                    r, q = i * stride, j * stride
                    x0, x1, x2, x3 = (x[c, r, q], x[c, r, q + 1], x[c, r + 1, q],
                                      x[c, r + 1, q + 1])
                    yo, wo = y[c, i, j], where[c, i, j]
                    for b in range(batch):
                        best, at = x0[b], 0.0
                        if x1[b] > best:
                            best, at = x1[b], 1.0
                        if x2[b] > best:
                            best, at = x2[b], 2.0
                        if x3[b] > best:
                            best, at = x3[b], 3.0
                        yo[b], wo[b] = best, at


@njit(cache=True)
def _max_backward(DY, WHERE, stride, DX):
    """Send each output's gradient to the cell _max_forward took it from (and 0 to the
    window's other cells), in the order (output row, window cell, output column). Each
    cell adds the gradient times 0 or 1, a product rather than a choice, which runs fast
    without AVX too; `where` holds 0.0 to 3.0 for the same reason."""
    DX[:] = 0.0
    for s in range(DY.shape[0]):
        dy, where, dx = DY[s], WHERE[s], DX[s]
        n, h_out, w_out, batch = dy.shape
        for c in range(n):
            for i in range(h_out):
                for cell in range(4):
                    row = dx[c, i * stride + cell // 2]
                    if stride == 1:  # a whole row at once: window column 1 is one cell on
                        out = row.reshape(-1)[(cell % 2) * batch:]
                        grads, cells = dy[c, i].reshape(-1), where[c, i].reshape(-1)
                        for m in range(grads.size):
                            out[m] += grads[m] * (cells[m] == cell)
                        continue
                    for j in range(w_out):
                        out, grads, cells = row[2 * j + cell % 2], dy[c, i, j], where[c, i, j]
                        for b in range(batch):
                            out[b] += grads[b] * (cells[b] == cell)


@njit(cache=True)
def _reflect(p, n):
    """The cell that reflection padding puts at position p of an axis of n cells."""
    if p < 0:
        return -p
    if p >= n:
        return 2 * (n - 1) - p
    return p


# The 3 x 3 binomial filter [1, 2, 1]' [1, 2, 1] / 16 (each weight exact in binary).
BLUR = (np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0]) / 16.0).astype(DTYPE)


@njit(cache=True)
def _blur_forward(X, Y):
    """poolbook.blur_pool2d (filter size 3, stride 2) of each map of x, for each seed:
    reflection padding of one cell, the nine taps added in row-major order."""
    Y[:] = 0.0
    for s in range(X.shape[0]):
        x, y = X[s], Y[s]
        n, h, wd, batch = x.shape
        _, h_out, w_out, _ = y.shape
        for c in range(n):
            for i in range(h_out):
                for j in range(w_out):
                    yo = y[c, i, j]
                    for a in range(3):
                        r = _reflect(2 * i + a - 1, h)
                        for e in range(3):
                            xc, weight = x[c, r, _reflect(2 * j + e - 1, wd)], BLUR[a, e]
                            for b in range(batch):
                                yo[b] += weight * xc[b]


@njit(cache=True)
def _blur_backward(DY, DX):
    """The gradient of _blur_forward: each output's gradient spread back over its taps."""
    DX[:] = 0.0
    for s in range(DX.shape[0]):
        dy, dx = DY[s], DX[s]
        n, h, wd, batch = dx.shape
        _, h_out, w_out, _ = dy.shape
        for c in range(n):
            for i in range(h_out):
                for j in range(w_out):
                    dyo = dy[c, i, j]
                    for a in range(3):
                        r = _reflect(2 * i + a - 1, h)
                        for e in range(3):
                            dxc, weight = dx[c, r, _reflect(2 * j + e - 1, wd)], BLUR[a, e]
                            for b in range(batch):
                                dxc[b] += weight * dyo[b]


@njit(cache=True)
def _softmax_loss(Z, LABELS, DZ, TOTALS):
    """For each seed, the sum over the batch of the cross-entropy loss of the softmax of
    z (classes, batch), into totals; dz: its gradient divided by the batch size (the
    gradient of the mean loss)."""
    for s in range(Z.shape[0]):
        z, labels, dz = Z[s], LABELS[s], DZ[s]
        n_out, batch = z.shape
        total = 0.0
        for b in range(batch):
            top = z[0, b]
            for k in range(1, n_out):
                top = max(top, z[k, b])
            sum_exp = 0.0
            for k in range(n_out):
                dz[k, b] = exp(z[k, b] - top)
                sum_exp += dz[k, b]
            total += log(sum_exp) - (z[labels[b], b] - top)
            for k in range(n_out):
                p = dz[k, b] / sum_exp  # the softmax
                dz[k, b] = ((p - 1.0) if k == labels[b] else p) / batch
        TOTALS[s] = total


@njit(cache=True)
def adam_step(theta, grad, mean, var, decay1, decay2, rate):
    """One step of Adam as MXNet's optimizer takes it, in place, on flat arrays.

    Parameters
    ----------
    theta, grad, mean, var : numpy array (P,), float32
        The parameters, their gradient, and Adam's two running averages, updated in place.
    decay1, decay2 : float
        BETA1 and BETA2 to the power of the step's number (1 for the first step).
    rate : float
        The learning rate.
    """
    b1, b2 = theta.dtype.type(BETA1), theta.dtype.type(BETA2)
    c1, c2 = theta.dtype.type(1 - BETA1), theta.dtype.type(1 - BETA2)
    eps = theta.dtype.type(EPSILON)
    step = theta.dtype.type(rate * math.sqrt(1 - decay2) / (1 - decay1))
    for n in range(theta.size):
        g = grad[n]
        mean[n] = b1 * mean[n] + c1 * g
        var[n] = b2 * var[n] + c2 * g * g
        theta[n] -= step * mean[n] / (np.sqrt(var[n]) + eps)


# --- the elementwise layers, in numpy (value-based casting keeps them in float32) -------

def _avg_pool(a):
    """2 x 2 average pooling at stride 2 of a (S, C, H, W, B), the four cells added in
    row-major order."""
    return (((a[:, :, 0::2, 0::2] + a[:, :, 0::2, 1::2]) + a[:, :, 1::2, 0::2])
            + a[:, :, 1::2, 1::2]) / 4


def _avg_pool_back(dy):
    """A quarter of each output's gradient to each cell of its window."""
    seeds, n, h, w, batch = dy.shape
    dx = np.empty((seeds, n, 2 * h, 2 * w, batch), DTYPE)
    for a in (0, 1):
        for e in (0, 1):
            dx[:, :, a::2, e::2] = dy / 4
    return dx


def _global_average(a):
    """The mean of each map of a (S, C, H, W, B): (S, C, B), the cells added row by
    row."""
    total = np.zeros((a.shape[0], a.shape[1], a.shape[4]), DTYPE)
    for i in range(a.shape[2]):
        for j in range(a.shape[3]):
            total += a[:, :, i, j]
    return total / (a.shape[2] * a.shape[3])


def _global_average_back(dh, shape):
    """The gradient of _global_average: each cell gets its map's share."""
    h, w = shape[2], shape[3]
    return np.ascontiguousarray(np.broadcast_to((dh / (h * w))[:, :, None, None, :], shape))


# --- the networks ------------------------------------------------------------------------

class Networks:
    """Networks of chapter 7 on the engine, one per row of `thetas` (S, P), all of one
    kind and head, computed together: each kernel call serves all of them, and each is
    computed exactly as it would be alone. `params` and `grads` hold each parameter and
    its gradient for all of them, (S, ...) arrays that are views of two flat float32
    vectors, `flat` and `grad`, parameter after parameter (which Adam updates)."""

    def __init__(self, kind, head, thetas, channels=CHANNELS):
        kind_code(kind)
        check_head(head)
        self.kind, self.head = kind, head
        thetas = np.asarray(thetas, dtype=DTYPE)
        seeds = len(thetas)
        shapes = param_shapes(kind, head, channels)
        ends = np.cumsum([int(np.prod(shape)) for _, shape in shapes])
        if thetas.ndim != 2 or thetas.shape[1] != ends[-1]:
            raise ValueError(f"theta has {thetas.shape[-1]} numbers, but a {kind!r} network "
                             f"with a {head!r} head and channels {tuple(channels)} has "
                             f"{ends[-1]}")
        self.flat = np.concatenate([thetas[:, end - int(np.prod(shape)):end].ravel()
                                    for (_, shape), end in zip(shapes, ends)])
        self.grad = np.zeros_like(self.flat)
        self.params, self.grads, start = {}, {}, 0
        for name, shape in shapes:
            stop = start + seeds * int(np.prod(shape))
            self.params[name] = self.flat[start:stop].reshape((seeds,) + shape)
            self.grads[name] = self.grad[start:stop].reshape((seeds,) + shape)
            start = stop
        self.saved = {}

    def thetas(self):
        """The parameters as rows (S, P), each laid out as init_params lays out one."""
        return np.concatenate([p.reshape(len(p), -1) for p in self.params.values()], axis=1)

    def conv(self, x, name, pad, relu=False):
        """The 3 x 3 convolution `name` at stride 1 of x (S, C, H, W, B), computed
        directly (_conv3x3), and a ReLU after it with relu."""
        weight, bias = self.params[f'{name} weight'], self.params[f'{name} bias']
        seeds, n_in, h, w, batch = x.shape
        xp = np.zeros((seeds, n_in, h + 2 * pad, w + 2 * pad, batch), DTYPE)
        xp[:, :, pad:pad + h, pad:pad + w] = x
        y = np.empty((seeds, weight.shape[1], h + 2 * pad - 2, w + 2 * pad - 2, batch), DTYPE)
        _conv3x3(xp, weight, bias, y, relu)
        self.saved[name] = xp
        return y

    def conv_back(self, dy, name):
        """The gradient of the convolution `name`: its weights' into grads, and its
        input's (for padding 1), returned."""
        weight = self.params[f'{name} weight']
        _conv3x3_weight_gradient(self.saved[name], dy, self.grads[f'{name} weight'],
                                self.grads[f'{name} bias'])
        # The input's gradient is a 3 x 3 convolution too (pad 1 keeps the size): of dy
        # padded by one, with each window turned round and the channels swapped.
        seeds, n_out, h, w, batch = dy.shape
        dyp = np.zeros((seeds, n_out, h + 2, w + 2, batch), DTYPE)
        dyp[:, :, 1:-1, 1:-1] = dy
        turned = np.ascontiguousarray(weight[:, :, :, ::-1, ::-1].transpose(0, 2, 1, 3, 4))
        dx = np.empty((seeds, weight.shape[2], h, w, batch), DTYPE)
        _conv3x3(dyp, turned, np.zeros((seeds, weight.shape[2]), DTYPE), dx, False)
        return dx

    def strided(self, x, name):
        """The learned 2 x 2 convolution `name` at stride 2, through its window cells."""
        weight, bias = self.params[f'{name} weight'], self.params[f'{name} bias']
        seeds, n_in, h, w, batch = x.shape
        n_out, size = weight.shape[1], (h - 2) // 2 + 1
        cols = np.empty((seeds, n_in, 2, 2, size, size, batch), DTYPE)
        _gather_windows(x, 2, 0, 2, cols)
        y = np.empty((seeds, n_out, size * size * batch), DTYPE)
        y[:] = bias[:, :, None]
        _weighted_sums(weight.reshape(seeds, n_out, -1), cols.reshape(seeds, n_in * 4, -1), y)
        self.saved[name] = (x.shape, cols)
        return y.reshape(seeds, n_out, size, size, batch)

    def strided_back(self, dy, name):
        """The gradient of the strided convolution `name`: its weights' into grads, and
        its input's, returned."""
        shape, cols = self.saved[name]
        weight = self.params[f'{name} weight']
        seeds, n_out = weight.shape[:2]
        dy = np.ascontiguousarray(dy).reshape(seeds, n_out, -1)
        flat = cols.reshape(seeds, -1, dy.shape[2])
        _weight_gradients(dy, flat, self.grads[f'{name} weight'].reshape(seeds, n_out, -1),
                         self.grads[f'{name} bias'])
        turned = np.ascontiguousarray(weight.reshape(seeds, n_out, -1).transpose(0, 2, 1))
        dcols = np.zeros(flat.shape, DTYPE)
        _weighted_sums(turned, dy, dcols)
        dx = np.empty(shape, DTYPE)
        _scatter_windows(dcols.reshape(cols.shape), 0, 2, dx)
        return dx

    def dense(self, h):
        """The dense layer on h (S, features, B): ten scores per example."""
        weight, bias = self.params['dense weight'], self.params['dense bias']
        z = np.empty((len(bias), bias.shape[1], h.shape[2]), DTYPE)
        z[:] = bias[:, :, None]
        _weighted_sums(weight, h, z)
        self.saved['dense'] = h
        return z

    def dense_back(self, dz):
        """The gradient of the dense layer: its weights' into grads; its input's."""
        h, weight = self.saved['dense'], self.params['dense weight']
        _batch_sums(dz, h, self.grads['dense weight'], self.grads['dense bias'])
        dh = np.zeros(h.shape, DTYPE)
        _weighted_sums(np.ascontiguousarray(weight.transpose(0, 2, 1)), dz, dh)
        return dh

    def down(self, a, name):
        """The downsampling layer `name` ('down1' or 'down2') on a (S, C, H, W, B)."""
        self.saved[name] = a.shape
        if self.kind == 'strided conv':
            return self.strided(a, name)
        if self.kind == 'avg':
            return _avg_pool(a)
        stride = 2 if self.kind == 'max' else 1
        size = (a.shape[2] - 2) // stride + 1
        y = np.empty(a.shape[:2] + (size, size, a.shape[4]), DTYPE)
        where = np.empty(y.shape, DTYPE)
        _max_forward(a, stride, y, where)
        self.saved[name + ' max'] = where
        if self.kind == 'max':
            return y
        blurred = np.empty(a.shape[:2] + (-(-size // 2), -(-size // 2), a.shape[4]), DTYPE)
        _blur_forward(y, blurred)
        return blurred

    def down_back(self, dy, name):
        """The gradient of the downsampling layer `name` with respect to its input."""
        if self.kind == 'strided conv':
            return self.strided_back(dy, name)
        if self.kind == 'avg':
            return _avg_pool_back(dy)
        where = self.saved[name + ' max']
        if self.kind == 'max-blur':
            dense = np.empty(where.shape, DTYPE)
            _blur_backward(np.ascontiguousarray(dy), dense)
            dy = dense
        da = np.empty(self.saved[name], DTYPE)
        _max_backward(np.ascontiguousarray(dy), where, 2 if self.kind == 'max' else 1, da)
        return da

    def conv1_patches(self, digits, corners):
        """The first convolution, with its ReLU, of the digits (S, 1, 8, 8, B) placed at
        their corners (S, B, 2) on the canvas, computed around each digit only (PATCH)."""
        patches = self.conv(digits, 'conv1', 2, relu=True)  # 8 + 2 * 2 - 3 + 1 = 10
        bias = self.params['conv1 bias']
        seeds, batch = digits.shape[0], digits.shape[4]
        canvas = np.empty((seeds, bias.shape[1], CANVAS, CANVAS, batch), DTYPE)
        canvas[:] = np.maximum(bias, 0)[:, :, None, None, None]  # off the digit: ReLU(bias)
        corners = _plain(corners, np.int64)
        _move_patches(patches, canvas, corners, True)
        self.saved['corners'] = corners
        return canvas

    def conv1_patches_back(self, dy):
        """The first convolution's weight and bias gradients from dy (S, C, 16, 16, B)."""
        seeds, n, _, _, batch = dy.shape
        patches = np.empty((seeds, n, PATCH, PATCH, batch), DTYPE)
        _move_patches(patches, dy, self.saved['corners'], False)
        sums = np.empty((seeds, n), DTYPE)  # their sums: the bias reaches every cell
        _conv3x3_weight_gradient(self.saved['conv1'], patches, self.grads['conv1 weight'], sums)
        _row_sums(dy.reshape(seeds, n, -1), self.grads['conv1 bias'])

    def forward(self, x, corners=None):
        """The ten scores (S, 10, B) of the canvases x (S, 1, H, W, B), or, with corners
        (S, B, 2), of the digits x (S, 1, 8, 8, B) placed at those corners."""
        if corners is None:
            a1 = self.conv(x, 'conv1', 1, relu=True)
        else:
            a1 = self.conv1_patches(x, corners)
        a2 = self.conv(self.down(a1, 'down1'), 'conv2', 1, relu=True)
        p2 = self.down(a2, 'down2')
        if self.head == 'global':
            h = _global_average(p2)
        else:  # flatten channel by channel, as Gluon's Dense does
            h = np.ascontiguousarray(p2).reshape(p2.shape[0], -1, p2.shape[4])
        self.saved.update(patches=corners is not None, a1=a1, a2=a2, maps=p2)
        return self.dense(h)

    def backward(self, dz):
        """Fill grad with the gradient of the loss whose gradient with respect to the
        scores of the last forward pass is dz (S, 10, B)."""
        saved = self.saved
        dh = self.dense_back(dz)
        if self.head == 'global':
            dp2 = _global_average_back(dh, saved['maps'].shape)
        else:
            dp2 = dh.reshape(saved['maps'].shape)
        da2 = self.down_back(dp2, 'down2')
        _relu_gradient(saved['a2'], da2)
        da1 = self.down_back(self.conv_back(da2, 'conv2'), 'down1')
        _relu_gradient(saved['a1'], da1)
        if saved['patches']:
            self.conv1_patches_back(da1)
        else:  # the image needs no gradient: the weights' and bias's alone
            _conv3x3_weight_gradient(self.saved['conv1'], da1, self.grads['conv1 weight'],
                                    self.grads['conv1 bias'])

    def loss_and_grad(self, x, labels, corners=None):
        """The summed loss of each network's batch (S,) (x and corners as forward takes
        them, labels (S, B)); grad gets the gradients of the mean losses."""
        z = self.forward(x, corners)
        dz = np.empty(z.shape, DTYPE)
        totals = np.empty(len(z))
        _softmax_loss(z, _plain(labels, np.int64), dz, totals)
        self.backward(dz)
        return totals


def _row_sums(a, out):
    """out[s, o] = the sum of a[s, o], in _lane_dot's order (_weight_gradients with no
    weights)."""
    seeds, n, size = a.shape
    _weight_gradients(a, np.empty((seeds, 0, size), DTYPE), np.empty((seeds, n, 0), DTYPE),
                     out)


# --- what the chapter calls --------------------------------------------------------------

def batch_last(X, head='dense'):
    """Canvases X as one network's batch for the engine, the batch innermost.

    Parameters
    ----------
    X : array (N, 1, S, S)
        The canvases: S is 16 for the dense head; the global head reads canvases of any size
        S that is a multiple of 4, from 8 up (chapter 6).
    head : {'dense', 'global'}, default 'dense'
        The head that will read them.

    Returns
    -------
    numpy array (1, 1, S, S, N), float32
    """
    X = np.asarray(X, dtype=DTYPE)
    size = X.shape[-1] if X.ndim == 4 else 0
    if X.ndim != 4 or X.shape[1:] != (1, size, size) or (
            size != CANVAS if head == 'dense' else size % 4 or size < 8):
        sizes = f'{CANVAS}' if head == 'dense' else 'S, S a multiple of 4 from 8 up'
        raise ValueError(f"X must have shape (N, 1, {sizes}) for the {head!r} head, got "
                         f"{X.shape}")
    return np.ascontiguousarray(X.transpose(1, 2, 3, 0))[None]


def digits_last(images):
    """Images as one network's batch of digits for the engine, the batch innermost.

    Parameters
    ----------
    images : array (N, 8, 8)
        The digits.

    Returns
    -------
    numpy array (1, 1, 8, 8, N), float32
    """
    return np.ascontiguousarray(np.asarray(images, dtype=DTYPE).transpose(1, 2, 0))[None, None]


def check_digits(images, corners):
    """Refuse digits that are not (N, 8, 8), or corners that are not N integer pairs.

    Each corner lies from 0 to 8, where an 8 x 8 digit fits on the 16 x 16 canvas.

    Parameters
    ----------
    images : array
        The digits.
    corners : array
        The top-left cell of each digit on the canvas.
    """
    images, corners = check_array(images, 'images', 3), np.asarray(corners)
    if images.ndim != 3 or images.shape[1:] != (8, 8):
        raise ValueError(f"images must have shape (N, 8, 8), got {images.shape}")
    if corners.shape != (len(images), 2) or corners.dtype.kind not in 'iu':
        raise ValueError(f"corners must be {len(images)} pairs of integers (one per "
                         f"image), got shape {corners.shape} and dtype {corners.dtype}")
    if corners.size and not (corners.min() >= 0 and corners.max() <= CANVAS - 8):
        raise ValueError(f"corners must lie from 0 to {CANVAS - 8}, so that each digit "
                         f"fits on the canvas")


def _forward_batches(net, X, corners=None, batch_size=64):
    """The scores (S, N, 10) of every network in net for the N images X (as logits takes
    them, with corners), batch_size images at a time; yields each batch's scores and the
    maps its head read."""
    seeds = len(net.params['dense bias'])
    if corners is not None:
        check_digits(X, corners)
        corners = np.asarray(corners, dtype=np.int64)
    for start in range(0, len(X), batch_size):
        part = slice(start, start + batch_size)
        if corners is None:
            x = batch_last(X[part], net.head)
            z = net.forward(np.ascontiguousarray(np.broadcast_to(x, (seeds,) + x.shape[1:])))
        else:
            x = digits_last(X[part])
            at = np.ascontiguousarray(np.broadcast_to(corners[part],
                                                      (seeds,) + corners[part].shape))
            z = net.forward(np.ascontiguousarray(np.broadcast_to(x, (seeds,) + x.shape[1:])), at)
        yield z.transpose(0, 2, 1), net.saved['maps']


def logits(theta, kind, X, head='dense', corners=None, channels=CHANNELS, batch_size=64):
    """The network's ten scores for each image.

    Parameters
    ----------
    theta : numpy array (P,)
        The network's parameters (as init_params lays them out).
    kind : str
        The downsampling layer, one of DOWNSAMPLINGS.
    X : array
        N canvases (N, 1, S, S), S = 16 (or any multiple of 4 for the global head); or,
        with corners, N digits (N, 8, 8).
    head : {'dense', 'global'}, default 'dense'
        A dense layer on every cell of the last maps, or on the mean of each map.
    corners : array (N, 2) of int, optional
        The top-left cell of each digit on the 16 x 16 canvas; the engine then computes its
        first convolution around each digit only, which is faster.
    channels : tuple of int, default CHANNELS
        The output channels of the two convolutions.
    batch_size : int, default 64
        How many images go through the engine at once.

    Returns
    -------
    numpy array (N, 10), float64
    """
    X = check_array(X, 'X', 4 if corners is None else 3)
    net = Networks(kind, head, check_array(theta, 'theta', 1)[None], channels)
    return np.concatenate([z[0] for z, _ in _forward_batches(net, X, corners, batch_size)]
                          ).astype(np.float64)


def predict(theta, kind, X, head='dense', corners=None, channels=CHANNELS):
    """The class the network predicts for each image: the index of its largest score.

    Parameters
    ----------
    theta : numpy array (P,)
        The network's parameters.
    kind : str
        The downsampling layer, one of DOWNSAMPLINGS.
    X : array
        The images, as logits takes them.
    head : {'dense', 'global'}, default 'dense'
        A dense layer on every cell of the last maps, or on the mean of each map.
    corners : array (N, 2) of int, optional
        As logits takes them.
    channels : tuple of int, default CHANNELS
        The output channels of the two convolutions.

    Returns
    -------
    numpy array (N,) of int
    """
    return logits(theta, kind, X, head, corners, channels).argmax(axis=1)


def loss_and_gradient(theta, kind, X, labels, head='dense', channels=CHANNELS):
    """The mean cross-entropy loss on a batch of canvases, and its gradient.

    Parameters
    ----------
    theta : numpy array (P,)
        The network's parameters.
    kind : str
        The downsampling layer, one of DOWNSAMPLINGS.
    X : array (N, 1, 16, 16)
        The canvases.
    labels : array (N,) of int
        Their classes, 0 to 9.
    head : {'dense', 'global'}, default 'dense'
        A dense layer on every cell of the last maps, or on the mean of each map.
    channels : tuple of int, default CHANNELS
        The output channels of the two convolutions.

    Returns
    -------
    loss : float
    gradient : dict of str: numpy array
        The gradient with respect to each parameter, named and shaped as unpack gives them.
    """
    X, labels = check_array(X, 'X', 4), check_array(labels, 'labels', 1)
    if labels.dtype.kind not in 'iu':
        raise TypeError(f"labels must hold integers (classes), got dtype {labels.dtype}")
    if labels.shape != X.shape[:1] or not (labels.min() >= 0 and labels.max() < CLASSES):
        raise ValueError(f"labels must be {len(X)} integers (one per canvas) from 0 to "
                         f"{CLASSES - 1}, got shape {labels.shape} and dtype {labels.dtype}")
    net = Networks(kind, head, check_array(theta, 'theta', 1)[None], channels)
    labels = np.asarray(labels, dtype=np.int64)[None]
    total = net.loss_and_grad(batch_last(X, head), labels)[0]
    return total / labels.shape[1], {name: g[0] for name, g in net.grads.items()}


def gap_maps(theta, kind, X, corners=None, channels=CHANNELS, batch_size=64):
    """What a class activation map is made of, for a network with the global head.

    The maps that its global average pooling reads, and its dense layer's weights and
    biases: the scores are weights @ (the mean of each map) + biases, so class k's
    activation map is the sum over c of weights[k, c] * maps[:, c].

    Parameters
    ----------
    theta : numpy array (P,)
        The parameters of a network with the global head.
    kind : str
        The downsampling layer, one of DOWNSAMPLINGS.
    X : array
        The images, as logits takes them (canvases of any size S that is a multiple of 4).
    corners : array (N, 2) of int, optional
        As logits takes them.
    channels : tuple of int, default CHANNELS
        The output channels of the two convolutions.
    batch_size : int, default 64
        How many images go through the engine at once.

    Returns
    -------
    maps : numpy array (N, C, S / 4, S / 4), float64
    weights : numpy array (10, C), float64
    biases : numpy array (10,), float64
    """
    X = check_array(X, 'X', 4 if corners is None else 3)
    net = Networks(kind, 'global', check_array(theta, 'theta', 1)[None], channels)
    maps = [m[0].transpose(3, 0, 1, 2) for _, m in _forward_batches(net, X, corners, batch_size)]
    return (np.concatenate(maps).astype(np.float64),
            net.params['dense weight'][0].astype(np.float64),
            net.params['dense bias'][0].astype(np.float64))


def check_training_args(images, labels, epochs, batch_size, learning_rate):
    """Refuse training data or settings the engine cannot use.

    Parameters
    ----------
    images : numpy array
        The digits, (N, 8, 8).
    labels : numpy array
        Their classes, (N,), from 0 to 9.
    epochs, batch_size : int
        Positive integers.
    learning_rate : float
        A positive number.
    """
    for value, name in ((epochs, 'epochs'), (batch_size, 'batch_size')):
        # (poolbook.checks.is_int's rule, written out: this module imports nothing from
        # poolbook, so that a test can load it alone, without MXNet, in a second process)
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
    if images.ndim != 3 or images.shape[1:] != (8, 8) or labels.shape != images.shape[:1]:
        raise ValueError(f"images must have shape (N, 8, 8) and labels (N,), got "
                         f"{images.shape} and {labels.shape}")
    if labels.size and not (labels.min() >= 0 and labels.max() < CLASSES):
        raise ValueError(f"labels must lie from 0 to {CLASSES - 1}")


def train_seeds(kind, images, labels, *, seeds, head='dense', epochs=10, batch_size=16,
                learning_rate=0.01, channels=CHANNELS, watch=None):
    """Train one fresh network per seed, all together: train's result for each seed.

    The networks go through the engine together (each kernel call serves all of them), each
    computed exactly as it would be alone, so that each result is the one train gives for
    its seed.

    Parameters
    ----------
    kind : str
        The downsampling layer, one of DOWNSAMPLINGS.
    images : array (N, 8, 8)
        The training digits.
    labels : array (N,) of int
        Their classes.
    seeds : iterable of int
        One network per seed (at least one).
    head : {'dense', 'global'}, default 'dense'
        A dense layer on every cell of the last maps, or on the mean of each map.
    epochs : int, default 10
        Passes over the digits.
    batch_size : int, default 16
        Digits per step of Adam.
    learning_rate : float, default 0.01
        Adam's rate for the first two thirds of the epochs; a tenth of it for the rest.
    channels : tuple of int, default CHANNELS
        The output channels of the two convolutions.
    watch : tuple (digits, corners, labels), optional
        Test digits (M, 8, 8), their corners (M, 2) and classes, whose accuracy is measured
        after every epoch.

    Returns
    -------
    list of tuple
        For each seed, in order, what train returns.
    """
    check_array(images, 'images', 3)
    if check_array(labels, 'labels', 1).dtype.kind not in 'iu':
        raise TypeError(f"labels must hold integers (classes), got dtype {labels.dtype}")
    images = np.ascontiguousarray(images, dtype=DTYPE)
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    check_training_args(images, labels, epochs, batch_size, learning_rate)
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    net = Networks(kind, head, [init_params(kind, head, seed, channels) for seed in seeds],
                   channels)
    corners, orders = [], []
    for seed in seeds:
        rng = np.random.RandomState([seed, 1])  # a stream of its own, apart from the weights'
        corners.append(rng.randint(0, CANVAS - 7, size=(epochs, len(images), 2)))
        orders.append([rng.permutation(len(images)) for _ in range(epochs)])
    corners, orders = np.array(corners), np.array(orders)  # (S, epochs, N, 2), (S, epochs, N)
    mean, var = np.zeros_like(net.flat), np.zeros_like(net.flat)
    losses = np.zeros((len(seeds), epochs))
    accuracies = np.zeros((len(seeds), epochs))
    decay1, decay2 = 1.0, 1.0
    for epoch in range(epochs):
        rate = learning_rate if 3 * epoch < 2 * epochs else learning_rate / 10
        for start in range(0, len(images), batch_size):
            chosen = orders[:, epoch, start:start + batch_size]  # (S, B)
            digits = np.ascontiguousarray(images[chosen].transpose(0, 2, 3, 1)[:, None])
            at = np.take_along_axis(corners[:, epoch], chosen[:, :, None], axis=1)
            losses[:, epoch] += net.loss_and_grad(digits, labels[chosen], at)
            decay1, decay2 = decay1 * BETA1, decay2 * BETA2  # BETA**step, no library pow
            adam_step(net.flat, net.grad, mean, var, decay1, decay2, rate)
        if watch is not None:
            scores = np.concatenate([z for z, _ in _forward_batches(net, watch[0], watch[1])],
                                    axis=1)
            accuracies[:, epoch] = np.mean(scores.argmax(axis=2) == watch[2], axis=1)
    losses /= len(images)
    thetas = net.thetas()
    if watch is None:
        return [(theta, loss) for theta, loss in zip(thetas, losses)]
    return list(zip(thetas, losses, accuracies))


def train(kind, images, labels, *, head='dense', epochs=10, batch_size=16,
          learning_rate=0.01, seed=0, channels=CHANNELS, watch=None):
    """Train a fresh network with Adam on the 8 x 8 `images`, placed anew every epoch.

    The network starts from init_params(kind, head, seed). Each epoch places every image at
    a new random position on the canvas and visits them in a new random order (both drawn
    from the seed). The learning rate is `learning_rate` for the first two thirds of the
    epochs and a tenth of it for the last third, where the network settles.

    Parameters
    ----------
    kind : str
        The downsampling layer, one of DOWNSAMPLINGS.
    images : array (N, 8, 8)
        The training digits.
    labels : array (N,) of int
        Their classes.
    head : {'dense', 'global'}, default 'dense'
        A dense layer on every cell of the last maps, or on the mean of each map.
    epochs : int, default 10
        Passes over the digits.
    batch_size : int, default 16
        Digits per step of Adam.
    learning_rate : float, default 0.01
        Adam's rate for the first two thirds of the epochs.
    seed : int, default 0
        Sets the initial weights, the positions and the order.
    channels : tuple of int, default CHANNELS
        The output channels of the two convolutions.
    watch : tuple (digits, corners, labels), optional
        Test digits (M, 8, 8), their corners (M, 2) and classes, whose accuracy is measured
        after every epoch.

    Returns
    -------
    theta : numpy array (P,), float32
        The trained parameters.
    losses : numpy array (epochs,)
        The mean loss of each epoch.
    accuracies : numpy array (epochs,)
        Only with watch: the fraction of the watched digits classified correctly after each
        epoch.
    """
    return train_seeds(kind, images, labels, seeds=[seed], head=head, epochs=epochs,
                       batch_size=batch_size, learning_rate=learning_rate,
                       channels=channels, watch=watch)[0]
