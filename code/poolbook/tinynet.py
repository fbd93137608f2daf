"""Chapter 7's digit classifier, trained by a small engine that gives the same bits on
every x86-64 CPU.

The network is the one `poolbook.training.make_net` defines in MXNet Gluon: a 3 x 3
convolution with ReLU, a layer that halves the resolution, a second 3 x 3 convolution
with ReLU, a second halving, and a head (a dense layer on every cell, or global average
pooling and a dense layer). This module computes exactly that network, its gradient and
Adam's update, because training it with MXNet gives results that differ from CPU to CPU:
MXNet's float64 convolutions and dense layers call the BLAS, whose kernels (and so the
order of their sums) depend on the processor, and training is chaotic, so that a
difference in the last bit grows until a test prediction flips. Here every result is
the same on every CPU by construction:

* every sum runs in one fixed order written in the loops, compiled by numba; no BLAS, no
  `np.dot`, no numpy reduction. A loop that the compiler vectorizes runs across
  independent numbers (positions and examples of a batch, or the running sums of
  `lane_dot`), which changes no number's order of operations;
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
against PyTorch on a batch for every variant, one Adam step against Gluon's trainer, and
short training runs, bit for bit, against the same runs in a process that pretends to be
another CPU (no AVX, numba compiling for a generic x86-64).

Layout: the parameters of one network are one flat float64 vector, `theta`, cut into
arrays in the order and shapes of the Gluon network's parameters (`param_shapes`).
Activations are (channels, rows, columns, batch), the batch innermost. During training
the first convolution runs on the 10 x 10 cells around each digit only (`PATCH`): the
rest of the canvas is empty, and there its output is the bias.
"""
import math

import numpy as np
from numba import njit


CANVAS = 16  # a digit (8 x 8) on a 16 x 16 canvas fits at 9 x 9 positions
DOWNSAMPLINGS = ('max', 'avg', 'max-blur', 'strided conv')
HEADS = ('dense', 'global')
CHANNELS = (5, 10)  # the two convolutions' output channels
CLASSES = 10
BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-8  # Adam's usual constants

# Cody and Waite's split of log(2): LN2_HI has 11 zero bits at its end, so k * LN2_HI is
# exact for |k| < 2**11, and the reduction x - k log(2) loses nothing.
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e+00
SQRT_HALF = 0.70710678118654752440


def kind_code(kind):
    """The index of `kind` in DOWNSAMPLINGS, or a ValueError naming the choices."""
    if kind not in DOWNSAMPLINGS:
        raise ValueError(f"kind must be one of {DOWNSAMPLINGS}, got {kind!r}")
    return DOWNSAMPLINGS.index(kind)


def check_head(head):
    """Refuse a head other than 'dense' or 'global'."""
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}, got {head!r}")


def param_shapes(kind, head='dense', channels=CHANNELS):
    """The (name, shape) of each parameter, in the order of the Gluon network's."""
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
    """The parameters in theta as a dict name: array (views of theta, no copies)."""
    shapes = param_shapes(kind, head, channels)
    ends = np.cumsum([int(np.prod(shape)) for _, shape in shapes])
    if ends[-1] != len(theta):
        raise ValueError(f"theta has {len(theta)} numbers, but a {kind!r} network with a "
                         f"{head!r} head and channels {tuple(channels)} has {ends[-1]}")
    return {name: theta[end - int(np.prod(shape)):end].reshape(shape)
            for (name, shape), end in zip(shapes, ends)}


def init_params(kind, head='dense', seed=0, channels=CHANNELS):
    """Initial parameters as one flat float64 vector, from numpy's seeded generator:
    weights uniform in +-sqrt(6 / fan_in) (He's initialization for ReLU networks),
    biases zero."""
    rng = np.random.RandomState(seed)
    parts = []
    for name, shape in param_shapes(kind, head, channels):
        if name.endswith('bias'):
            parts.append(np.zeros(shape))
            continue
        bound = math.sqrt(6.0 / int(np.prod(shape[1:])))  # fan_in: the inputs per output
        parts.append(rng.uniform(-bound, bound, shape))
    return np.concatenate([p.ravel() for p in parts])


# --- the exponential and the logarithm from +, -, x, / and ldexp -------------------------

