"""The figures: what they draw (cells, numbers, the shaded window), not their pixels."""
import math

import matplotlib.colors as mcolors
import numpy as np
import pytest
from mxnet import nd

from poolbook.figures import (COLORS, WINDOW_COLORS, draw_arrays, draw_gradients,
                              draw_pooling, draw_window_positions, draw_windows,
                              plot_beta_sweep)

X3 = nd.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]])


def drawn(fig):
    """Map each gid to the texts and the fill colours of the artists that carry it."""
    found = {}
    for ax in fig.axes:
        for artist in ax.texts + ax.patches:
            gid = artist.get_gid()
            if gid is None:
                continue
            entry = found.setdefault(gid, {'text': [], 'fill': []})
            if hasattr(artist, 'get_text'):
                entry['text'].append(artist.get_text())
            elif artist.get_fill():
                entry['fill'].append(mcolors.to_hex(artist.get_facecolor()))
    return found


def test_pooling_figure_shows_input_output_window_and_equation():
    items = drawn(draw_pooling(X3, (2, 2)))
    for i in range(3):
        for j in range(3):
            assert items[f'input {i} {j}']['text'] == [str(3 * i + j)]
    window = {(0, 0), (0, 1), (1, 0), (1, 1)}
    for i in range(3):
        for j in range(3):
            expected = COLORS['window'] if (i, j) in window else COLORS['input']
            assert items[f'input {i} {j}']['fill'] == [expected]
    outputs = {(i, j): items[f'output {i} {j}']['text'] for i in range(2) for j in range(2)}
    assert outputs == {(0, 0): ['4'], (0, 1): ['5'], (1, 0): ['7'], (1, 1): ['8']}
    assert items['output 0 0']['fill'] == [COLORS['result']]
    assert items['output 1 1']['fill'] == [COLORS['output']]
    assert items['equation']['text'] == ['max(0, 1, 3, 4) = 4']
    assert 'window' in items


def test_window_outline_sits_on_the_window():
    fig = draw_pooling(X3, (2, 2), position=(1, 1))
    outline = [p for p in fig.axes[0].patches if p.get_gid() == 'window'][0]
    # The grid's top edge is at y = -0.8 (a title line above it); the window at output
    # (1, 1) starts one row down and one column right, and is 2 x 2: its lower-left corner
    # is at x = 1, y = -0.8 - 1 - 2.
    assert (outline.get_x(), outline.get_width(), outline.get_height()) == (1, 2, 2)
    assert abs(outline.get_y() - (-3.8)) < 1e-9
    assert drawn(fig)['equation']['text'] == ['max(4, 5, 7, 8) = 8']


def test_average_figure_writes_the_mean():
    items = drawn(draw_pooling(X3, (2, 2), 'avg'))
    assert items['equation']['text'] == ['(0 + 1 + 3 + 4) / 4 = 2']  # 8 / 4


def test_sum_figure_writes_a_sum_without_a_divisor():
    # MXNet's sum mode divides by nothing: 0 + 1 + 3 + 4 = 8 (it was drawn divided by 4),
    # in the animation's frames too (the same arithmetic), as the explorer writes it.
    items = drawn(draw_pooling(X3, (2, 2), 'sum'))
    assert items['equation']['text'] == ['0 + 1 + 3 + 4 = 8']


def test_figures_have_an_opaque_white_background():
    fig = draw_pooling(X3, (2, 2))
    assert mcolors.to_hex(fig.get_facecolor()) == '#ffffff'


def test_array_figure_titles_and_highlights():
    fig = draw_arrays({'a': np.array([[0, 1], [0, 0]]), 'b': np.array([[2, 0]])})
    assert [[t.get_text() for t in ax.texts if t.get_gid() is None] for ax in fig.axes] == [['a'], ['b']]
    items = drawn(fig)
    assert items['a 0 1']['fill'] == [COLORS['result']]
    assert items['a 0 0']['fill'] == [COLORS['output']]
    assert items['b 0 0']['text'] == ['2']


