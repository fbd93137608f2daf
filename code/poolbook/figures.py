"""Every picture in the book, drawn with matplotlib while the notebooks run.

All figures share one visual language: input cells blue, padding grey and empty, the
pooling window orange, output cells green (the cell being computed darker), numbers
written in the cells, on an opaque white background so that they stay readable in the
book's dark mode. Each drawn cell carries a `gid` ('input 0 1', 'padding 0 0', 'window',
'output 0 0', ...) so that tests can check what a figure shows without comparing pixels.
The numbers come from `poolbook.pool2d`: a figure draws what the package computes.
"""
import hashlib
import re

import matplotlib.pyplot as plt
from matplotlib.animation import FuncAnimation
from matplotlib.patches import FancyArrowPatch, Rectangle
import numpy as np

from poolbook._checks import as_pair
from poolbook.pooling import pool2d
from poolbook.variants import smooth_max_pool, softmax_pool

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


def _numpy(X):
    return X.asnumpy() if hasattr(X, 'asnumpy') else np.asarray(X)


def _fmt(value):
    """Write a cell's number compactly: 4 for 4.0, 2.5 for 2.5, 1.11 for 1.1111."""
    return f'{float(value):.3g}'


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
    if text:  # long numbers such as 1.11 get a smaller font to stay inside the cell
        ax.text(x + 0.5, y - 0.5, text, ha='center', va='center', color=COLORS['text'],
                fontsize=fontsize if len(text) <= 2 else 0.72 * fontsize, gid=gid)


def _draw_grid(ax, values, x0, y0, name, color, highlight=(), highlight_color=None):
    """Draw the 2-D array `values` as numbered cells, top-left at (x0, y0)."""
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            hot = (i, j) in highlight
            _cell(ax, x0 + j, y0 - i, f'{name} {i} {j}',
                  highlight_color if hot else color, _fmt(values[i, j]))


def _draw_padded_input(ax, X, x0, y0, window, strides, padding, position, fontsize=13):
    """Draw X inside its ring of padding, the window at output `position` shaded; return
    the input values under the window."""
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = window, strides, padding
    top, left = position[0] * s_h, position[1] * s_w  # window corner, padded coordinates
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
    ax.add_patch(Rectangle((x0 + left, y0 - top - k_h), k_w, k_h, fill=False, linewidth=3,
                           edgecolor=COLORS['window_edge'], gid='window'))
    return inside


def _equation(mode, inside, divisor, value):
    """The arithmetic of one output cell, e.g. 'max(0, 1, 3, 4) = 4'."""
    if mode == 'max':
        return f"max({', '.join(_fmt(v) for v in inside)}) = {_fmt(value)}"
    return f"({' + '.join(_fmt(v) for v in inside)}) / {divisor} = {_fmt(value)}"


def _pairs(pool_size, strides, padding):
    return (as_pair(pool_size, 'pool_size', 1), as_pair(strides, 'strides', 1),
            as_pair(padding, 'padding', 0))


def _draw_step(ax, X, Y, window, strides, padding, mode, position, y0, done=None,
               channel=None):
    """One step of pooling the 2-D X into Y, with its top at y0: the padded input with the
    window at output `position`, an arrow, the output (only its first `done` cells, in
    reading order, written when `done` is given), titles above and the arithmetic below."""
    in_h, in_w = X.shape[0] + 2 * padding[0], X.shape[1] + 2 * padding[1]
    out_x = in_w + 2                                # the output starts 2 cells right of the input
    inside = _draw_padded_input(ax, X, 0, y0, window, strides, padding, position)
    tag = '' if channel is None else f' {channel}'
    for n, (i, j) in enumerate(np.ndindex(*Y.shape)):
        color = COLORS['result'] if (i, j) == tuple(position) else COLORS['output']
        _cell(ax, out_x + j, y0 - i, f'output{tag} {i} {j}', color,
              _fmt(Y[i, j]) if done is None or n < done else '')
    mid = y0 - in_h / 2
    ax.add_patch(FancyArrowPatch((in_w + 0.25, mid), (out_x - 0.25, mid), arrowstyle='-|>',
                                 mutation_scale=18, color=COLORS['line']))
    prefix = '' if channel is None else f'channel {channel}: '
    ax.text(in_w / 2, y0 + 0.35, prefix + 'input', ha='center', fontsize=12)
    ax.text(out_x + Y.shape[1] / 2, y0 + 0.35, prefix + 'output', ha='center', fontsize=12)
    ax.text(0, y0 - max(in_h, Y.shape[0]) - 0.7,
            _equation(mode, inside, window[0] * window[1], Y[tuple(position)]),
            ha='left', va='center', fontsize=13, color=COLORS['text'], gid=f'equation{tag}')