# 1 / n! and 1 / (2n + 1), each correctly rounded (Python divides integers exactly).
INV_FACTORIAL = np.array([1 / math.factorial(n) for n in range(14)])
INV_ODD = np.array([1 / (2 * n + 1) for n in range(14)])


@njit(cache=True)
def exp(x):
    """e**x to about an ulp, the same bits on every CPU: x = k log(2) + r with
    |r| <= log(2) / 2, then e**r by its Taylor series to r**13 / 13!, times 2**k."""
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
    """The natural logarithm of x > 0 to about an ulp, the same bits on every CPU:
    x = m 2**e with m in [sqrt(1/2), sqrt(2)), then log(m) = 2 atanh((m - 1) / (m + 1))
    by its series."""
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


# --- compiled kernels: activations are (channels, rows, columns, batch) -----------------
# Few kernels, because numba compiles each one the first time it runs (a fraction of a
# second each); the simple elementwise layers are numpy expressions, exact on any CPU
# (+, -, x, / and comparisons are rounded by IEEE 754 the same way by every SIMD unit).

@njit(cache=True)
def column_range(e, pad, stride, w_out, width):
    """The output columns j whose window column e lies inside the input: j0 <= j < j1."""
    j0 = max(0, -((e - pad) // stride))  # the first j with j * stride + e - pad >= 0
    j1 = min(w_out, (width - 1 - e + pad) // stride + 1)
    return j0, max(j0, j1)


@njit(cache=True)
def gather_windows(x, k, pad, stride, cols):
    """cols[c, a, e, i, j] = x[c, i * stride + a - pad, j * stride + e - pad] (a batch
    row each), 0 where that cell lies in the zero padding ("im2col")."""
    n_in, h, wd, batch = x.shape
    _, _, _, h_out, w_out, _ = cols.shape
    cols[:] = 0.0
    for c in range(n_in):
        for a in range(k):
            for e in range(k):
                j0, j1 = column_range(e, pad, stride, w_out, wd)
                for i in range(h_out):
                    r = i * stride + a - pad
                    if r < 0 or r >= h:
                        continue
                    if stride == 1:  # one run of memory: columns j0..j1 - 1, all examples
                        dst = cols[c, a, e, i].reshape(-1)[j0 * batch:j1 * batch]
                        src = x[c, r].reshape(-1)[(j0 + e - pad) * batch:
                                                  (j1 + e - pad) * batch]
                        for n in range(dst.size):
                            dst[n] = src[n]
                        continue
                    for j in range(j0, j1):
                        dst, src = cols[c, a, e, i, j], x[c, r, j * stride + e - pad]
                        for b in range(batch):
                            dst[b] = src[b]


@njit(cache=True)
def scatter_windows(dcols, pad, stride, dx):
    """The reverse of gather_windows: add each window cell's gradient back to the cell of
    x it came from, in the order (c, a, e, i, j)."""
    n_in, k, _, h_out, w_out, batch = dcols.shape
    _, h, wd, _ = dx.shape
    dx[:] = 0.0
    for c in range(n_in):
        for a in range(k):
            for e in range(k):
                j0, j1 = column_range(e, pad, stride, w_out, wd)
                for i in range(h_out):
                    r = i * stride + a - pad
                    if r < 0 or r >= h:
                        continue
                    if stride == 1:
                        src = dcols[c, a, e, i].reshape(-1)[j0 * batch:j1 * batch]
                        dst = dx[c, r].reshape(-1)[(j0 + e - pad) * batch:
                                                   (j1 + e - pad) * batch]
                        for n in range(dst.size):
                            dst[n] += src[n]
                        continue
                    for j in range(j0, j1):
                        dst, src = dx[c, r, j * stride + e - pad], dcols[c, a, e, i, j]
                        for b in range(batch):
                            dst[b] += src[b]


@njit(cache=True)
def weighted_sums(w, rows, out, relu=False):
    """out[o] += the sum over q, in order, of w[o, q] * rows[q] (w: (O, Q), rows: (Q, N),
    out: (O, N)), up to six terms per pass over memory; each number of out still adds
    its terms one at a time and in order. With relu, negative results become 0."""
    n_out, n_q = w.shape
    for o in range(n_out):
        y, q = out[o], 0
        while q + 6 <= n_q:
            w0, w1, w2, w3, w4, w5 = w[o, q:q + 6]
            r0, r1, r2, r3, r4, r5 = rows[q], rows[q + 1], rows[q + 2], rows[q + 3], \
                rows[q + 4], rows[q + 5]
            for n in range(y.size):
                y[n] = (((((y[n] + w0 * r0[n]) + w1 * r1[n]) + w2 * r2[n]) + w3 * r3[n])
                        + w4 * r4[n]) + w5 * r5[n]
            q += 6
        while q < n_q:
            w0, r0 = w[o, q], rows[q]
            for n in range(y.size):
                y[n] = y[n] + w0 * r0[n]
            q += 1
        if relu:
            for n in range(y.size):
                y[n] = y[n] if y[n] > 0.0 else 0.0


@njit(cache=True)
def relu_gradient(a, da):
    """da where the ReLU's output a is positive, 0 elsewhere, in place."""
    flat_a, flat_da = a.reshape(-1), da.reshape(-1)
    for n in range(flat_da.size):  # a product, not a choice: fast without AVX too
        flat_da[n] = flat_da[n] * (flat_a[n] > 0.0)


LANES = 128  # lane_dot's running sums


@njit(cache=True)
def fold(lanes):
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
def lane_dot(u, v, lanes):
    """The sum of u * v in one fixed order: lanes[k] (k < LANES) adds the products k,
    k + LANES, k + 2 LANES, ... in turn, then fold adds up the lanes. The loop across the
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
    return fold(lanes)


@njit(cache=True)
def weight_gradients(dy, cols, dw, dbias):
    """dw[o, q] = lane_dot(dy[o], cols[q]) and dbias[o] = the same sum of dy[o] alone:
    the gradient of the weights and biases of out = w cols + bias, from dy (O, N)."""
    lanes, ones = np.empty(LANES), np.ones(dy.shape[1])
    for o in range(dy.shape[0]):
        dbias[o] = lane_dot(dy[o], ones, lanes)
        for q in range(cols.shape[0]):
            dw[o, q] = lane_dot(dy[o], cols[q], lanes)


# The 3 x 3 convolutions at stride 1, computed directly from the padded input. With the
# batch innermost, one row of a map (its columns, each with the whole batch) is one run of
# memory, and the three cells of a window row are that run read at three offsets: the
# loops across a run are across independent numbers, which the compiler vectorizes.

@njit(cache=True)
def conv3x3(xp, w, bias, y, relu):
    """y[o, i, j, b] = bias[o] plus w[o, c, a, e] * xp[c, i + a, j + e, b] added over
    (c, a, e) in that order (xp is the input with its padding); then, with relu, negative
    results become 0."""
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
                    acc[n] = acc[n] if acc[n] > 0.0 else 0.0


@njit(cache=True)
def conv3x3_weight_gradient(xp, dy, dw, dbias):
    """dw[o, c, a, e] = the sum over (i, j, b) of dy[o, i, j, b] * xp[c, i + a, j + e, b],
    and dbias[o] that of dy[o, i, j, b]: for each, one running sum per (j, b) adds the
    rows i in turn, then fold adds up the running sums."""
    n_out, h_out, w_out, batch = dy.shape
    n_in = xp.shape[0]
    run = w_out * batch
    lanes = np.empty((3, run))
    for o in range(n_out):
        total = lanes[0]
        total[:] = 0.0
        for i in range(h_out):
            d = dy[o, i].reshape(-1)
            for n in range(run):
                total[n] += d[n]
        dbias[o] = fold(total)
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
                    dw[o, c, a, e] = fold(lanes[e])


@njit(cache=True)
def batch_sums(dz, h, dw, dbias):
    """dw[k, f] = the sum over the batch, example by example, of dz[k, b] * h[f, b], and
    dbias[k] that of dz[k, b]: the dense layer's gradient (dz: (K, B), h: (F, B)). The
    loop runs across the features, each dw[k, f] adding its own terms."""
    n_out, batch = dz.shape
    rows = np.empty((batch, h.shape[0]))  # h transposed: one example's features per row
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
def move_patches(patches, canvas, corners, to_canvas):
    """Copy each example's patch (C, 10, 10) onto the canvas (C, 16, 16), its cell (1, 1)
    on the digit's corner, dropping cells off the canvas (to_canvas); or the reverse,
    each patch from the canvas, with zeros for cells off it."""
    n, size, _, batch = canvas.shape
    if not to_canvas:
        patches[:] = 0.0
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
def max_forward(x, stride, y, where):
    """2 x 2 max pooling at `stride`; `where` (0-3, row-major in the window) records the
    first cell that holds the maximum, as MXNet and PyTorch do."""
    n, h_out, w_out, batch = y.shape
    for c in range(n):
        for i in range(h_out):
            for j in range(w_out):
                r, q = i * stride, j * stride
                x0, x1, x2, x3 = x[c, r, q], x[c, r, q + 1], x[c, r + 1, q], x[c, r + 1, q + 1]
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
def max_backward(dy, where, stride, dx):
    """Send each output's gradient to the cell max_forward took it from (and 0 to the
    window's other cells), in the order (output row, window cell, output column). Each
    cell adds the gradient times 0 or 1, a product rather than a choice, which runs fast
    without AVX too; `where` holds 0.0 to 3.0 for the same reason."""
    n, h_out, w_out, batch = dy.shape
    dx[:] = 0.0
    for c in range(n):
        for i in range(h_out):
            for cell in range(4):
                row = dx[c, i * stride + cell // 2]
                if stride == 1:  # a whole row at once: window column 1 is one cell right
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
def reflect(p, n):
    """The cell that reflection padding puts at position p of an axis of n cells."""
    if p < 0:
        return -p
    if p >= n:
        return 2 * (n - 1) - p
    return p


# The 3 x 3 binomial filter [1, 2, 1]' [1, 2, 1] / 16 (each weight exact in binary).
BLUR = np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0]) / 16.0


@njit(cache=True)
def blur_forward(x, y):
    """poolbook.blur_pool2d (filter size 3, stride 2) of each map of x: reflection
    padding of one cell, the nine taps added in row-major order."""
    n, h, wd, batch = x.shape
    _, h_out, w_out, _ = y.shape
    y[:] = 0.0
    for c in range(n):
        for i in range(h_out):
            for j in range(w_out):
                yo = y[c, i, j]
                for a in range(3):
                    r = reflect(2 * i + a - 1, h)
                    for e in range(3):
                        xc, weight = x[c, r, reflect(2 * j + e - 1, wd)], BLUR[a, e]
                        for b in range(batch):
                            yo[b] += weight * xc[b]


@njit(cache=True)
def blur_backward(dy, dx):
    """The gradient of blur_forward: each output's gradient spread back over its taps."""
    n, h, wd, batch = dx.shape
    _, h_out, w_out, _ = dy.shape
    dx[:] = 0.0
    for c in range(n):
        for i in range(h_out):
            for j in range(w_out):
                dyo = dy[c, i, j]
                for a in range(3):
                    r = reflect(2 * i + a - 1, h)
                    for e in range(3):
                        dxc, weight = dx[c, r, reflect(2 * j + e - 1, wd)], BLUR[a, e]
                        for b in range(batch):
                            dxc[b] += weight * dyo[b]


@njit(cache=True)
def softmax_loss(z, labels, dz):
    """Sum over the batch of the cross-entropy loss of the softmax of z (classes, batch);
    dz: its gradient divided by the batch size (the gradient of the mean loss)."""
    n_out, batch = z.shape
    total = 0.0
    for b in range(batch):
        top = z[0, b]
        for k in range(1, n_out):
            top = max(top, z[k, b])
        s = 0.0
        for k in range(n_out):
            dz[k, b] = exp(z[k, b] - top)
            s += dz[k, b]
        total += log(s) - (z[labels[b], b] - top)
        for k in range(n_out):
            p = dz[k, b] / s  # the softmax
            dz[k, b] = ((p - 1.0) if k == labels[b] else p) / batch
    return total


# --- the elementwise layers, in numpy ----------------------------------------------------

def avg_pool(a):
    """2 x 2 average pooling at stride 2 of a (C, H, W, B), the four cells added in
    row-major order."""
    return (((a[:, 0::2, 0::2] + a[:, 0::2, 1::2]) + a[:, 1::2, 0::2])
            + a[:, 1::2, 1::2]) / 4


def avg_pool_back(dy):
    """A quarter of each output's gradient to each cell of its window."""
    n, h, w, batch = dy.shape
    dx = np.empty((n, 2 * h, 2 * w, batch))
    for a in (0, 1):
        for e in (0, 1):
            dx[:, a::2, e::2] = dy / 4
    return dx


def global_average(a):
    """The mean of each map of a (C, H, W, B): (C, B), the cells added row by row."""
    total = np.zeros((a.shape[0], a.shape[3]))
    for i in range(a.shape[1]):
        for j in range(a.shape[2]):
            total += a[:, i, j]
    return total / (a.shape[1] * a.shape[2])


def global_average_back(dh, shape):
    """The gradient of global_average: each cell gets its map's share."""
    n, h, w, batch = shape
    return np.ascontiguousarray(np.broadcast_to((dh / (h * w))[:, None, None, :], shape))


# --- the network -------------------------------------------------------------------------

class Network:
    """One network of chapter 7 on the engine: its parameters `theta` (one flat float64
    vector, cut into the Gluon network's parameters by `params`), the gradient `grad`
    that `backward` fills (cut the same way by `grads`), and the layers in between."""

    def __init__(self, kind, head='dense', theta=None, seed=0, channels=CHANNELS):
        kind_code(kind)
        check_head(head)
        self.kind, self.head, self.channels = kind, head, tuple(channels)
        if theta is None:
            theta = init_params(kind, head, seed, channels)
        self.theta = np.array(theta, dtype=np.float64)  # a copy: training changes it
        self.grad = np.zeros_like(self.theta)
        self.params = unpack(self.theta, kind, head, channels)  # views: they follow theta
        self.grads = unpack(self.grad, kind, head, channels)
        self.saved = {}

    def conv(self, x, name, pad, stride, relu=False):
        """The convolution `name` of x (C, H, W, B) (and a ReLU after it, with relu): a
        3 x 3 window at stride 1 directly (conv3x3), the 2 x 2 strided convolution through
        its window cells (gather_windows)."""
        weight, bias = self.params[f'{name} weight'], self.params[f'{name} bias']
        n_out, n_in, k, _ = weight.shape
        size = (x.shape[1] + 2 * pad - k) // stride + 1
        if stride == 1:
            xp = np.zeros((n_in, x.shape[1] + 2 * pad, x.shape[2] + 2 * pad, x.shape[3]))
            xp[:, pad:pad + x.shape[1], pad:pad + x.shape[2]] = x
            y = np.empty((n_out, size, size, x.shape[3]))
            conv3x3(xp, weight, bias, y, relu)
            self.saved[name] = (x.shape, xp, pad, stride)
            return y
        cols = np.empty((n_in, k, k, size, size, x.shape[3]))
        gather_windows(x, k, pad, stride, cols)
        y = np.empty((n_out, cols[0, 0, 0].size))
        y[:] = bias[:, None]
        weighted_sums(weight.reshape(n_out, -1), cols.reshape(n_in * k * k, -1), y, relu)
        self.saved[name] = (x.shape, cols, pad, stride)
        return y.reshape(n_out, size, size, x.shape[3])

    def conv_back(self, dy, name, with_dx=True):
        """The gradient of the convolution `name`: its weights' into grads, and its
        input's, returned (unless with_dx is False)."""
        shape, saved, pad, stride = self.saved[name]
        weight = self.params[f'{name} weight']
        dw, dbias = self.grads[f'{name} weight'], self.grads[f'{name} bias']
        if stride == 1:
            conv3x3_weight_gradient(saved, dy, dw, dbias)
            if not with_dx:
                return None
            # The input's gradient is a 3 x 3 convolution too (pad 1 keeps the size): of
            # dy padded by one, with each window turned round and the channels swapped.
            dyp = np.zeros((dy.shape[0], dy.shape[1] + 2, dy.shape[2] + 2, dy.shape[3]))
            dyp[:, 1:-1, 1:-1] = dy
            turned = np.ascontiguousarray(weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
            dx = np.empty(shape)
            conv3x3(dyp, turned, np.zeros(shape[0]), dx, False)
            return dx
        cols = saved
        weight = weight.reshape(dy.shape[0], -1)
        dy = dy.reshape(dy.shape[0], -1)
        flat = cols.reshape(weight.shape[1], -1)
        weight_gradients(dy, flat, dw.reshape(weight.shape), dbias)
        if not with_dx:
            return None
        dcols = np.zeros(flat.shape)
        weighted_sums(np.ascontiguousarray(weight.T), dy, dcols)
        dx = np.empty(shape)
        scatter_windows(dcols.reshape(cols.shape), pad, stride, dx)
        return dx

    def dense(self, h):
        """The dense layer on h (features, B): ten scores per example."""
        weight, bias = self.params['dense weight'], self.params['dense bias']
        z = np.empty((len(bias), h.shape[1]))
        z[:] = bias[:, None]
        weighted_sums(weight, h, z)
        self.saved['dense'] = h
        return z

    def dense_back(self, dz):
        """The gradient of the dense layer: its weights' into grads; its input's."""
        h, weight = self.saved['dense'], self.params['dense weight']
        batch_sums(dz, h, self.grads['dense weight'], self.grads['dense bias'])
        dh = np.zeros(h.shape)
        weighted_sums(np.ascontiguousarray(weight.T), dz, dh)
        return dh

    def down(self, a, name):
        """The downsampling layer `name` ('down1' or 'down2') on a (C, H, W, B)."""
        self.saved[name] = a.shape
        if self.kind == 'strided conv':
            return self.conv(a, name, 0, 2)
        if self.kind == 'avg':
            return avg_pool(a)
        stride = 2 if self.kind == 'max' else 1
        size = (a.shape[1] - 2) // stride + 1
        y = np.empty((a.shape[0], size, size, a.shape[3]))
        where = np.empty(y.shape)
        max_forward(a, stride, y, where)
        self.saved[name + ' max'] = where
        if self.kind == 'max':
            return y
        blurred = np.empty((y.shape[0], -(-y.shape[1] // 2), -(-y.shape[2] // 2), y.shape[3]))
        blur_forward(y, blurred)
        return blurred

    def down_back(self, dy, name):
        """The gradient of the downsampling layer `name` with respect to its input."""
        if self.kind == 'strided conv':
            return self.conv_back(dy, name)
        if self.kind == 'avg':
            return avg_pool_back(dy)
        where = self.saved[name + ' max']
        if self.kind == 'max-blur':
            dense = np.empty(where.shape)
            blur_backward(np.ascontiguousarray(dy), dense)
            dy = dense
        da = np.empty(self.saved[name])
        max_backward(np.ascontiguousarray(dy), where, 2 if self.kind == 'max' else 1, da)
        return da

    def conv1_patches(self, digits, corners):
        """The first convolution, with its ReLU, of the digits (1, 8, 8, B) placed at
        their corners (B, 2) on the canvas, computed around each digit only (PATCH)."""
        patches = self.conv(digits, 'conv1', 2, 1, relu=True)  # 8 + 2 * 2 - 3 + 1 = 10
        bias = self.params['conv1 bias']
        canvas = np.empty((len(bias), CANVAS, CANVAS, digits.shape[3]))
        canvas[:] = np.where(bias > 0, bias, 0.0)[:, None, None, None]  # ReLU(bias)
        move_patches(patches, canvas, corners, True)
        self.saved['corners'] = corners
        return canvas

    def conv1_patches_back(self, dy):
        """The first convolution's weight gradient from dy (C, 16, 16, B)."""
        _, xp, _, _ = self.saved['conv1']
        patches = np.empty((dy.shape[0], PATCH, PATCH, dy.shape[3]))
        move_patches(patches, dy, self.saved['corners'], False)
        bias_patches = np.empty(dy.shape[0])  # their sums: the bias reaches every cell
        conv3x3_weight_gradient(xp, patches, self.grads['conv1 weight'], bias_patches)
        row_sums(dy.reshape(dy.shape[0], -1), self.grads['conv1 bias'])

    def forward(self, x, corners=None):
        """The ten scores (10, B) of the batch x (1, 16, 16, B), or, with corners (B, 2),
        of the digits x (1, 8, 8, B) placed at those corners."""
        if corners is None:
            a1 = self.conv(x, 'conv1', 1, 1, relu=True)
        else:
            a1 = self.conv1_patches(x, corners)
        a2 = self.conv(self.down(a1, 'down1'), 'conv2', 1, 1, relu=True)
        p2 = self.down(a2, 'down2')
        if self.head == 'global':
            h = global_average(p2)
        else:  # flatten channel by channel, as Gluon's Dense does
            h = np.ascontiguousarray(p2).reshape(-1, p2.shape[3])
        self.saved.update(patches=corners is not None, a1=a1, a2=a2, p2=p2.shape)
        return self.dense(h)

    def backward(self, dz):
        """Fill grad with the gradient of the loss whose gradient with respect to the
        scores of the last forward pass is dz (10, B)."""
        saved = self.saved
        dh = self.dense_back(dz)
        if self.head == 'global':
            dp2 = global_average_back(dh, saved['p2'])
        else:
            dp2 = dh.reshape(saved['p2'])
        da2 = self.down_back(dp2, 'down2')
        relu_gradient(saved['a2'], da2)
        da1 = self.down_back(self.conv_back(da2, 'conv2'), 'down1')
        relu_gradient(saved['a1'], da1)
        if saved['patches']:
            self.conv1_patches_back(da1)
        else:
            self.conv_back(da1, 'conv1', with_dx=False)  # the image needs no gradient

    def loss_and_grad(self, x, labels, corners=None):
        """The summed loss of the batch x with its labels (x and corners as forward
        takes them); grad gets the gradient of the mean loss."""
        z = self.forward(x, corners)
        dz = np.empty(z.shape)
        total = softmax_loss(z, labels, dz)
        self.backward(dz)
        return total


def row_sums(a, out):
    """out[o] = the sum of a[o], in lane_dot's order (weight_gradients with no weights)."""
    weight_gradients(a, np.empty((0, a.shape[1])), np.empty((a.shape[0], 0)), out)


def adam_step(theta, grad, mean, var, decay1, decay2, rate):
    """One step of Adam as MXNet's optimizer takes it, in place; decay1 and decay2 are
    BETA1 and BETA2 to the power of the step's number (1 for the first)."""
    mean *= BETA1
    mean += (1 - BETA1) * grad
    var *= BETA2
    var += (1 - BETA2) * grad * grad
    theta -= rate * math.sqrt(1 - decay2) / (1 - decay1) * mean / (np.sqrt(var) + EPSILON)


# --- what the chapter calls --------------------------------------------------------------

def batch_last(X, head='dense'):
    """Canvases X (N, 1, 16, 16) as the engine's batch (1, 16, 16, N). With the global
    head a network reads canvases of any size that is a multiple of 4 (chapter 6)."""
    X = np.asarray(X, dtype=np.float64)
    size = X.shape[-1] if X.ndim == 4 else 0
    if X.ndim != 4 or X.shape[1:] != (1, size, size) or (
            size != CANVAS if head == 'dense' else size % 4 or size < 8):
        sizes = f'{CANVAS}' if head == 'dense' else 'S, S a multiple of 4 from 8 up'
        raise ValueError(f"X must have shape (N, 1, {sizes}) for the {head!r} head, got "
                         f"{X.shape}")
    return np.ascontiguousarray(X.transpose(1, 2, 3, 0))


def digits_last(images):
    """Images (N, 8, 8) as the engine's batch of digits (1, 8, 8, N)."""
    return np.ascontiguousarray(np.asarray(images, dtype=np.float64).transpose(1, 2, 0)[None])


def check_corners(images, corners):
    """Refuse images that are not (N, 8, 8), or corners that are not N integer pairs
    from 0 to 8 (where an 8 x 8 digit fits on the canvas)."""
    images, corners = np.asarray(images), np.asarray(corners)
    if images.ndim != 3 or images.shape[1:] != (8, 8):
        raise ValueError(f"images must have shape (N, 8, 8), got {images.shape}")
    if corners.shape != (len(images), 2) or corners.dtype.kind not in 'iu':
        raise ValueError(f"corners must be {len(images)} pairs of integers (one per "
                         f"image), got shape {corners.shape} and dtype {corners.dtype}")
    if corners.size and not (corners.min() >= 0 and corners.max() <= CANVAS - 8):
        raise ValueError(f"corners must lie from 0 to {CANVAS - 8}, so that each digit "
                         f"fits on the canvas")


def logits(theta, kind, X, head='dense', corners=None, channels=CHANNELS, batch_size=64):
    """The network's ten scores for each image: shape (N, 10). X is N canvases
    (N, 1, 16, 16, or any multiple of 4 for the global head); or, with corners (N, 2),
    N digits (N, 8, 8) placed with their
    top-left cell at those corners, which the engine computes faster (its first
    convolution then runs on each digit's surroundings only)."""
    net = Network(kind, head, theta, channels=channels)
    if corners is not None:
        check_corners(X, corners)
        corners = np.asarray(corners, dtype=np.int64)
    parts = []
    for start in range(0, len(X), batch_size):
        part = slice(start, start + batch_size)
        if corners is None:
            parts.append(net.forward(batch_last(X[part], head)).T)
        else:
            parts.append(net.forward(digits_last(X[part]), corners[part]).T)
    return np.concatenate(parts)


def predict(theta, kind, X, head='dense', corners=None, channels=CHANNELS):
    """The class the network predicts for each image (X and corners as for logits)."""
    return logits(theta, kind, X, head, corners, channels).argmax(axis=1)


def loss_and_gradient(theta, kind, X, labels, head='dense', channels=CHANNELS):
    """The mean cross-entropy loss on the batch X (N, 1, 16, 16) with its labels, and its
    gradient with respect to each parameter (a dict name: array, as unpack gives)."""
    net = Network(kind, head, theta, channels=channels)
    labels = np.asarray(labels, dtype=np.int64)
    total = net.loss_and_grad(batch_last(X, head), labels)
    return total / len(labels), unpack(net.grad, kind, head, channels)


def check_training_args(images, labels, epochs, batch_size, learning_rate):
    """Refuse training data or settings the engine cannot use."""
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


def train(kind, images, labels, *, head='dense', epochs=10, batch_size=16,
          learning_rate=0.01, seed=0, channels=CHANNELS, watch=None):
    """Train a fresh network (init_params(kind, head, seed)) with Adam on the 8 x 8
    `images`, each epoch placing every image at a new random position on the canvas and
    visiting them in a new random order (both seeded). The learning rate is
    `learning_rate` for the first two thirds of the epochs and a tenth of it for the
    last third, where the network settles. Returns the parameters, the
    mean loss of each epoch and, with watch=(digits, corners, labels), the accuracy on
    those digits placed at those corners after each epoch."""
    images = np.ascontiguousarray(images, dtype=np.float64)
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    check_training_args(images, labels, epochs, batch_size, learning_rate)
    net = Network(kind, head, seed=seed, channels=channels)
    rng = np.random.RandomState([seed, 1])  # a stream of its own, apart from the weights'
    corners = rng.randint(0, CANVAS - 7, size=(epochs, len(images), 2))
    orders = [rng.permutation(len(images)) for _ in range(epochs)]
    mean, var = np.zeros_like(net.theta), np.zeros_like(net.theta)
    losses, accuracies, decay1, decay2 = [], [], 1.0, 1.0
    for epoch in range(epochs):
        rate = learning_rate if 3 * epoch < 2 * epochs else learning_rate / 10
        total = 0.0
        for start in range(0, len(images), batch_size):
            chosen = orders[epoch][start:start + batch_size]
            total += net.loss_and_grad(digits_last(images[chosen]), labels[chosen],
                                       corners[epoch][chosen])
            decay1, decay2 = decay1 * BETA1, decay2 * BETA2  # BETA**step, no library pow
            adam_step(net.theta, net.grad, mean, var, decay1, decay2, rate)
        losses.append(total / len(images))
        if watch is not None:
            guesses = predict(net.theta, kind, watch[0], head, watch[1], channels)
            accuracies.append(np.mean(guesses == watch[2]))
    if watch is None:
        return net.theta, np.array(losses)
    return net.theta, np.array(losses), np.array(accuracies)
