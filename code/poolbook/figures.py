"""Every picture in the book, drawn with matplotlib while the notebooks run.

All figures share one visual language: input cells blue, the pooling window orange,
output cells green (the cell being computed darker), numbers written in the cells, on an
opaque white background so that they stay readable in the book's dark mode. Each drawn
cell carries a `gid` ('input 0 1', 'window', 'output 0 0', ...) so that tests can check
what a figure shows without comparing pixels.
"""
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, Rectangle
import numpy as np

COLORS = {
    'input': '#cfe2f3',
    'window': '#f6b26b',
    'output': '#d9ead3',
    'result': '#93c47d',
    'line': '#333333',
    'text': '#111111',
}


def _fmt(value):
    """Write a cell's number compactly: 4 for 4.0, 2.5 for 2.5."""
    return f'{float(value):g}'


def _draw_grid(ax, values, x0, y0, name, color, highlight=(), highlight_color=None):
    """Draw the 2-D array `values` as a grid of numbered unit cells, top-left at (x0, y0)."""
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            hot = (i, j) in highlight
            cell = Rectangle((x0 + j, y0 - i - 1), 1, 1, linewidth=1.2,
                             facecolor=highlight_color if hot else color,
                             edgecolor=COLORS['line'], gid=f'{name} {i} {j}')
            ax.add_patch(cell)
            ax.text(x0 + j + 0.5, y0 - i - 0.5, _fmt(values[i, j]), ha='center',
                    va='center', fontsize=13, color=COLORS['text'], gid=f'{name} {i} {j}')


def draw_pooling(X, pool_size, mode='max', position=(0, 0)):
    """Draw one step of pooling X: the window at output `position` and the output it fills."""
    from poolbook import pool2d  # imported here: the figure draws what the package computes
    X = X.asnumpy() if hasattr(X, 'asnumpy') else np.asarray(X)
    Y = pool2d(X, pool_size, mode)
    Y = Y.asnumpy() if hasattr(Y, 'asnumpy') else Y
    p_h, p_w = (pool_size, pool_size) if np.isscalar(pool_size) else pool_size
    i, j = position
    window = X[i: i + p_h, j: j + p_w]
    cells = [(a, b) for a in range(i, i + p_h) for b in range(j, j + p_w)]

    height = X.shape[0]
    gap = 2.0
    out_x = X.shape[1] + gap
    fig, ax = plt.subplots(figsize=(0.75 * (out_x + Y.shape[1]) + 0.4, 0.75 * height + 1.0),
                           dpi=100, facecolor='white')
    _draw_grid(ax, X, 0, height, 'input', COLORS['input'], cells, COLORS['window'])
    ax.add_patch(Rectangle((j, height - i - p_h), p_w, p_h, fill=False, linewidth=3,
                           edgecolor='#b45f06', gid='window'))
    _draw_grid(ax, Y, out_x, height, 'output', COLORS['output'], [(i, j)], COLORS['result'])
    ax.add_patch(FancyArrowPatch((X.shape[1] + 0.25, height / 2), (out_x - 0.25, height / 2),
                                 arrowstyle='-|>', mutation_scale=18, color=COLORS['line']))
    name = 'max' if mode == 'max' else 'mean'
    ax.text(0, -0.6, f"{name}({', '.join(_fmt(v) for v in window.ravel())}) = {_fmt(Y[i, j])}",
            ha='left', va='center', fontsize=13, color=COLORS['text'], gid='equation')
    ax.text(X.shape[1] / 2, height + 0.35, 'input', ha='center', fontsize=12)
    ax.text(out_x + Y.shape[1] / 2, height + 0.35, 'output', ha='center', fontsize=12)
    ax.set_xlim(-0.2, out_x + Y.shape[1] + 0.2)
    ax.set_ylim(-1.1, height + 0.8)
    ax.set_aspect('equal')
    ax.axis('off')
    plt.close(fig)  # the notebook shows the returned figure once, not twice
    return fig


def draw_arrays(arrays, columns=None):
    """Draw a few small 2-D arrays as numbered grids, each under its title."""
    names = list(arrays)
    columns = columns or len(names)
    rows = -(-len(names) // columns)
    values = {name: arrays[name].asnumpy() if hasattr(arrays[name], 'asnumpy')
              else np.asarray(arrays[name]) for name in names}
    width = max(v.shape[1] for v in values.values())
    height = max(v.shape[0] for v in values.values())
    fig, axes = plt.subplots(rows, columns, squeeze=False, dpi=100, facecolor='white',
                             figsize=(columns * (0.5 * width + 0.4), rows * (0.5 * height + 0.7)))
    for ax, name in zip(axes.ravel(), names):
        v = values[name]
        hot = [tuple(ij) for ij in np.argwhere(v != 0)]
        _draw_grid(ax, v, 0, height, name, COLORS['output'], hot, COLORS['result'])
        ax.set_title(name, fontsize=12)
        ax.set_xlim(-0.1, width + 0.1)
        ax.set_ylim(-0.1, height + 0.1)
        ax.set_aspect('equal')
    for ax in axes.ravel():
        ax.axis('off')
    plt.close(fig)
    return fig
