"""The figures of chapter 6 (poolbook.figures): what they draw, not their pixels."""
import matplotlib.colors as mcolors

from poolbook.figures import WINDOW_COLORS, draw_adaptive_bins, plot_resolution


def bin_bars(fig):
    """Each bin bar's gid mapped to (left, right) in cells and its fill colour."""
    return {p.get_gid(): (round(p.get_x()), round(p.get_x() + p.get_width()),
                          mcolors.to_hex(p.get_facecolor()))
            for ax in fig.axes for p in ax.patches if ' bin ' in (p.get_gid() or '')}


def test_adaptive_bins_draws_the_cells_and_the_bins_it_is_given():
    fig = draw_adaptive_bins({'a': (7, [0, 2, 4], [3, 5, 7]), 'b': (3, [0, 1], [2, 3])})
    assert len(fig.axes) == 2
    bars = bin_bars(fig)
    assert bars == {'a bin 0': (0, 3, WINDOW_COLORS[0]), 'a bin 1': (2, 5, WINDOW_COLORS[1]),
                    'a bin 2': (4, 7, WINDOW_COLORS[2]), 'b bin 0': (0, 2, WINDOW_COLORS[0]),
                    'b bin 1': (1, 3, WINDOW_COLORS[1])}
    cells = [t.get_text() for t in fig.axes[0].texts if 'cell' in (t.get_gid() or '')]
    assert cells == [str(j) for j in range(7)]
    titles = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() is None]
    assert titles == ['a', 'b']


def test_resolution_plot_draws_one_step_line_per_network():
    fig = plot_resolution({'A': ([1, 2, 3], [32, 16, 1]), 'B': ([1, 2], [8, 4])})
    (ax,) = fig.axes
    lines = {line.get_gid(): line for line in ax.get_lines()}
    assert set(lines) == {'line A', 'line B'}
    assert list(lines['line A'].get_xdata()) == [1, 2, 3]
    assert list(lines['line A'].get_ydata()) == [32, 16, 1]
    assert ax.get_yscale() == 'log'
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['A', 'B']
    assert list(ax.get_yticks()) == [1, 2, 4, 8, 16, 32]
