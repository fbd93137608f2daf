"""The figures: what they draw (cells, numbers, the shaded window), not their pixels."""
import matplotlib.colors as mcolors
import numpy as np
from mxnet import nd

from poolbook.figures import COLORS, draw_arrays, draw_pooling

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
    # Row 1, column 1 of a 3-row grid drawn with its top at y = 3: x from 1, y from 0.
    assert (outline.get_x(), outline.get_y(), outline.get_width(), outline.get_height()) == (1, 0, 2, 2)
    assert drawn(fig)['equation']['text'] == ['max(4, 5, 7, 8) = 8']


def test_average_figure_writes_the_mean():
    items = drawn(draw_pooling(X3, (2, 2), 'avg'))
    assert items['equation']['text'] == ['mean(0, 1, 3, 4) = 2']


def test_figures_have_an_opaque_white_background():
    fig = draw_pooling(X3, (2, 2))
    assert mcolors.to_hex(fig.get_facecolor()) == '#ffffff'


def test_array_figure_titles_and_highlights():
    fig = draw_arrays({'a': np.array([[0, 1], [0, 0]]), 'b': np.array([[2, 0]])})
    assert [ax.get_title() for ax in fig.axes] == ['a', 'b']
    items = drawn(fig)
    assert items['a 0 1']['fill'] == [COLORS['result']]
    assert items['a 0 0']['fill'] == [COLORS['output']]
    assert items['b 0 0']['text'] == ['2']
