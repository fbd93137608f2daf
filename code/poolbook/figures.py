"""Every picture in the book, drawn with matplotlib while the notebooks run.

All figures share one visual language: input cells blue, padding grey and empty, the
pooling window orange, output cells green (the cell being computed darker), numbers
written in the cells (one font size per figure, small enough for its widest number), on
an opaque white background so that they stay readable in the book's dark mode. Each
drawn cell carries a `gid` ('input 0 1', 'padding 0 0', 'window', 'output 0 0', ...) so
that tests can check what a figure shows without comparing pixels.

This module only draws. A pooling figure shows what `poolbook.pool2d` returns for the
input it is given; other data comes in computed (the beta sweep by
`poolbook.variants.beta_sweep`); the animation's HTML is made offline by
`poolbook.player`.
"""
import matplotlib.pyplot as plt
from matplotlib.animation import FuncAnimation
from matplotlib.patches import FancyArrowPatch, Rectangle
from matplotlib.textpath import TextPath
import numpy as np

from poolbook.arrays import to_numpy
from poolbook.checks import as_pair, check_input, check_mapping, check_mode
from poolbook.player import offline_player
from poolbook.pooling import pool2d

COLORS = {
    'input': '#cfe2f3',
    'padding': '#e8e8e8',
    'window': '#f6b26b',
    'window_edge': '#b45f06',
    'output': '#d9ead3',
    'result': '#93c47d',
    'line': '#333333',
    'text': '#111111',
}
CELL = 0.5  # inches per grid cell: about 14 cells across the book's text width
# One colour per window where a figure outlines several (matplotlib's default cycle).
WINDOW_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b',
                 '#e377c2', '#7f7f7f', '#bcbd22', '#17becf']


def _maps(arrays, name, ndims=(2,)):
    """The dict `arrays` (title: 2-D array) as numpy arrays, each checked by its title."""
    check_mapping(arrays, name, 'title: 2-D array')
    for title, A in arrays.items():
        check_input(A, ndims, name=str(title))
    return {title: to_numpy(A, str(title)) for title, A in arrays.items()}


def _series(xs, series, name):
    """Refuse `series` (name: values) unless a dict whose every entry has len(xs) values."""
    check_mapping(series, name, 'name: one value per point')
    for key, values in series.items():
        if len(values) != len(xs):
            raise ValueError(f"{name}[{key!r}] must hold one value per point, "
                             f"{len(xs)}, got {len(values)}")


def _panels(panels):
    """Refuse `panels` unless a dict of dicts (title: {name: values})."""
    check_mapping(panels, 'panels', 'title: {name: values}')
    for title, curves in panels.items():
        check_mapping(curves, f'panels[{title!r}]', 'name: values')


def _fmt(value):
    """Write a cell's number compactly: 4 for 4.0, 2.5 for 2.5, 1.11 for 1.1111."""
    return f'{float(value):.3g}'


def _cell_points(ax):
    """The side of one grid cell, in points, as the equal-aspect axes `ax` shows it."""
    box, (w, h) = ax.get_position(), ax.figure.get_size_inches()
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return 72 * min(box.width * w / (x1 - x0), box.height * h / (y1 - y0))


def _fontsize(arrays, ax, largest=13):
    """One font size for all the numbers a figure writes in its cells: `largest`, or
    less so that the widest number (as `_fmt` writes it) fills at most 3/4 of a cell."""
    texts = {_fmt(v) for A in arrays for v in np.ravel(A)}
    widest = max(TextPath((0, 0), t, size=1).get_extents().width for t in texts)
    return min(largest, int(2 * 0.75 * _cell_points(ax) / widest) / 2)  # half points


# Every figure reaches the page at PIXEL_RATIO times its pixels, shown at its own size,
# so that it stays sharp when a reader zooms in or prints: the notebook's inline backend
# stores a 'retina' PNG (twice the pixels, IPython's fixed ratio) with the size to show it
# at in the output's metadata, which the HTML book follows; the animation's frames are
# drawn the same way (animate_pooling, poolbook.player). The figures' own size and dpi,
# and so everything tests measure in them, stay as they are.
PIXEL_RATIO = 2


def _display_sharp():
    """In an IPython kernel, have the inline backend show figures as retina PNGs."""
    try:
        from IPython import get_ipython
    except ImportError:  # no IPython, no kernel: nothing to set
        return
    if get_ipython() is not None:
        from matplotlib_inline.config import InlineBackend
        InlineBackend.instance().figure_formats = {'retina'}


_display_sharp()


def _figure(width, height, rows=1, columns=1, cell=CELL):
    """A white figure of `rows` x `columns` axes, each showing the region x in [0, width],
    y in [-height, 0] (in grid cells, y pointing up), at `cell` inches per grid cell."""
    fig, axes = plt.subplots(rows, columns, squeeze=False, dpi=100, facecolor='white',
                             figsize=(columns * cell * width, rows * cell * height))
    for ax in axes.ravel():
        _frame(ax, width, height)
    plt.close(fig)  # the notebook shows the returned figure once, not twice
    return fig, axes


def _frame(ax, width, height):
    """Show x in [0, width], y in [-height, 0] at equal scale, without axes."""
    ax.set_xlim(-0.1, width + 0.1)
    ax.set_ylim(-height - 0.1, 0.1)
    ax.set_aspect('equal')
    ax.axis('off')


def _cell(ax, x, y, gid, color, text='', fontsize=13):
    """One unit cell with its top-left corner at (x, y) (y grows upwards)."""
    ax.add_patch(Rectangle((x, y - 1), 1, 1, linewidth=1.2, facecolor=color,
                           edgecolor=COLORS['line'], gid=gid))
    if text:
        ax.text(x + 0.5, y - 0.5, text, ha='center', va='center', color=COLORS['text'],
                fontsize=fontsize, gid=gid)