X16 = nd.arange(16).reshape((4, 4))


def test_padded_pooling_figure_draws_the_padding_ring_empty():
    items = drawn(draw_pooling(X16, 3, strides=2, padding=1))
    padding = [gid for gid in items if gid.startswith('padding')]
    assert len(padding) == 6 * 6 - 16  # the ring around a 4x4 input, padding 1
    assert all(items[gid]['text'] == [] and items[gid]['fill'] == [COLORS['padding']]
               for gid in padding)
    # Window at output (0, 0) covers padded rows/columns 0..2: input cells 0, 1, 4, 5.
    shaded = {gid for gid in items if gid.startswith('input')
              and items[gid]['fill'] == [COLORS['window']]}
    assert shaded == {'input 0 0', 'input 0 1', 'input 1 0', 'input 1 1'}
    assert items['equation']['text'] == ['max(0, 1, 4, 5) = 5']  # the source's first output


def test_average_with_padding_divides_by_the_whole_window():
    items = drawn(draw_pooling(X16, 3, 'avg', strides=2, padding=1))
    # (0 + 1 + 4 + 5) / 9 = 1.11: MXNet's default counts the padding in the divisor.
    assert items['equation']['text'] == ['(0 + 1 + 4 + 5) / 9 = 1.11']


def test_window_positions_one_panel_per_output_cell():
    # The source: window 3, padding 1, stride 2 on 0..15 gives [[5, 7], [13, 15]].
    fig = draw_window_positions(X16, 3, strides=2, padding=1)
    assert len(fig.axes) == 4
    titles = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid().startswith('title')]
    assert titles == ['Y[0, 0] = 5', 'Y[0, 1] = 7', 'Y[1, 0] = 13', 'Y[1, 1] = 15']
    outlines = [(p.get_x(), p.get_y()) for ax in fig.axes for p in ax.patches
                if p.get_gid() == 'window']
    # Panels start at y = -1; the window's top row moves 2 cells (the stride) per step.
    assert outlines == [(0, -4), (2, -4), (0, -6), (2, -6)]


def test_rectangular_window_positions():
    # The source: window (2, 3), padding (1, 2), strides (2, 3) gives [[0, 3], [8, 11], [12, 15]].
    fig = draw_window_positions(X16, (2, 3), strides=(2, 3), padding=(1, 2))
    assert len(fig.axes) == 6
    titles = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid().startswith('title')]
    assert [t.split(' = ')[1] for t in titles] == ['0', '3', '8', '11', '12', '15']
    sizes = {(p.get_width(), p.get_height()) for ax in fig.axes for p in ax.patches
             if p.get_gid() == 'window'}
    assert sizes == {(3, 2)}


def test_two_channels_are_drawn_as_two_rows_with_their_own_outputs():
    X = nd.concat(X16.reshape((1, 4, 4)), X16.reshape((1, 4, 4)) + 1, dim=0)
    items = drawn(draw_pooling(X, 3, strides=2, padding=1))
    assert items['output 0 0 0']['text'] == ['5'] and items['output 1 0 0']['text'] == ['6']
    assert items['equation 0']['text'] == ['max(0, 1, 4, 5) = 5']
    assert items['equation 1']['text'] == ['max(1, 2, 5, 6) = 6']


def test_timing_plot_draws_one_log_log_line_per_method_skipping_missing_points():
    from poolbook.figures import plot_timings
    fig = plot_timings([10, 100, 1000], {'a': [1e-3, 1e-2, None], 'b': [1e-4, 1e-4, 1e-3]})
    ax = fig.axes[0]
    assert ax.get_xscale() == 'log' and ax.get_yscale() == 'log'
    lines = {line.get_gid(): list(line.get_xdata()) for line in ax.get_lines()}
    assert lines == {'line a': [10, 100], 'line b': [10, 100, 1000]}