def _step_size(X_hw, Y_hw, padding):
    """Width and height, in cells, of one step drawn by _draw_step."""
    in_h, in_w = X_hw[0] + 2 * padding[0], X_hw[1] + 2 * padding[1]
    return in_w + 2 + Y_hw[1], max(in_h, Y_hw[0]) + 2.4  # title line, grids, equation line


def draw_pooling(X, pool_size, mode='max', *, strides=1, padding=0, position=(0, 0)):
    """Draw one step of pooling X, shaped (H, W) or (C, H, W): the (padded) input with the
    window at output `position`, the output it fills, and the arithmetic; a row per channel."""
    X = _numpy(X)
    X3 = X[None] if X.ndim == 2 else X
    window, strides, padding = _pairs(pool_size, strides, padding)
    Y3 = pool2d(X3, window, mode, strides=strides, padding=padding)
    width, row_h = _step_size(X3.shape[1:], Y3.shape[1:], padding)
    fig, axes = _figure(width, row_h * X3.shape[0])
    for c in range(X3.shape[0]):
        _draw_step(axes[0, 0], X3[c], Y3[c], window, strides, padding, mode, position,
                   y0=-c * row_h - 0.8, channel=None if X3.shape[0] == 1 else c)
    return fig


def draw_window_positions(X, pool_size, mode='max', *, strides=1, padding=0):
    """Draw every position of the window on the padded 2-D input X: one panel per output
    cell Y[i, j], laid out like the output, each titled with the value it produces."""
    X = _numpy(X)
    window, strides, padding = _pairs(pool_size, strides, padding)
    Y = pool2d(X, window, mode, strides=strides, padding=padding)
    in_h, in_w = X.shape[0] + 2 * padding[0], X.shape[1] + 2 * padding[1]
    fig, axes = _figure(in_w, in_h + 1, *Y.shape, cell=0.42)
    for (i, j), ax in np.ndenumerate(axes):
        _draw_padded_input(ax, X, 0, -1, window, strides, padding, (i, j), fontsize=10)
        ax.text(in_w / 2, -0.45, f'Y[{i}, {j}] = {_fmt(Y[i, j])}', ha='center', va='center',
                fontsize=11, color=COLORS['text'], gid=f'title {i} {j}')
    return fig