def _draw_grid(ax, values, x0, y0, name, color, highlight=(), highlight_color=None,
               fontsize=None):
    """Draw the 2-D array `values` as numbered cells, top-left at (x0, y0), in one font
    size (by default the one that fits its widest number)."""
    fontsize = fontsize or _fontsize([values], ax)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            hot = (i, j) in highlight
            _cell(ax, x0 + j, y0 - i, f'{name} {i} {j}',
                  highlight_color if hot else color, _fmt(values[i, j]), fontsize)


def _draw_padded_grid(ax, X, x0, y0, padding, fontsize, box=(0, 0, 0, 0)):
    """Draw X inside its ring of padding, top-left at (x0, y0), shading the input cells
    inside `box` = (top, left, height, width) in padded coordinates; return their values."""
    (p_h, p_w), (top, left, k_h, k_w) = padding, box
    inside = []
    for i in range(X.shape[0] + 2 * p_h):
        for j in range(X.shape[1] + 2 * p_w):
            in_window = top <= i < top + k_h and left <= j < left + k_w
            a, b = i - p_h, j - p_w  # input coordinates
            if 0 <= a < X.shape[0] and 0 <= b < X.shape[1]:
                _cell(ax, x0 + j, y0 - i, f'input {a} {b}',
                      COLORS['window'] if in_window else COLORS['input'], _fmt(X[a, b]),
                      fontsize)
                if in_window:
                    inside.append(X[a, b])
            else:
                _cell(ax, x0 + j, y0 - i, f'padding {i} {j}', COLORS['padding'])
    return inside


def _draw_padded_input(ax, X, x0, y0, pool_size, strides, padding, position, fontsize=13):
    """Draw X inside its ring of padding, the window at output `position` shaded and
    outlined; return the input values under the window."""
    (k_h, k_w), (s_h, s_w) = pool_size, strides
    top, left = position[0] * s_h, position[1] * s_w  # window corner, padded coordinates
    inside = _draw_padded_grid(ax, X, x0, y0, padding, fontsize, (top, left, k_h, k_w))
    ax.add_patch(Rectangle((x0 + left, y0 - top - k_h), k_w, k_h, fill=False, linewidth=3,
                           edgecolor=COLORS['window_edge'], gid='window'))
    return inside


def _equation(mode, inside, divisor, value):
    """The arithmetic of one output cell, e.g. 'max(0, 1, 3, 4) = 4' (as _arithmetic)."""
    return _arithmetic(mode, inside, divisor, value)


def _pairs(pool_size, strides, padding):
    return (as_pair(pool_size, 'pool_size', 1), as_pair(strides, 'strides', 1),
            as_pair(padding, 'padding', 0))


def _draw_step(ax, X, Y, pool_size, strides, padding, mode, position, y0, done=None,
               channel=None, fontsize=13):
    """One step of pooling the 2-D X into Y, with its top at y0: the padded input with the
    window at output `position`, an arrow, the output (only its first `done` cells, in
    reading order, written when `done` is given), titles above and the arithmetic below."""
    in_h, in_w = X.shape[0] + 2 * padding[0], X.shape[1] + 2 * padding[1]
    out_x = in_w + 2                                # the output starts 2 cells right of the input
    inside = _draw_padded_input(ax, X, 0, y0, pool_size, strides, padding, position, fontsize)
    tag = '' if channel is None else f' {channel}'
    for n, (i, j) in enumerate(np.ndindex(*Y.shape)):
        color = COLORS['result'] if (i, j) == tuple(position) else COLORS['output']
        _cell(ax, out_x + j, y0 - i, f'output{tag} {i} {j}', color,
              _fmt(Y[i, j]) if done is None or n < done else '', fontsize)
    mid = y0 - in_h / 2
    ax.add_patch(FancyArrowPatch((in_w + 0.25, mid), (out_x - 0.25, mid), arrowstyle='-|>',
                                 mutation_scale=18, color=COLORS['line']))
    prefix = '' if channel is None else f'channel {channel}: '
    ax.text(in_w / 2, y0 + 0.35, prefix + 'input', ha='center', fontsize=12)
    ax.text(out_x + Y.shape[1] / 2, y0 + 0.35, prefix + 'output', ha='center', fontsize=12)
    ax.text(0, y0 - max(in_h, Y.shape[0]) - 0.7,
            _equation(mode, inside, pool_size[0] * pool_size[1], Y[tuple(position)]),
            ha='left', va='center', fontsize=13, color=COLORS['text'], gid=f'equation{tag}')


def _step_size(X_hw, Y_hw, padding):
    """Width and height, in cells, of one step drawn by _draw_step."""
    in_h, in_w = X_hw[0] + 2 * padding[0], X_hw[1] + 2 * padding[1]
    return in_w + 2 + Y_hw[1], max(in_h, Y_hw[0]) + 2.4  # title line, grids, equation line


def draw_pooling(X, pool_size, mode='max', *, strides=1, padding=0, position=(0, 0)):
    """Draw one step of pooling X, shaped (H, W) or (C, H, W): the (padded) input with the
    window at output `position`, the output it fills, and the arithmetic; a row per channel."""
    X = to_numpy(X)
    X3 = X[None] if X.ndim == 2 else X
    pool_size, strides, padding = _pairs(pool_size, strides, padding)
    Y3 = pool2d(X3, pool_size, mode, strides=strides, padding=padding)
    width, row_h = _step_size(X3.shape[1:], Y3.shape[1:], padding)
    fig, axes = _figure(width, row_h * X3.shape[0])
    fontsize = _fontsize([X3, Y3], axes[0, 0])
    for c in range(X3.shape[0]):
        _draw_step(axes[0, 0], X3[c], Y3[c], pool_size, strides, padding, mode, position,
                   y0=-c * row_h - 0.8, channel=None if X3.shape[0] == 1 else c,
                   fontsize=fontsize)
    return fig