def test_animation_plays_offline_one_frame_per_output_with_a_stable_id():
    import re
    from poolbook.figures import animate_pooling
    html = animate_pooling(X3, (2, 2)).data
    # 2x2 pooling of a 3x3 input has 2 x 2 = 4 outputs: one frame each.
    assert sorted(set(re.findall(r'frames\[(\d+)\]', html))) == ['0', '1', '2', '3']
    assert 'https://' not in html and 'font-awesome' not in html
    assert 'class="anim-buttons"' in html and '\u25b6' in html  # the play button, as text
    assert animate_pooling(X3, (2, 2)).data == html  # same input, same HTML (nbval compares it)
    assert len(html.encode()) < 1_000_000


def test_animation_frames_have_twice_the_pixels_shown_at_the_figure_size():
    import re
    from poolbook.figures import animate_pooling
    from poolbook.player import frame_size
    html = animate_pooling(X3, (2, 2)).data
    # A step over the 3 x 3 input: 3 input + 2 + 2 output columns = 7 cells wide, 3 rows
    # + 2.4 = 5.4 cells high; 0.5 inch a cell at 100 dpi is 350 x 270 pixels, twice that
    # in the frames.
    assert frame_size(html) == (700, 540)
    assert re.findall(r'<img id="_anim_img[0-9a-f]{32}" width="350">', html)


@pytest.mark.child
def test_in_a_kernel_figures_are_stored_at_twice_their_pixels_and_shown_at_their_size():
    """Imported where an IPython shell runs with the inline backend (as in a notebook's
    kernel), the module has every figure stored as a 'retina' PNG: twice the pixels, with
    the size to show it at in the output's metadata. In a child process: the shell is
    global."""
    import json
    import os
    import subprocess
    import sys
    child = """if True:
        import base64, json, struct
        from IPython.core.interactiveshell import InteractiveShell
        from IPython.core.pylabtools import print_figure
        shell = InteractiveShell.instance()
        import numpy as np
        from poolbook.figures import draw_pooling  # imports pyplot: the inline backend
        figure = draw_pooling(np.eye(3), 2)
        data, metadata = shell.display_formatter.format(figure)
        size = lambda png: struct.unpack('>II', png[16:24])
        print(json.dumps([size(base64.b64decode(data['image/png'])), metadata['image/png'],
                          size(print_figure(figure, 'png'))]))  # IPython's plain PNG
    """
    env = {**os.environ, 'MPLBACKEND': 'module://matplotlib_inline.backend_inline'}
    result = subprocess.run([sys.executable, '-c', child], capture_output=True, text=True,
                            env=env, check=True)
    (png_w, png_h), shown, (plain_w, plain_h) = json.loads(result.stdout)
    assert (png_w // 2, png_h // 2) == (shown['width'], shown['height'])
    # shown as big as IPython's plain PNG of the figure (to the pixel its crop rounds to)
    assert abs(shown['width'] - plain_w) <= 1 and abs(shown['height'] - plain_h) <= 1


# Chapter 4: gradients of max and average pooling, and the softmax-pooling beta sweep.
# Each 2 x 2 window of X_GRAD has one winner: 5 (top left), 7, 13 and 15 (bottom right).
X_GRAD = np.array([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]], dtype=np.float32)
MAX_GRAD = np.array([[0, 0, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0], [0, 1, 0, 1]])
AVG_GRAD = np.full((4, 4), 0.25)


def test_gradient_figure_has_one_panel_per_map_with_titles():
    fig = draw_gradients(X_GRAD, 2, {'max': MAX_GRAD, 'avg': AVG_GRAD})
    assert len(fig.axes) == 3
    titles = [[t.get_text() for t in ax.texts if t.get_gid() is None] for ax in fig.axes]
    assert titles == [['input'], ['max'], ['avg']]
    assert mcolors.to_hex(fig.get_facecolor()) == '#ffffff'


