"""The explorer without a browser: the callback against MXNet and hand-computed cases,
and the widget UI's wiring."""
import inspect
import pathlib

import mxnet as mx
import numpy as np
import pytest

from poolbook import explorer
from poolbook.explorer import explore


def mxnet_pool(X, window, mode, stride, padding):
    """MXNet's own pooling of the 2-D X (floor mode), as numpy float64."""
    x = mx.nd.array(X[None, None], dtype='float64')
    y = mx.nd.Pooling(x, kernel=window, pool_type=mode, stride=(stride, stride),
                      pad=(padding, padding), pooling_convention='valid')
    return y.asnumpy()[0, 0]


def texts(figure, gid):
    """The strings drawn with the given gid."""
    return [t.get_text() for ax in figure.axes for t in ax.texts if t.get_gid() == gid]


def test_the_default_is_d2l_example_with_its_printed_output():
    view = explore()
    assert view.X.tolist() == np.arange(16).reshape(4, 4).tolist()
    assert view.Y.tolist() == [[5, 7], [13, 15]]  # D2L: MaxPool2D(3, padding=1, strides=2)
    assert view.message == ''
    assert view.formula == ('height: ⌊(4 + 2·1 − 3) / 2⌋ + 1 = 2\n'
                            'width: ⌊(4 + 2·1 − 3) / 2⌋ + 1 = 2')
    assert texts(view.figure, 'equation') == ['max(0, 1, 4, 5) = 5']


@pytest.mark.parametrize('source', explorer.INPUTS)
@pytest.mark.parametrize('mode', ['max', 'avg'])
@pytest.mark.parametrize('k_h, k_w, stride, padding', [
    (2, 2, 2, 0), (3, 3, 2, 1), (2, 3, 1, 1), (1, 4, 3, 0), (4, 2, 1, 1)])
def test_output_matches_mxnet(source, mode, k_h, k_w, stride, padding):
    view = explore(k_h, k_w, stride, padding, mode, False, source)
    expected = mxnet_pool(view.X, (k_h, k_w), mode, stride, padding)
    assert view.message == ''
    np.testing.assert_allclose(view.Y, expected, rtol=1e-12)
    rows, columns = view.formula.splitlines()
    assert rows.endswith(f'= {expected.shape[0]}')
    assert columns.endswith(f'= {expected.shape[1]}')


@pytest.mark.parametrize('values, start', [
    (dict(k_h=2, k_w=2, padding=2), 'padding (2, 2) must be smaller than pool_size (2, 2)'),
    (dict(k_h=3, k_w=1, padding=1), 'padding (1, 1) must be smaller than pool_size (3, 1)'),
    (dict(k_h=5, k_w=5, padding=0), 'pool_size (5, 5) does not fit in the input'),
])
def test_refused_settings_show_the_package_message(values, start):
    view = explore(**values)
    with pytest.raises(ValueError) as refused:  # the very message pool2d gives
        explorer.pool2d(view.X, (values['k_h'], values['k_w']), 'max', strides=2,
                        padding=values['padding'])
    assert view.message == str(refused.value) and view.message.startswith(start)
    assert view.Y is None and view.figure is None and view.formula == ''
    assert 'Refused' in explorer.describe(view)


def test_ceil_mode_formula_says_when_the_last_window_is_dropped():
    # n=5, k=2, s=2, p=1: ceil((5 + 2 - 2) / 2) + 1 = 4, but the fourth window would
    # start at padded row 6, past the input's last row (5): three windows remain.
    line = explorer.axis_formula('height', 5, 2, 2, 1, ceil_mode=True)
    assert line == ('height: ⌈(5 + 2·1 − 2) / 2⌉ + 1 − 1 = 3 (the last window would '
                    'start in the padding, so it is dropped)')
    assert explorer.axis_formula('width', 6, 3, 2, 0, ceil_mode=True) == \
        'width: ⌈(6 + 2·0 − 3) / 2⌉ + 1 = 3'


def test_ceil_mode_output_and_figure():
    same = explore(2, 2, 2, 1, 'max', True)             # ceil and floor agree: 3 x 3
    assert same.Y.tolist() == [[0, 2, 3], [8, 10, 11], [12, 14, 15]]
    assert same.figure is not None
    more = explore(2, 3, 2, 0, 'max', True, 'random 6x6')  # ceil adds a column: no figure
    assert more.Y.shape == (3, 3) and more.figure is None
    assert 'No figure' in explorer.describe(more)