def draw_window_positions(X, pool_size, mode='max', *, strides=1, padding=0):
    """Draw every position of the window on the padded 2-D input X: one panel per output
    cell Y[i, j], laid out like the output, each titled with the value it produces."""
    X = to_numpy(X)
    pool_size, strides, padding = _pairs(pool_size, strides, padding)
    Y = pool2d(X, pool_size, mode, strides=strides, padding=padding)
    in_h, in_w = X.shape[0] + 2 * padding[0], X.shape[1] + 2 * padding[1]
    fig, axes = _figure(in_w, in_h + 1, *Y.shape, cell=0.42)
    fontsize = _fontsize([X], axes[0, 0], largest=10)
    for (i, j), ax in np.ndenumerate(axes):
        _draw_padded_input(ax, X, 0, -1, pool_size, strides, padding, (i, j), fontsize)
        ax.text(in_w / 2, -0.45, f'Y[{i}, {j}] = {_fmt(Y[i, j])}', ha='center', va='center',
                fontsize=11, color=COLORS['text'], gid=f'title {i} {j}')
    return fig


def draw_windows(X, pool_size, mode='max', *, strides=1, padding=0):
    """Draw the padded 2-D input X once with every window outlined in its own colour,
    beside the output, each output cell edged in the colour of its window."""
    X = to_numpy(X)
    pool_size, strides, padding = _pairs(pool_size, strides, padding)
    Y = pool2d(X, pool_size, mode, strides=strides, padding=padding)
    (k_h, k_w), (s_h, s_w) = pool_size, strides
    in_h, in_w = X.shape[0] + 2 * padding[0], X.shape[1] + 2 * padding[1]
    out_x = in_w + 2                                # the output starts 2 cells right
    fig, axes = _figure(out_x + Y.shape[1], max(in_h, Y.shape[0]) + 0.8)
    ax, fontsize = axes[0, 0], _fontsize([X, Y], axes[0, 0])
    _draw_padded_grid(ax, X, 0, -0.8, padding, fontsize)
    for n, (i, j) in enumerate(np.ndindex(*Y.shape)):
        color, inset = WINDOW_COLORS[n % len(WINDOW_COLORS)], 0.08
        ax.add_patch(Rectangle((j * s_w + inset, -0.8 - i * s_h - k_h + inset),
                               k_w - 2 * inset, k_h - 2 * inset, fill=False, linewidth=3,
                               edgecolor=color, gid=f'window {i} {j}'))
        _cell(ax, out_x + j, -0.8 - i, f'output {i} {j}', COLORS['output'],
              _fmt(Y[i, j]), fontsize)
        ax.add_patch(Rectangle((out_x + j + inset, -0.8 - i - 1 + inset), 1 - 2 * inset,
                               1 - 2 * inset, fill=False, linewidth=3, edgecolor=color,
                               gid=f'output edge {i} {j}'))
    mid = -0.8 - in_h / 2
    ax.add_patch(FancyArrowPatch((in_w + 0.25, mid), (out_x - 0.25, mid), arrowstyle='-|>',
                                 mutation_scale=18, color=COLORS['line']))
    ax.text(in_w / 2, 0.35 - 0.8, 'input, padded', ha='center', fontsize=12)
    ax.text(out_x + Y.shape[1] / 2, 0.35 - 0.8, 'output', ha='center', fontsize=12)
    return fig


