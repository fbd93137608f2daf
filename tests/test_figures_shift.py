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
