"""The figures of chapters 9 and 10 (poolbook.figures): what they draw (the box, the
bins, the sample points, the fields), worked out by hand, not their pixels."""
import numpy as np

from poolbook.figures import draw_receptive_fields, draw_roi_sampling


def patches(ax, prefix):
    """gid: (x0, x1, y0, y1) of the rectangles whose gid starts with `prefix`."""
    return {p.get_gid(): (p.get_x(), p.get_x() + p.get_width(), p.get_y(),
                          p.get_y() + p.get_height())
            for p in ax.patches if (p.get_gid() or '').startswith(prefix)}


def test_roi_sampling_draws_the_bins_and_samples_by_hand():
    image = np.arange(100.0).reshape(10, 10)
    fig = draw_roi_sampling(image, [2, 2, 8, 6], 2, sample_ratio=2)
    pool, plain, aligned = fig.axes
    assert [ax.get_title() for ax in fig.axes] == [
        'ROI pooling (rounded to cells)', 'ROIAlign, aligned=False', 'ROIAlign, aligned=True']
    for ax in fig.axes:
        assert patches(ax, 'box') == {'box': (2, 8, 2, 6)}
        assert np.array_equal(ax.images[0].get_array(), image)
    # ROI pooling: columns 2..8 (7 cells) in bins of 3.5: [2, 6), [5, 9); rows 2..6
    # (5 cells) in bins of 2.5: [2, 5), [4, 7).
    assert patches(pool, 'bin') == {'bin 0 0': (2, 6, 2, 5), 'bin 0 1': (5, 9, 2, 5),
                                    'bin 1 0': (2, 6, 4, 7), 'bin 1 1': (5, 9, 4, 7)}
    # aligned=True: bins split the box itself, [2, 5) and [5, 8) across, [2, 4) and
    # [4, 6) down; two samples per bin and axis at a quarter and three quarters.
    assert patches(aligned, 'bin') == {'bin 0 0': (2, 5, 2, 4), 'bin 0 1': (5, 8, 2, 4),
                                       'bin 1 0': (2, 5, 4, 6), 'bin 1 1': (5, 8, 4, 6)}
    (dots,) = [c for c in aligned.collections if c.get_gid() == 'samples']
    xs, ys = dots.get_offsets().T
    assert sorted(set(xs.round(6))) == [2.75, 4.25, 5.75, 7.25]
    assert sorted(set(ys.round(6))) == [2.5, 3.5, 4.5, 5.5]
    # aligned=False: everything half a cell to the right and down of the box.
    assert patches(plain, 'bin')['bin 0 0'] == (2.5, 5.5, 2.5, 4.5)
    (dots,) = [c for c in plain.collections if c.get_gid() == 'samples']
    assert sorted(set(dots.get_offsets()[:, 0].round(6))) == [3.25, 4.75, 6.25, 7.75]


def test_roi_sampling_adaptive_grid_and_scale():
    # A box of 8 x 4 cells after the scale 1/2, 2 x 2 bins: 4 x 2 cells per bin, so the
    # adaptive grid takes ceil(2) = 2 rows and ceil(4) = 4 columns of samples per bin.
    fig = draw_roi_sampling(np.zeros((12, 12)), [4, 4, 20, 12], 2, spatial_scale=0.5)
    (dots,) = [c for c in fig.axes[2].collections if c.get_gid() == 'samples']
    assert len(dots.get_offsets()) == (2 * 2) * (2 * 4)
    assert patches(fig.axes[2], 'box') == {'box': (2, 10, 2, 6)}


def test_receptive_fields_draws_one_rectangle_per_field():
    fig = draw_receptive_fields(np.zeros((20, 30)), {'a': (0, 4, 2, 9), 'b': (3, 3, 5, 5)},
                                cell=(2, 5))
    (ax,) = fig.axes
    assert patches(ax, 'field') == {'field a': (2, 10, 0, 5), 'field b': (5, 6, 3, 4)}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['a', 'b']
    (marker,) = [line for line in ax.lines if line.get_gid() == 'cell']
    assert list(marker.get_xdata()) == [5] and list(marker.get_ydata()) == [2]


def test_tracking_draws_the_truth_dashed_on_top_of_the_curves():
    from poolbook.figures import plot_tracking
    xs = [0, 0.5, 1]
    fig = plot_tracking(xs, {'box': xs}, {'a': [0, 0, 1], 'b': [0, 0.5, 1]}, 'x', 'y')
    (ax,) = fig.axes
    lines = {line.get_gid(): line for line in ax.lines}
    assert list(lines) == ['line a', 'line b', 'line box']
    box = lines['line box']
    assert box.get_linestyle() == '--' and box.get_color() == 'black'
    assert box.get_zorder() > max(lines[k].get_zorder() for k in ('line a', 'line b'))
    assert list(box.get_ydata()) == xs and list(lines['line a'].get_ydata()) == [0, 0, 1]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['a', 'b', 'box']