def draw_arrays(arrays, columns=None):
    """Draw a few small 2-D arrays as numbered grids, each under its title; nonzero cells
    are darker."""
    names = list(arrays)
    columns = columns or len(names)
    values = {name: _numpy(arrays[name]) for name in names}
    width = max(v.shape[1] for v in values.values())
    height = max(v.shape[0] for v in values.values()) + 1
    fig, axes = _figure(width, height, -(-len(names) // columns), columns)
    for ax, name in zip(axes.ravel(), names):
        v = values[name]
        hot = [tuple(ij) for ij in np.argwhere(v != 0)]
        _draw_grid(ax, v, 0, -1, name, COLORS['output'], hot, COLORS['result'])
        ax.text(width / 2, -0.45, name, ha='center', va='center', fontsize=12)
    return fig


def plot_timings(sizes, seconds, xlabel='input cells (H x W)'):
    """Plot time against input size on log-log axes: `seconds` maps a method's name to
    its times, one per size (None where it was not measured)."""
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
    X = _numpy(X)
    p_h, p_w = as_pair(pool_size, 'pool_size', 1)
    top = pool2d(X, (p_h, p_w), strides=(p_h, p_w))
    panels = {'input': X, **{name: _numpy(g) for name, g in gradients.items()}}
    fig, axes = _figure(X.shape[1] + 1, X.shape[0] + 1, 1, len(panels))
    for ax, (name, v) in zip(axes.ravel(), panels.items()):
        if name == 'input':  # the winners: cells equal to their window's maximum
            hot = [(i, j) for i, j in np.ndindex(v.shape) if i // p_h < top.shape[0]
                   and j // p_w < top.shape[1] and v[i, j] == top[i // p_h, j // p_w]]
            _draw_grid(ax, v, 0.5, -1, name, COLORS['input'], hot, COLORS['window'])
        else:
            hot = [tuple(ij) for ij in np.argwhere(v != 0)]
            _draw_grid(ax, v, 0.5, -1, name, COLORS['output'], hot, COLORS['result'])
        for a, b in np.ndindex(top.shape):
            ax.add_patch(Rectangle((0.5 + b * p_w, -1 - (a + 1) * p_h), p_w, p_h, fill=False,
                                   linewidth=3, edgecolor=COLORS['window_edge'],
                                   gid=f'{name} window {a} {b}'))
        ax.text(0.5 + X.shape[1] / 2, -0.45, name, ha='center', va='center', fontsize=12)
    return fig


def plot_beta_sweep(window, betas):
    """Plot softmax pooling and the smooth maximum of one 2-D window against beta (log
    axis), with the window's average and maximum as dashed levels."""
    window = _numpy(window)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100, facecolor='white')
    for name, pool, color in (('softmax pooling', softmax_pool, COLORS['window_edge']),
                              ('smooth maximum', smooth_max_pool, COLORS['line'])):
        values = [pool(window, window.shape, beta).item() for beta in betas]
        ax.plot(betas, values, color=color, linewidth=2.5, label=name, gid=f'line {name}')
    for name, mode, below in (('maximum', 'max', False), ('average', 'avg', True)):
        level = pool2d(window, window.shape, mode).item()
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


# matplotlib's player draws its buttons with Font Awesome icons loaded from a CDN, the one
# remote asset it needs; plain characters work offline and in any font.
_PLAYER_ICONS = {'fa-minus': '\u2212', 'fa-fast-backward': '|\u25c0\u25c0',
                 'fa-step-backward': '|\u25c0', 'fa-play fa-flip-horizontal': '\u25c0',
                 'fa-pause': '||', 'fa-play': '\u25b6', 'fa-step-forward': '\u25b6|',
                 'fa-fast-forward': '\u25b6\u25b6|', 'fa-plus': '+'}


def _offline_player(html):
    """matplotlib's JavaScript player without remote assets, and with an element id that
    depends only on the content, so that the same animation always gives the same HTML."""
    html = re.sub(r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome[^"]*">\s*', '', html)
    for icon, text in _PLAYER_ICONS.items():
        html = html.replace(f'<i class="fa {icon}"></i>', text)
    random_id = re.search(r'_anim_img([0-9a-f]{32})', html).group(1)
    stable_id = hashlib.sha1(html.replace(random_id, '').encode()).hexdigest()[:32]
    return html.replace(random_id, stable_id)


def animate_pooling(X, pool_size, mode='max', *, strides=1, padding=0):
    """The window sliding over the 2-D input X and filling the output, one frame per
    output cell, as HTML that plays in a static page (matplotlib's JavaScript player)."""
    from IPython.display import HTML
    X = _numpy(X)
    window, strides, padding = _pairs(pool_size, strides, padding)
    Y = pool2d(X, window, mode, strides=strides, padding=padding)
    width, height = _step_size(X.shape, Y.shape, padding)
    fig, axes = _figure(width, height)
    ax = axes[0, 0]
    positions = list(np.ndindex(*Y.shape))

    def draw(step):  # frame `step`: the window at output `step`, outputs so far written
        ax.clear()
        _frame(ax, width, height)
        _draw_step(ax, X, Y, window, strides, padding, mode, positions[step], y0=-0.8,
                   done=step + 1)

    animation = FuncAnimation(fig, draw, frames=len(positions), interval=1200)
    return HTML(_offline_player(animation.to_jshtml(default_mode='loop')))