def draw_arrays(arrays, columns=None, marked=None):
    """Draw a few small 2-D arrays as numbered grids, each under its title; nonzero cells
    are darker; `marked` maps a name to the columns of that array to outline."""
    values = _maps(arrays, 'arrays')
    names = list(values)
    columns = columns or len(names)
    width = max(v.shape[1] for v in values.values())
    height = max(v.shape[0] for v in values.values()) + 1
    fig, axes = _figure(width, height, -(-len(names) // columns), columns)
    for ax, name in zip(axes.ravel(), names):
        v = values[name]
        hot = [tuple(ij) for ij in np.argwhere(v != 0)]
        _draw_grid(ax, v, 0, -1, name, COLORS['output'], hot, COLORS['result'])
        ax.text(width / 2, -0.45, name, ha='center', va='center', fontsize=12)
        for j in (marked or {}).get(name, ()):
            ax.add_patch(Rectangle((j, -1 - v.shape[0]), 1, v.shape[0], fill=False,
                                   linewidth=3, edgecolor=COLORS['window_edge'],
                                   gid=f'{name} marked column {j}'))
    return fig


def plot_timings(sizes, seconds, xlabel='input cells (H x W)'):
    """Plot time against input size on log-log axes: `seconds` maps a method's name to
    its times, one per size (None where it was not measured)."""
    _series(sizes, seconds, 'seconds')
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100, facecolor='white')
    markers = 'osD^v<>'
    for (name, times), marker in zip(seconds.items(), markers):
        points = [(n, t) for n, t in zip(sizes, times) if t is not None]
        ax.loglog(*zip(*points), marker=marker, label=name, gid=f'line {name}')
    ax.set_xlabel(xlabel)
    ax.set_ylabel('seconds per call (median)')
    ax.grid(True, which='major', alpha=0.4)
    ax.legend(frameon=False)
    plt.close(fig)
    return fig


def draw_gradients(X, pool_size, gradients):
    """Draw the 2-D array X, each window's maximum shaded, beside the gradient maps in
    `gradients` (name: array shaped like X) of pooling X with stride = window; every window
    outlined, nonzero gradients darker."""
    check_input(X, (2,))
    X = to_numpy(X)
    gradients = _maps(gradients, 'gradients')
    k_h, k_w = as_pair(pool_size, 'pool_size', 1)
    top = pool2d(X, (k_h, k_w), strides=(k_h, k_w))
    panels = {'input': X, **{name: to_numpy(g, name) for name, g in gradients.items()}}
    fig, axes = _figure(X.shape[1] + 1, X.shape[0] + 1, 1, len(panels))
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1, wspace=0)  # cells as large as fit
    fontsize = _fontsize(panels.values(), axes[0, 0])
    for ax, (name, v) in zip(axes.ravel(), panels.items()):
        if name == 'input':  # the winners: cells equal to their window's maximum
            hot = [(i, j) for i, j in np.ndindex(v.shape) if i // k_h < top.shape[0]
                   and j // k_w < top.shape[1] and v[i, j] == top[i // k_h, j // k_w]]
            _draw_grid(ax, v, 0.5, -1, name, COLORS['input'], hot, COLORS['window'],
                       fontsize)
        else:
            hot = [tuple(ij) for ij in np.argwhere(v != 0)]
            _draw_grid(ax, v, 0.5, -1, name, COLORS['output'], hot, COLORS['result'],
                       fontsize)
        for a, b in np.ndindex(top.shape):
            ax.add_patch(Rectangle((0.5 + b * k_w, -1 - (a + 1) * k_h), k_w, k_h, fill=False,
                                   linewidth=3, edgecolor=COLORS['window_edge'],
                                   gid=f'{name} window {a} {b}'))
        ax.text(0.5 + X.shape[1] / 2, -0.45, name, ha='center', va='center', fontsize=12)
    return fig


def plot_beta_sweep(betas, curves, levels):
    """Plot `curves` (name: one value per beta, as `variants.beta_sweep` returns them)
    against beta on a log axis, with `levels` (name: value) as labelled dashed lines, the
    lowest one's label below its line."""
    _series(betas, curves, 'curves')
    check_mapping(levels, 'levels', 'name: value')
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100, facecolor='white')
    for (name, values), color in zip(curves.items(), (COLORS['window_edge'], COLORS['line'])):
        ax.plot(betas, values, color=color, linewidth=2.5, label=name, gid=f'line {name}')
    for name, level in levels.items():
        below = level == min(levels.values())
        ax.axhline(level, color=COLORS['result'], linestyle='--', linewidth=2,
                   gid=f'level {name}')
        ax.annotate(f'{name} {_fmt(level)}', (betas[0], level), xytext=(2, -4 if below else 4),
                    textcoords='offset points', va='top' if below else 'bottom', fontsize=11,
                    color=COLORS['text'], gid=f'label {name}')
    ax.set_xscale('log')
    ax.margins(y=0.15)
    ax.set_xlabel('beta')
    ax.set_ylabel('pooled value of the window')
    ax.legend(loc='center right', frameon=False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def animate_pooling(X, pool_size, mode='max', *, strides=1, padding=0):
    """The window sliding over the 2-D input X and filling the output, one frame per
    output cell, as HTML that plays in a static page (matplotlib's JavaScript player)."""
    from IPython.display import HTML
    X = to_numpy(X)
    pool_size, strides, padding = _pairs(pool_size, strides, padding)
    Y = pool2d(X, pool_size, mode, strides=strides, padding=padding)
    width, height = _step_size(X.shape, Y.shape, padding)
    fig, axes = _figure(width, height)
    ax = axes[0, 0]
    fontsize = _fontsize([X, Y], ax)
    positions = list(np.ndindex(*Y.shape))

    def draw(step):  # frame `step`: the window at output `step`, outputs so far written
        ax.clear()
        _frame(ax, width, height)
        _draw_step(ax, X, Y, pool_size, strides, padding, mode, positions[step], y0=-0.8,
                   done=step + 1, fontsize=fontsize)

    animation = FuncAnimation(fig, draw, frames=len(positions), interval=1200)
    with plt.rc_context({'savefig.dpi': PIXEL_RATIO * fig.dpi}):  # sharp frames
        html = animation.to_jshtml(default_mode='loop')
    return HTML(offline_player(html, pixel_ratio=PIXEL_RATIO))


def draw_maps(maps, columns=None):
    """Show a few 2-D arrays as grey-scale images side by side, each under its title, all
    on one scale (from the smallest to the largest value among them)."""
    values = _maps(maps, 'maps')
    names = list(values)
    low = min(v.min() for v in values.values())
    high = max(v.max() for v in values.values())
    columns = columns or len(names)
    rows = -(-len(names) // columns)
    fig, axes = plt.subplots(rows, columns, squeeze=False, dpi=100, facecolor='white',
                             figsize=(2.4 * columns, 2.6 * rows))
    for ax in axes.ravel():
        ax.axis('off')
    for ax, name in zip(axes.ravel(), names):
        ax.imshow(values[name], cmap='gray', vmin=low, vmax=high, interpolation='nearest',
                  gid=f'map {name}')
        ax.set_title(name, fontsize=11)
    fig.tight_layout()
    plt.close(fig)
    return fig


def _finish_lines(fig, ax, xlabel, ylabel):
    """Label the axes of a line plot, add its grid and legend, and close the figure."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.4)
    ax.legend(frameon=False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def plot_curves(xs, curves, xlabel, ylabel):
    """Plot one line with markers per entry of `curves` (name: values at the points xs)."""
    _series(xs, curves, 'curves')
    return _plot_lines(xs, curves, xlabel, ylabel)


def _plot_lines(xs, curves, xlabel, ylabel, truth=None):
    """plot_curves, with `truth` (label: values), if given, dashed black on top."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100, facecolor='white')
    for (name, values), marker in zip(curves.items(), 'osD^v<>'):
        ax.plot(xs, values, marker=marker, linewidth=2, label=name, gid=f'line {name}')
    if truth is not None:
        (label, values), = truth.items()
        ax.plot(xs, values, linestyle='--', color='black', linewidth=1.5, zorder=5,
                label=label, gid=f'line {label}')
    ax.set_xticks(list(xs))
    return _finish_lines(fig, ax, xlabel, ylabel)


def draw_adaptive_bins(panels):
    """Draw, per panel (title: (n, starts, ends)), an axis of n numbered cells and under
    it one bar per bin covering cells [start, end), each bin in its own colour."""
    check_mapping(panels, 'panels', 'title: (n, starts, ends)')
    if not all(isinstance(v, tuple) and len(v) == 3 for v in panels.values()):
        raise TypeError("panels must map each title to (n, starts, ends), as "
                        "adaptive.adaptive_bins gives the starts and ends")
    fig, axes = plt.subplots(1, len(panels), squeeze=False, dpi=100, facecolor='white',
                             figsize=(CELL * sum(n + 1 for n, _, _ in panels.values()),
                                      CELL * (2.2 + max(len(s) for _, s, _ in
                                                      panels.values()))))
    for ax, (title, (n, starts, ends)) in zip(axes[0], panels.items()):
        _frame(ax, n, len(starts) + 1.8)
        for j in range(n):
            _cell(ax, j, -0.6, f'{title} cell {j}', COLORS['input'], str(j))
        for i, (start, end) in enumerate(zip(starts, ends)):
            ax.add_patch(Rectangle((start + 0.05, -2.6 - i), end - start - 0.1, 0.7,
                                   facecolor=WINDOW_COLORS[i % len(WINDOW_COLORS)],
                                   edgecolor=COLORS['line'], gid=f'{title} bin {i}'))
            ax.text((start + end) / 2, -2.25 - i, f'bin {i}', ha='center', va='center',
                    fontsize=10, color='white', gid=f'{title} bin {i}')
        ax.text(n / 2, -0.25, title, ha='center', va='center', fontsize=12)
    plt.close(fig)
    return fig


def plot_resolution(profiles):
    """Plot map height against depth, one step line per network in `profiles`
    (name: (depths, sides)), heights on a log scale."""
    check_mapping(profiles, 'profiles', 'name: (depths, sides)')
    if not all(isinstance(v, tuple) and len(v) == 2 for v in profiles.values()):
        raise TypeError("profiles must map each name to (depths, sides), as "
                        "networks.resolution_profile returns them")
    fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=100, facecolor='white')
    for (name, (depths, sides)), marker in zip(profiles.items(), 'osD^v<>'):
        ax.step(depths, sides, where='post', marker=marker, label=name, gid=f'line {name}')
    ax.set_yscale('log', base=2)
    top = max(side for _, sides in profiles.values() for side in sides)
    ticks = [2 ** e for e in range((top - 1).bit_length() + 1)]  # 1, 2, .., >= top
    ax.set_yticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel('depth (convolution layers passed)')
    ax.set_ylabel('map height (cells)')
    ax.grid(True, alpha=0.4)
    ax.legend(frameon=False)
    fig.tight_layout()
    plt.close(fig)
    return fig


# ------------------------------------------------------------ any setting (chapter 2)

def _extent(X_hw, Y_hw, window, strides, padding):
    """Rows and columns to draw: the padded input, and past it as far as a ceil-mode last
    window reaches."""
    return tuple(max(n + 2 * p, (out - 1) * s + k)
                 for n, out, k, s, p in zip(X_hw, Y_hw, window, strides, padding))


def _arithmetic(mode, inside, divisor, value):
    """One output cell's arithmetic: 'max(0, 1) = 1', '0 + 1 = 1' or '(0 + 1) / 2 = 0.5'."""
    check_mode(mode, ('max', 'avg', 'sum'))  # a drawing writes no Lp arithmetic
    terms = [_fmt(v) for v in inside]
    if mode == 'max':
        return f"max({', '.join(terms)}) = {_fmt(value)}"
    if mode == 'sum':
        return f"{' + '.join(terms)} = {_fmt(value)}"
    return f"({' + '.join(terms)}) / {_fmt(divisor)} = {_fmt(value)}"


def _draw_setting(ax, X, Y, window, strides, padding, y0, fontsize, position=None):
    """Draw, top-left at (0, y0), the padded input (cells past it, which only a ceil-mode
    window reaches, dashed), every window outlined in its own colour, and the output
    beside it, each cell edged in its window's colour; with `position`, that output cell
    and its window shaded. Returns the input values under that window."""
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = window, strides, padding
    rows, cols = _extent(X.shape, Y.shape, window, strides, padding)
    # The shaded window's corner, in padded coordinates; none without a position.
    top, left = (rows, cols) if position is None else (position[0] * s_h, position[1] * s_w)
    inside = []
    for i in range(rows):
        for j in range(cols):
            a, b = i - p_h, j - p_w  # input coordinates
            if 0 <= a < X.shape[0] and 0 <= b < X.shape[1]:
                shaded = top <= i < top + k_h and left <= j < left + k_w
                _cell(ax, j, y0 - i, f'input {a} {b}',
                      COLORS['window'] if shaded else COLORS['input'], _fmt(X[a, b]),
                      fontsize)
                if shaded:
                    inside.append(X[a, b])
            elif i < X.shape[0] + 2 * p_h and j < X.shape[1] + 2 * p_w:
                _cell(ax, j, y0 - i, f'padding {i} {j}', COLORS['padding'])
            else:  # past the padded input: counts for nothing
                ax.add_patch(Rectangle((j, y0 - i - 1), 1, 1, facecolor='white',
                                       edgecolor=COLORS['line'], linewidth=0.8,
                                       linestyle='--', gid=f'outside {i} {j}'))
    out_x, inset = cols + 2, 0.08
    for n, (i, j) in enumerate(np.ndindex(*Y.shape)):
        color = WINDOW_COLORS[n % len(WINDOW_COLORS)]
        ax.add_patch(Rectangle((j * s_w + inset, y0 - i * s_h - k_h + inset),
                               k_w - 2 * inset, k_h - 2 * inset, fill=False, linewidth=2,
                               edgecolor=color, gid=f'window {i} {j}'))
        hot = position is not None and (i, j) == tuple(position)
        _cell(ax, out_x + j, y0 - i, f'output {i} {j}',
              COLORS['result'] if hot else COLORS['output'], _fmt(Y[i, j]), fontsize)
        ax.add_patch(Rectangle((out_x + j + inset, y0 - i - 1 + inset), 1 - 2 * inset,
                               1 - 2 * inset, fill=False, linewidth=2, edgecolor=color,
                               gid=f'output edge {i} {j}'))
    if position is not None:
        ax.add_patch(Rectangle((left, y0 - top - k_h), k_w, k_h, fill=False, linewidth=3,
                               edgecolor=COLORS['window_edge'], gid='window'))
    mid = y0 - rows / 2
    ax.add_patch(FancyArrowPatch((cols + 0.25, mid), (out_x - 0.25, mid), arrowstyle='-|>',
                                 mutation_scale=14, color=COLORS['line']))
    return inside


def _setting_label(mode, window, strides, padding, ceil_mode, count_include_pad):
    """A setting in two short lines, e.g. 'max, pool_size (2, 3)' and 'strides (2, 3),
    padding (1, 2)', with ceil_mode and count_include_pad=False when they are set."""
    flags = (['ceil_mode'] if ceil_mode else []) + (
        ['count_include_pad=False'] if mode == 'avg' and not count_include_pad else [])
    return (f'{mode}, pool_size {window}' + ''.join(f', {f}' for f in flags)
            + f'\nstrides {strides}, padding {padding}')


def draw_setting(X, pool_size, mode='max', *, strides=1, padding=0, ceil_mode=False,
                 count_include_pad=True, position=(0, 0)):
    """Draw pooling the 2-D X with any setting, ceil mode included: every window on the
    padded input, the output, and the arithmetic of output `position` with its divisor."""
    X = to_numpy(X)
    window, strides, padding = _pairs(pool_size, strides, padding)
    Y = pool2d(X, window, mode, strides=strides, padding=padding, ceil_mode=ceil_mode,
               count_include_pad=count_include_pad)
    i, j = position
    if not (0 <= i < Y.shape[0] and 0 <= j < Y.shape[1]):
        raise ValueError(f'position must be an output cell of the {Y.shape} output, got '
                         f'{tuple(position)}')
    rows, cols = _extent(X.shape, Y.shape, window, strides, padding)
    width, height = cols + 2 + Y.shape[1], max(rows, Y.shape[0]) + 2.4
    fig, axes = _figure(width, height)
    ax = axes[0, 0]
    fontsize = _fontsize([X, Y], ax)
    inside = _draw_setting(ax, X, Y, window, strides, padding, -0.8, fontsize, (i, j))
    ax.text(cols / 2, -0.45, 'input, padded', ha='center', fontsize=12)
    ax.text(cols + 2 + Y.shape[1] / 2, -0.45, 'output', ha='center', fontsize=12)
    divisor = 1
    if mode == 'avg':  # the divisor pool2d uses: poolbook.pooling.divisor, per axis
        from poolbook.pooling import divisor as divisor_of
        div = [np.broadcast_to(divisor_of(X.shape[a], window[a], strides[a], padding[a],
                                          Y.shape[a], count_include_pad), Y.shape[a])
               for a in (0, 1)]
        divisor = int(div[0][i]) * int(div[1][j])
    ax.text(0, -0.8 - max(rows, Y.shape[0]) - 0.7,
            _arithmetic(mode, inside, divisor, Y[i, j]), ha='left', va='center',
            fontsize=13, color=COLORS['text'], gid='equation')
    return fig


def draw_small_multiples(cases, columns=2):
    """Draw several settings side by side, one panel each: the setting as its title,
    every window on the padded input and the output, or, for a setting pool2d refuses,
    the input and pool2d's message. `cases` is a list of (X, arguments of pool2d)."""
    import textwrap
    if not all(isinstance(case, tuple) and len(case) == 2 for case in cases):
        raise TypeError("cases must be a list of (X, arguments of pool2d) pairs")
    panels = []
    for X, arguments in cases:
        X = to_numpy(X)
        args = {**dict(mode='max', strides=1, padding=0, ceil_mode=False,
                       count_include_pad=True), **arguments}
        window, strides, padding = _pairs(args['pool_size'], args['strides'],
                                          args['padding'])
        label = _setting_label(args['mode'], window, strides, padding, args['ceil_mode'],
                               args['count_include_pad'])
        try:
            Y = pool2d(X, **args)
        except ValueError as error:  # what the package says, wrapped to the panel
            panels.append((X, None, window, strides, padding, label, str(error)))
            continue
        panels.append((X, Y, window, strides, padding, label, None))
    extents = [_extent(X.shape, X.shape if Y is None else Y.shape, w, s,
                       (0, 0) if Y is None else p)
               for X, Y, w, s, p, _, _ in panels]
    width = max(cols + 2 + (X.shape[1] if Y is None else Y.shape[1])
                for (X, Y, *_), (_, cols) in zip(panels, extents))
    height = max(rows for rows, _ in extents) + 3.2
    # 7 inches across (700 pixels at 100 dpi), the printed page's text width (A4 with
    # 12 mm margins is 703 CSS pixels), whatever the number of panels; the numbers may
    # fill 85% of a cell, not 75%: the cells are small.
    fig, axes = _figure(width, height, -(-len(panels) // columns), columns,
                        cell=7 / (columns * width))
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99, wspace=0.1,
                        hspace=0.1)
    arrays = [v for X, Y, *_ in panels for v in (X, Y) if v is not None]
    fontsize = min(11, _fontsize(arrays, axes[0, 0], largest=20) * 0.85 / 0.75)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    for ax, (X, Y, window, strides, padding, label, message) in zip(axes.ravel(), panels):
        ax.text(0, 0, label, ha='left', va='top', fontsize=10, color=COLORS['text'],
                linespacing=1.3, gid='setting')
        if Y is None:
            _draw_grid(ax, X, 0, -2, 'input', COLORS['input'], fontsize=fontsize)
            ax.text(0, -2.4 - X.shape[0], textwrap.fill('refused: ' + message, 50),
                    ha='left', va='top', fontsize=9, color='#b00020', gid='refused')
            continue
        _draw_setting(ax, X, Y, window, strides, padding, -2, fontsize)
        rows = _extent(X.shape, Y.shape, window, strides, padding)[0]
        ax.text(0, -2.4 - max(rows, Y.shape[0]), f'output {Y.shape[0]} × {Y.shape[1]}',
                ha='left', va='top', fontsize=10, color=COLORS['text'], gid='shape')
    return fig


# ---------------------------------------------------------------- pooling regions (ch. 9, 10)

from poolbook import regions  # noqa: E402  (drawn with the package's own geometry)


def _show_map(ax, image, title):
    """Show a 2-D map in grey, cell (r, c) covering [c, c + 1) x [r, r + 1)."""
    ax.imshow(image, cmap='gray', extent=(0, image.shape[1], image.shape[0], 0),
              interpolation='nearest', gid='map')
    ax.set_title(title, fontsize=11)
    ax.set_xticks([])
    ax.set_yticks([])


def _bin_patch(ax, x0, x1, y0, y1, k, gid):
    """A translucent bin [x0, x1) x [y0, y1) in the k-th window colour, outlined."""
    color = WINDOW_COLORS[k % len(WINDOW_COLORS)]
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=color, alpha=0.35,
                           edgecolor=color, linewidth=1.5, gid=gid))