def test_step_moves_the_window_and_stops_at_the_last_output_cell():
    # output cell (1, 1): padded rows and columns 2 to 4, input rows and columns 1 to 3
    last = ['max(5, 6, 7, 9, 10, 11, 13, 14, 15) = 15']
    assert texts(explore(step=3).figure, 'equation') == last
    assert texts(explore(step=99).figure, 'equation') == last
    # output cell (0, 1): input rows 0 to 1 (row -1 is padding), columns 1 to 3; the
    # average divides by the whole window, padding counted, as MXNet does
    assert texts(explore(step=1, mode='avg').figure, 'equation') == \
        ['(1 + 2 + 3 + 5 + 6 + 7) / 9 = 2.67']


def test_inputs():
    photo = explore(source='photo 8x8').X
    assert photo.shape == (8, 8) and photo.min() >= 0 and photo.max() <= 99
    assert len(np.unique(photo)) > 10  # a picture, not a flat map
    random = explore(source='random 6x6').X
    assert np.array_equal(random, explore(source='random 6x6').X)  # seeded
    with pytest.raises(ValueError, match="source must be one of"):
        explorer.make_input('cat')


def test_controls_are_the_callback_arguments_with_its_defaults():
    defaults = {name: p.default for name, p in inspect.signature(explore).parameters.items()}
    assert explorer.DEFAULTS == defaults
    controls, _ = explorer.build_ui()
    assert list(controls) == list(defaults)
    assert {name: c.value for name, c in controls.items()} == defaults


def test_ui_redraws_when_a_control_moves():
    controls, box = explorer.build_ui()
    _, text, picture = box.children
    assert picture.value[:8] == b'\x89PNG\r\n\x1a\n' and '[[ 5.  7.]' in text.value
    assert controls['step'].max == 3                       # 2 x 2 output cells
    controls['padding'].value = 3                          # padding >= window: refused
    assert 'Refused' in text.value and 'must be smaller than pool_size' in text.value
    assert picture.layout.display == 'none'
    controls['padding'].value = 0
    controls['stride'].value = 1
    assert controls['step'].max == 3 and picture.layout.display == ''  # 2 x 2 again
    controls['source'].value = 'photo 8x8'
    assert controls['step'].max == 35                      # 6 x 6 output cells
    assert '⌊(8 + 2·0 − 3) / 1⌋ + 1 = 6' in text.value


def test_explorer_displays_the_widget_with_a_note_for_static_pages():
    live = explorer.Explorer()
    bundle = live._repr_mimebundle_()
    assert bundle['application/vnd.jupyter.widget-view+json']['model_id'] == live.box.model_id
    assert bundle['text/plain'] == explorer.NOTE and 'Binder' in bundle['text/html']
    # In HTML, NOTE on screen, and on paper (no rocket button there) PRINT_NOTE.
    assert f'<p class="poolbook-screen-only"><em>{explorer.NOTE}</em></p>' in bundle['text/html']
    assert (f'<p class="poolbook-print-only" style="display: none"><em>{explorer.PRINT_NOTE}'
            f'</em></p>') in bundle['text/html']
    assert 'HTML book' in explorer.PRINT_NOTE and 'HTML book' not in explorer.NOTE


def test_on_paper_the_print_note_replaces_the_screen_note(page):
    """The book's print stylesheet shows PRINT_NOTE on paper and NOTE on screen only."""
    css = (pathlib.Path(__file__).resolve().parents[1] / '_static' / 'print.css').read_text()
    note = explorer.Explorer()._repr_mimebundle_()['text/html']
    page.set_content(f'<!DOCTYPE html><html><head><style>{css}</style></head>'
                     f'<body>{note}</body></html>')
    shown = """() => Array.from(document.querySelectorAll('p'), p => p.checkVisibility())"""
    page.emulate_media(media='screen')
    assert page.evaluate(shown) == [True, False]
    page.emulate_media(media='print')
    assert page.evaluate(shown) == [False, True]