def test_gradient_figure_shades_the_winners_and_the_nonzero_gradients():
    items = drawn(draw_gradients(nd.array(X_GRAD), 2, {'max': nd.array(MAX_GRAD), 'avg': AVG_GRAD}))
    winners = {(1, 1), (1, 3), (3, 1), (3, 3)}
    for i in range(4):
        for j in range(4):
            assert items[f'input {i} {j}']['text'] == [str(4 * i + j)]
            want = COLORS['window'] if (i, j) in winners else COLORS['input']
            assert items[f'input {i} {j}']['fill'] == [want]
            want = COLORS['result'] if (i, j) in winners else COLORS['output']
            assert items[f'max {i} {j}']['fill'] == [want]
            assert items[f'max {i} {j}']['text'] == ['1' if (i, j) in winners else '0']
            assert items[f'avg {i} {j}']['text'] == ['0.25']
            assert items[f'avg {i} {j}']['fill'] == [COLORS['result']]


def test_gradient_figure_outlines_every_window_on_every_panel():
    fig = draw_gradients(X_GRAD, 2, {'max': MAX_GRAD})
    for ax, name in zip(fig.axes, ['input', 'max']):
        outlines = {p.get_gid(): (p.get_x(), p.get_y(), p.get_width(), p.get_height())
                    for p in ax.patches if 'window' in (p.get_gid() or '')}
        # Cells start at x = 0.5 and y = -1 (a title line above); window (a, b) of a 2 x 2
        # pooling with stride 2 has its lower-left corner at x = 0.5 + 2b, y = -1 - 2(a + 1).
        assert outlines == {f'{name} window {a} {b}': (0.5 + 2 * b, -1 - 2 * (a + 1), 2, 2)
                            for a in range(2) for b in range(2)}


def test_gradient_figure_rectangular_windows():
    # 2 x 3 input, 1 x 3 windows: the winners are 2 (row 0) and 5 (row 1).
    items = drawn(draw_gradients(np.arange(6).reshape((2, 3)), (1, 3), {}))
    shaded = {gid for gid, entry in items.items() if entry['fill'] == [COLORS['window']]}
    assert shaded == {'input 0 2', 'input 1 2'}
    assert {gid for gid in items if 'window' in gid} == {'input window 0 0', 'input window 1 0'}


def lines(fig):
    return {line.get_gid(): line for line in fig.axes[0].get_lines()}


def test_beta_sweep_draws_the_curves_and_levels_it_is_given():
    curves = {'softmax pooling': [2.0, 3.5, 5.0], 'smooth maximum': [2.0, 2.5, 4.9]}
    fig = plot_beta_sweep([0.01, 1, 100], curves, {'maximum': 5.0, 'average': 2.0})
    drawn_lines = lines(fig)
    assert list(drawn_lines['line softmax pooling'].get_ydata()) == [2.0, 3.5, 5.0]
    assert list(drawn_lines['line smooth maximum'].get_xdata()) == [0.01, 1, 100]
    assert set(drawn_lines['level average'].get_ydata()) == {2.0}
    assert set(drawn_lines['level maximum'].get_ydata()) == {5.0}
    labels = {t.get_gid(): t for t in fig.axes[0].texts}
    assert {gid: t.get_text() for gid, t in labels.items()} == {
        'label maximum': 'maximum 5', 'label average': 'average 2'}
    # The lower level's label hangs below its line, the upper one's sits above.
    assert labels['label average'].get_va() == 'top'
    assert labels['label maximum'].get_va() == 'bottom'
    assert fig.axes[0].get_xscale() == 'log'
    assert mcolors.to_hex(fig.get_facecolor()) == '#ffffff'


# One font size per figure, and numbers that fit their cells.