def draw_roi_sampling(image, box, pooled_size, *, spatial_scale=1.0, sample_ratio=-1,
                      margin=2):
    """Draw one box over a map three ways: the cells ROI pooling's bins take, and the
    bins and sample points of ROIAlign without and with aligned=True. `box` is
    [x1, y1, x2, y2] in image coordinates; the map is shown cell by cell."""
    check_input(image, (2,), 'image')
    image = to_numpy(image, 'image')
    p_h, p_w = as_pair(pooled_size, 'pooled_size', 1)
    f32 = np.dtype(np.float32)
    x1, y1, x2, y2 = np.asarray(box, np.float32) * np.float32(spatial_scale)
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.4), dpi=100, facecolor='white')
    titles = ['ROI pooling (rounded to cells)', 'ROIAlign, aligned=False',
              'ROIAlign, aligned=True']
    for ax, title in zip(axes, titles):
        _show_map(ax, image, title)
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, linestyle='--',
                               linewidth=2, edgecolor='#ffd966', gid='box'))
        ax.set_xlim(max(0, x1 - margin), min(image.shape[1], x2 + margin))
        ax.set_ylim(min(image.shape[0], y2 + margin), max(0, y1 - margin))
    c = regions.round_half_away(np.array([x1, y1, x2, y2])).astype(np.int64)
    rows = regions.roi_pool_bins(c[1], c[3], p_h, image.shape[0], f32)
    cols = regions.roi_pool_bins(c[0], c[2], p_w, image.shape[1], f32)
    for i in range(p_h):
        for j in range(p_w):
            _bin_patch(axes[0], cols[0][j], cols[1][j], rows[0][i], rows[1][i],
                       i * p_w + j, f'bin {i} {j}')
    for ax, aligned in zip(axes[1:], (False, True)):
        offset = np.float32(0.5 if aligned else 0)  # index coordinates; a cell's centre
        axis = {}                                    # is drawn at index + 1/2
        for name, lo, hi, out in (('y', y1, y2, p_h), ('x', x1, x2, p_w)):
            start = lo - offset
            size, grid = regions.align_grid(start, hi - offset, out, sample_ratio,
                                            aligned, f32)
            at = regions.sample_points(start, size, grid, np.arange(out * grid), f32)
            axis[name] = (start + 0.5, size, grid, at + 0.5)
        (y0, h, _, ys), (x0, w, _, xs) = axis['y'], axis['x']
        for i in range(p_h):
            for j in range(p_w):
                _bin_patch(ax, x0 + j * w, x0 + (j + 1) * w, y0 + i * h, y0 + (i + 1) * h,
                           i * p_w + j, f'bin {i} {j}')
        grid_y, grid_x = np.meshgrid(ys, xs, indexing='ij')
        ax.scatter(grid_x.ravel(), grid_y.ravel(), s=14, color='#cc0000', zorder=3,
                   gid='samples')
    fig.tight_layout()
    plt.close(fig)
    return fig


