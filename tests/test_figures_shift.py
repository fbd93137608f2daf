"""The figures of chapter 7 and chapter 1's marked shift figure (poolbook.figures): what
they draw (images, lines, outlined columns), not their pixels."""
import numpy as np
from mxnet import nd

from poolbook.figures import COLORS, draw_arrays, draw_maps, plot_curves


def test_draw_maps_shows_each_map_on_one_scale_under_its_title():
    maps = {'a': np.zeros((4, 5)), 'b': nd.array(np.full((2, 3), 2.0))}
    fig = draw_maps(maps)
    images = {im.get_gid(): im for ax in fig.axes for im in ax.images}
    assert set(images) == {'map a', 'map b'}
    assert np.array_equal(images['map a'].get_array(), np.zeros((4, 5)))
    assert np.array_equal(images['map b'].get_array(), np.full((2, 3), 2.0))
    assert all(im.get_clim() == (0.0, 2.0) for im in images.values())
    assert [ax.get_title() for ax in fig.axes] == ['a', 'b']


def test_draw_maps_leaves_spare_panels_empty():
    fig = draw_maps({'a': np.eye(3), 'b': np.eye(3), 'c': np.eye(3)}, columns=2)
    assert [len(ax.images) for ax in fig.axes] == [1, 1, 1, 0]


def test_plot_curves_draws_one_line_per_curve():
    fig = plot_curves([0, 1, 2], {'max': [0, 0.5, 0], 'blur': [0, 0.2, 0]}, 'shift', 'change')
    ax = fig.axes[0]
    lines = {line.get_gid(): line for line in ax.lines}
    assert set(lines) == {'line max', 'line blur'}
    assert list(lines['line max'].get_ydata()) == [0, 0.5, 0]
    assert list(lines['line blur'].get_xdata()) == [0, 1, 2]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ('shift', 'change')


def test_draw_arrays_outlines_the_marked_columns():
    fig = draw_arrays({'a': np.zeros((2, 4)), 'b': np.ones((2, 3))}, marked={'a': [2]})
    outlines = [p for ax in fig.axes for p in ax.patches
                if p.get_gid() and 'marked' in p.get_gid()]
    assert [p.get_gid() for p in outlines] == ['a marked column 2']
    box = outlines[0]
    assert (box.get_x(), box.get_width(), box.get_height()) == (2, 1, 2)
    assert box.get_y() == -3  # the grid's top is at y = -1, two rows down
    assert not box.get_fill()
    assert box.get_edgecolor()[:3] == tuple(int(COLORS['window_edge'][k:k + 2], 16) / 255
                                            for k in (1, 3, 5))


def test_plot_runs_draws_the_mean_and_the_band_of_the_runs():
    from poolbook.figures import plot_runs
    runs = np.array([[3.0, 2.0, 1.0], [5.0, 2.0, 3.0]])
    fig = plot_runs({'loss': {'a': runs}, 'acc': {'a': runs[:, :2]}}, 'epoch', log=['loss'])
    loss, acc = fig.axes
    (line,) = [ln for ln in loss.lines if ln.get_gid() == 'loss mean a']
    assert list(line.get_xdata()) == [1, 2, 3] and list(line.get_ydata()) == [4, 2, 2]
    (band,) = [c for c in loss.collections if c.get_gid() == 'loss band a']
    corners = band.get_paths()[0].vertices  # the band runs from the minima to the maxima
    assert {(x, y) for x, y in corners} >= {(1, 3), (1, 5), (2, 2), (3, 1), (3, 3)}
    assert loss.get_yscale() == 'log' and acc.get_yscale() == 'linear'
    assert [t.get_text() for t in loss.get_legend().get_texts()] == ['a']


def test_plot_seeds_draws_every_seed_and_the_mean():
    from poolbook.figures import plot_seeds
    fig = plot_seeds({'accuracy': {'max': [1.0, 2.0, 6.0], 'avg': [4.0, 4.0]}})
    (ax,) = fig.axes
    lines = {ln.get_gid(): ln for ln in ax.lines}
    assert list(lines['accuracy seeds max'].get_ydata()) == [1, 2, 6]
    assert set(lines['accuracy seeds avg'].get_xdata()) == {1}  # the second column
    assert list(lines['accuracy mean max'].get_ydata()) == [3, 3]
    assert [t.get_text() for t in ax.get_xticklabels()] == ['max', 'avg']


def test_plot_aliasing_marks_each_point_with_its_label():
    from poolbook.figures import plot_aliasing
    fig = plot_aliasing({'blur': {1: (1.0, 0.9), 3: (0.8, 0.4)}}, 'kept', 'aliasing')
    (ax,) = fig.axes
    (line,) = ax.lines
    assert line.get_gid() == 'line blur'
    assert list(line.get_xdata()) == [1.0, 0.8] and list(line.get_ydata()) == [0.9, 0.4]
    labels = {t.get_gid(): (t.get_text(), t.xy) for t in ax.texts}
    assert labels == {'label blur 1': ('1', (1.0, 0.9)), 'label blur 3': ('3', (0.8, 0.4))}
    assert (ax.get_xlabel(), ax.get_ylabel()) == ('kept', 'aliasing')