def cell_fontsizes(fig):
    """The font sizes of the numbers written in cells (texts with a gid of a cell)."""
    return {t.get_fontsize() for ax in fig.axes for t in ax.texts
            if (t.get_gid() or '').split(' ')[0] in ('input', 'output')
            or (t.get_gid() or '').startswith(('max ', 'avg ', 'gradient'))}


def test_padded_average_writes_all_its_numbers_in_one_font_size():
    # Outputs 1.11, 2.67, 5.67 and 10 (and inputs 0..15) in one size, not 10 larger.
    fig = draw_pooling(X16, 3, 'avg', strides=2, padding=1)
    items = drawn(fig)
    assert [items[f'output {i} {j}']['text'] for i in range(2) for j in range(2)] == [
        ['1.11'], ['2.67'], ['5.67'], ['10']]
    assert len(cell_fontsizes(fig)) == 1


def test_short_numbers_keep_the_full_font_size():
    assert cell_fontsizes(draw_pooling(X3, (2, 2))) == {13}


def test_gradient_figure_numbers_are_as_large_as_the_others():
    fig = draw_gradients(X_GRAD, 2, {'max': MAX_GRAD, 'avg': AVG_GRAD})
    sizes = cell_fontsizes(fig)
    assert len(sizes) == 1 and min(sizes) >= 12  # 0.25 as readable as 15


def test_numbers_fit_inside_their_cells():
    for fig in (draw_pooling(X16, 3, 'avg', strides=2, padding=1),
                draw_gradients(X_GRAD, 2, {'avg': AVG_GRAD})):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes:
            cells = {p.get_gid(): p.get_window_extent(renderer) for p in ax.patches}
            for t in ax.texts:
                if t.get_gid() and t.get_gid() in cells and t.get_text():
                    text, cell = t.get_window_extent(renderer), cells[t.get_gid()]
                    assert text.width < cell.width and text.height < cell.height


# Chapter 2's window positions in one compact figure.

def test_all_windows_figure_outlines_each_window_in_its_colour():
    # The source: window (2, 3), padding (1, 2), strides (2, 3) gives [[0, 3], [8, 11], [12, 15]].
    fig = draw_windows(X16, (2, 3), strides=(2, 3), padding=(1, 2))
    assert len(fig.axes) == 1
    items = drawn(fig)
    outputs = [items[f'output {i} {j}']['text'] for i in range(3) for j in range(2)]
    assert outputs == [['0'], ['3'], ['8'], ['11'], ['12'], ['15']]
    assert len([gid for gid in items if gid.startswith('padding')]) == 8 * 6 - 16
    assert not any(COLORS['window'] in entry['fill'] for entry in items.values())
    patches = {p.get_gid(): p for p in fig.axes[0].patches}
    for n, (i, j) in enumerate(np.ndindex(3, 2)):
        window, edge = patches[f'window {i} {j}'], patches[f'output edge {i} {j}']
        assert mcolors.to_hex(window.get_edgecolor()) == WINDOW_COLORS[n]
        assert mcolors.to_hex(edge.get_edgecolor()) == WINDOW_COLORS[n]
        # Window (i, j) covers padded rows 2i..2i+1 and columns 3j..3j+2 (stride (2, 3)),
        # drawn from y = -0.8 down, inset by 0.08 so that neighbours show both outlines.
        assert np.allclose([window.get_x(), window.get_y() + window.get_height(),
                            window.get_width(), window.get_height()],
                           [3 * j + 0.08, -0.8 - 2 * i - 0.08, 3 - 0.16, 2 - 0.16])


def test_all_windows_figure_is_more_compact_than_one_panel_per_window():
    compact = draw_windows(X16, (2, 3), strides=(2, 3), padding=(1, 2))
    panels = draw_window_positions(X16, (2, 3), strides=(2, 3), padding=(1, 2))
    (w, h), (pw, ph) = compact.get_size_inches(), panels.get_size_inches()
    assert w <= pw and h < ph / 2