def plot_tracking(xs, truth, curves, xlabel, ylabel):
    """Plot one line with markers per entry of `curves` (name: values at the points xs)
    and `truth` (label: values) as a dashed black line on top of them, so that it stays
    visible where a curve equals it."""
    _series(xs, curves, 'curves')
    _series(xs, truth, 'truth')
    if len(truth) != 1:
        raise ValueError(f"truth must hold one line (label: values), got {len(truth)}")
    return _plot_lines(xs, curves, xlabel, ylabel, truth)


def draw_receptive_fields(image, fields, cell=None):
    """Draw an image with one outlined rectangle per entry of `fields` (label: first
    row, last row, first column, last column, inclusive), and optionally the centre of
    the output cell they belong to, `cell` = (row, column) in input pixels."""
    check_input(image, (2, 3), 'image')  # (H, W), or (H, W, 3) in colour
    image = to_numpy(image, 'image')
    fig, ax = plt.subplots(figsize=(8.4, 5.2), dpi=100, facecolor='white')
    ax.imshow(image, cmap=None if image.ndim == 3 else 'gray', interpolation='nearest',
              extent=(0, image.shape[1], image.shape[0], 0), gid='image')
    for k, (label, (r0, r1, c0, c1)) in enumerate(fields.items()):
        color = WINDOW_COLORS[k % len(WINDOW_COLORS)]
        ax.add_patch(Rectangle((c0, r0), c1 - c0 + 1, r1 - r0 + 1, fill=False,
                               linewidth=2.2, edgecolor=color, label=label,
                               gid=f'field {label}'))
    if cell is not None:
        ax.plot(cell[1], cell[0], marker='+', markersize=14, color='white',
                markeredgewidth=2.5, gid='cell')
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc='upper left', bbox_to_anchor=(1.02, 1), frameon=False, fontsize=10)
    fig.tight_layout()
    plt.close(fig)
    return fig


# --- chapter 7: runs over seeds, and the aliasing of the photograph ---------------------

def plot_runs(panels, xlabel, log=()):
    """One panel per entry of `panels` (title: {name: runs}), each run a row of values
    at x = 1, 2, ...: per name, a line through the mean of the runs and a band from their
    smallest to their largest value. Panels whose title is in `log` get a log scale."""
    _panels(panels)
    fig, axes = plt.subplots(1, len(panels), squeeze=False, dpi=100, facecolor='white',
                             figsize=(4.8 * len(panels), 3.6))
    for ax, (title, curves) in zip(axes[0], panels.items()):
        for (name, runs), marker in zip(curves.items(), 'osD^v<>'):
            runs = np.asarray(runs, dtype=np.float64)
            xs = np.arange(1, runs.shape[1] + 1)
            line, = ax.plot(xs, runs.mean(axis=0), marker=marker, markersize=4,
                            markevery=max(1, len(xs) // 10), linewidth=1.8, label=name,
                            gid=f'{title} mean {name}')
            ax.fill_between(xs, runs.min(axis=0), runs.max(axis=0), alpha=0.2,
                            color=line.get_color(), linewidth=0, gid=f'{title} band {name}')
        if title in log:
            ax.set_yscale('log')
        ax.set_title(title, fontsize=11)
        ax.set_xlabel(xlabel)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(True, which='both' if title in log else 'major', alpha=0.4)
    axes[0][0].legend(frameon=False, fontsize=9)
    fig.tight_layout()
    plt.close(fig)
    return fig


def plot_seeds(panels):
    """One panel per entry of `panels` (title: {name: values, one per seed}): every
    value as a dot in its name's column, and the mean as a short bar."""
    _panels(panels)
    fig, axes = plt.subplots(1, len(panels), squeeze=False, dpi=100, facecolor='white',
                             figsize=(4.8 * len(panels), 3.6))
    for ax, (title, groups) in zip(axes[0], panels.items()):
        for k, (name, values) in enumerate(groups.items()):
            values = np.asarray(values, dtype=np.float64)
            ax.plot(np.full(len(values), k), values, 'o', color=WINDOW_COLORS[k % 10],
                    alpha=0.75, gid=f'{title} seeds {name}')
            ax.plot([k - 0.3, k + 0.3], [values.mean()] * 2, color=COLORS['line'],
                    linewidth=2, gid=f'{title} mean {name}')
        ax.set_xticks(range(len(groups)), list(groups), rotation=20, fontsize=9)
        ax.set_xlim(-0.6, len(groups) - 0.4)
        ax.set_title(title, fontsize=11)
        ax.grid(True, axis='y', alpha=0.4)
    fig.tight_layout()
    plt.close(fig)
    return fig


def plot_aliasing(families, xlabel, ylabel):
    """One line per family (name: {label: (x, y)}), each point marked with its label:
    here a layer's detail kept (x) against its aliasing (y), one point per filter size."""
    check_mapping(families, 'families', 'name: {label: (x, y)}')
    for name, points in families.items():
        check_mapping(points, f'families[{name!r}]', 'label: (x, y)')
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100, facecolor='white')
    for (name, points), marker in zip(families.items(), 'osD^v<>'):
        xs, ys = zip(*points.values())
        ax.plot(xs, ys, marker=marker, linewidth=1.8, label=name, gid=f'line {name}')
        for label, (x, y) in points.items():
            ax.annotate(str(label), (x, y), textcoords='offset points', xytext=(5, 4),
                        fontsize=9, gid=f'label {name} {label}')
    return _finish_lines(fig, ax, xlabel, ylabel)


# --- chapter 10: class activation maps --------------------------------------------------

def draw_class_activation_maps(images, cams, titles):
    """Each image (H, W) in grey, above the same image with its class activation map
    drawn over it. The map (h, w) is upsampled to the image by repeating each cell over
    the (H / h) x (W / w) block of pixels it lies over (nearest neighbour); its colours run
    from blue (negative) through white (0) to red (positive), symmetric about 0 for each
    map."""
    images = [to_numpy(image, 'images') for image in images]
    cams = [to_numpy(cam, 'cams') for cam in cams]
    fig, axes = plt.subplots(2, len(images), squeeze=False, dpi=100, facecolor='white',
                             figsize=(1.7 * len(images), 3.8))
    for k, (image, cam, title) in enumerate(zip(images, cams, titles)):
        (n_h, n_w), (h, w) = image.shape, cam.shape
        if n_h % h or n_w % w:
            raise ValueError(f"each image's sides must be multiples of its map's, got "
                             f"{image.shape} and {cam.shape}")
        big = np.repeat(np.repeat(cam, n_h // h, axis=0), n_w // w, axis=1)
        top = float(np.abs(cam).max()) or 1.0
        for ax in axes[:, k]:
            ax.imshow(image, cmap='gray_r', interpolation='nearest', gid=f'image {k}')
            ax.set_xticks([])
            ax.set_yticks([])
        axes[1, k].imshow(big, cmap='RdBu_r', vmin=-top, vmax=top, alpha=0.6,
                          interpolation='nearest', gid=f'map {k}')
        axes[0, k].set_title(title, fontsize=10)
    axes[0, 0].set_ylabel('input', fontsize=10)
    axes[1, 0].set_ylabel('CAM over it', fontsize=10)
    fig.tight_layout()
    plt.close(fig)
    return fig
