"""The explorer without a browser: the callback against MXNet and hand-computed cases,
the widget UI's wiring, the kernel-free explorer's data (its script is compared with
pool2d in tests/test_browser.py) and the figures it shows."""
import inspect
import json
import pathlib

import mxnet as mx
import numpy as np
import pytest

from poolbook import explorer
from poolbook.explorer import explore


def mxnet_pool(X, window, mode, strides, padding, count_include_pad=True):
    """MXNet's own pooling of the 2-D X (floor mode), as numpy float32."""
    x = mx.nd.array(X[None, None], dtype='float32')
    y = mx.nd.Pooling(x, kernel=window, pool_type=mode, stride=strides, pad=padding,
                      pooling_convention='valid', count_include_pad=count_include_pad)
    return y.asnumpy()[0, 0]


def texts(figure, gid):
    """The strings drawn with the given gid."""
    return [t.get_text() for ax in figure.axes for t in ax.texts if t.get_gid() == gid]


def test_the_default_is_a_setting_the_chapters_figures_do_not_show():
    view = explore()
    X = view.X
    assert X.dtype == np.float32 and X.shape == (6, 6)
    assert X[:2, :2].tolist() == [[8, 6], [0, 0]]  # the seeded map's corner
    # 3 x 2 max pooling, strides (2, 1), padding (1, 0), as MXNet computes it.
    np.testing.assert_array_equal(view.Y, mxnet_pool(X, (3, 2), 'max', (2, 1), (1, 0)))
    assert view.message == ''
    assert view.formula == ('height: ⌊(6 + 2·1 − 3) / 2⌋ + 1 = 3\n'
                            'width: ⌊(6 + 2·0 − 2) / 1⌋ + 1 = 5')
    # The first window: padded rows 0 to 2 (input rows 0 and 1), columns 0 and 1.
    assert texts(view.figure, 'equation') == ['max(8, 6, 0, 0) = 8']
    # The chapter draws MaxPool2D(3, padding=1, strides=2), MaxPool2D((2, 3), ...) and
    # the 3 x 3 average with stride 2 and padding 1, all on the 4 x 4 arange.
    assert explorer.DEFAULTS['source'] != '4x4 arange'
    assert explorer.DEFAULTS['pool_size'] not in ((3, 3), (2, 3))


GEOMETRIES = [((2, 2), (2, 2), (0, 0)), ((3, 3), (2, 2), (1, 1)), ((2, 3), (1, 3), (1, 2)),
              ((1, 4), (3, 1), (0, 3)), ((4, 2), (1, 2), (1, 1))]
MODES = [('max', True), ('avg', True), ('avg', False), ('sum', True)]
SOURCES = [s for s in explorer.INPUTS if s != '3x3 arange']  # where every window fits


@pytest.mark.parametrize('case', range(len(GEOMETRIES) * len(MODES)))
def test_output_matches_mxnet(case):
    """Every geometry in every mode, each on one of the inputs in turn."""
    (pool_size, strides, padding), (mode, count_include_pad) = (
        GEOMETRIES[case // len(MODES)], MODES[case % len(MODES)])
    source = SOURCES[case % len(SOURCES)]
    view = explore(pool_size, mode, strides=strides, padding=padding,
                   count_include_pad=count_include_pad, source=source)
    expected = mxnet_pool(view.X, pool_size, mode, strides, padding, count_include_pad)
    assert view.message == '' and view.Y.dtype == np.float32
    np.testing.assert_allclose(view.Y, expected, rtol=1e-6)
    rows, columns = view.formula.splitlines()
    assert rows.endswith(f'= {expected.shape[0]}')
    assert columns.endswith(f'= {expected.shape[1]}')


@pytest.mark.parametrize('values, start', [
    (dict(pool_size=2, padding=2), 'padding (2, 2) must be smaller than pool_size (2, 2)'),
    (dict(pool_size=(3, 1), padding=(1, 1)),
     'padding (1, 1) must be smaller than pool_size (3, 1)'),
    (dict(pool_size=(5, 5), padding=0, source='4x4 arange'),
     'pool_size (5, 5) does not fit in the input'),
])
def test_refused_settings_show_the_package_message(values, start):
    view = explore(**values)
    with pytest.raises(ValueError) as refused:  # the very message pool2d gives
        explorer.pool2d(view.X, values['pool_size'], strides=(2, 1),
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
    assert explorer.formula((4, 5), (2, 3), (2, 3), (1, 2), False) == (
        'height: ⌊(4 + 2·1 − 2) / 2⌋ + 1 = 3\nwidth: ⌊(5 + 2·2 − 3) / 3⌋ + 1 = 3')


def test_ceil_mode_output_and_figure():
    same = explore(2, strides=2, padding=1, ceil_mode=True, source='4x4 arange')
    assert same.Y.tolist() == [[0, 2, 3], [8, 10, 11], [12, 14, 15]]  # as floor mode
    # The 3 x 3 input of the chapter: ceil mode's third window would start in the
    # padding and is dropped, as PyTorch does.
    trap = explore(2, strides=2, padding=1, ceil_mode=True, source='3x3 arange')
    assert trap.Y.tolist() == [[0, 2], [6, 8]]
    # On the 6 x 6 map ceil mode adds a column, and the figure draws its window too.
    more = explore((2, 3), strides=2, padding=0, ceil_mode=True, step=2)
    assert more.Y.shape == (3, 3) and more.figure is not None
    X = more.X  # window (0, 2): rows 0 to 1, columns 4 to 6, of which 4 and 5 exist
    assert texts(more.figure, 'equation') == [
        f'max({", ".join(f"{v:.3g}" for v in X[0:2, 4:6].ravel())}) = '
        f'{X[0:2, 4:6].max():.3g}']


def test_step_moves_the_window_and_stops_at_the_last_output_cell():
    arange = dict(pool_size=3, strides=2, padding=1, source='4x4 arange')
    # output cell (1, 1): padded rows and columns 2 to 4, input rows and columns 1 to 3
    last = ['max(5, 6, 7, 9, 10, 11, 13, 14, 15) = 15']
    assert texts(explore(**arange, step=3).figure, 'equation') == last
    assert texts(explore(**arange, step=99).figure, 'equation') == last
    # output cell (0, 1): input rows 0 to 1 (row -1 is padding), columns 1 to 3; the
    # average divides by the whole window, padding counted, as MXNet does by default,
    # or by the 6 input cells without it
    avg = explore(**arange, mode='avg', step=1)
    assert texts(avg.figure, 'equation') == ['(1 + 2 + 3 + 5 + 6 + 7) / 9 = 2.67']
    avg = explore(**arange, mode='avg', count_include_pad=False, step=1)
    assert texts(avg.figure, 'equation') == ['(1 + 2 + 3 + 5 + 6 + 7) / 6 = 4']
    total = explore(**arange, mode='sum', step=1)
    assert texts(total.figure, 'equation') == ['1 + 2 + 3 + 5 + 6 + 7 = 24']


def test_inputs():
    photo = explorer.make_input('photo 8x8')
    assert photo.shape == (8, 8) and photo.min() >= 0 and photo.max() <= 99
    assert len(np.unique(photo)) > 10  # a picture, not a flat map
    random = explorer.make_input('random 6x6')
    assert np.array_equal(random, explorer.make_input('random 6x6'))  # seeded
    assert explorer.make_input('4x4 arange').tolist() == [
        [0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]
    assert explorer.make_input('4x4 negative')[3].tolist() == [-13, -14, -15, -16]
    assert explorer.make_input('3x3 arange').tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert {explorer.make_input(s).dtype for s in explorer.INPUTS} == {np.dtype('float32')}
    with pytest.raises(ValueError, match="source must be one of"):
        explorer.make_input('cat')


def test_controls_are_the_callback_arguments_with_its_defaults():
    defaults = {name: p.default for name, p in inspect.signature(explore).parameters.items()}
    assert explorer.DEFAULTS == defaults
    controls, _ = explorer.build_ui()
    assert list(controls) == ['k_h', 'k_w', 's_h', 's_w', 'p_h', 'p_w', 'mode',
                              'ceil_mode', 'count_include_pad', 'source', 'step']
    assert explorer.arguments(controls) == defaults
    for name, (low, high) in explorer.RANGES.items():  # the page's sliders' too
        for control in explorer.PAIRS[name]:
            assert (controls[control].min, controls[control].max) == (low, high)
    assert controls['mode'].options == ('max', 'avg', 'sum')


def test_ui_redraws_when_a_control_moves():
    controls, box = explorer.build_ui()
    _, text, picture = box.children
    assert picture.value[:8] == b'\x89PNG\r\n\x1a\n' and 'Output, 3 x 5' in text.value
    assert controls['step'].max == 14                      # 3 x 5 output cells
    controls['p_h'].value = 3                              # padding >= window: refused
    assert 'Refused' in text.value and 'must be smaller than pool_size' in text.value
    assert picture.layout.display == 'none'
    controls['p_h'].value = 0
    assert controls['step'].max == 9 and picture.layout.display == ''  # 2 x 5
    controls['source'].value = 'photo 8x8'
    assert controls['step'].max == 20                      # 3 x 7 output cells
    assert '⌊(8 + 2·0 − 3) / 2⌋ + 1 = 3' in text.value
    controls['ceil_mode'].value = True
    assert 'Output, 4 x 7' in text.value  # ceil((8 - 3) / 2) + 1 = 4 windows down


def test_explorer_displays_the_widget_with_the_kernel_free_explorer_as_html():
    live = explorer.Explorer()
    bundle = live._repr_mimebundle_()
    assert bundle['application/vnd.jupyter.widget-view+json']['model_id'] == live.box.model_id
    assert bundle['text/plain'] == explorer.NOTE
    settings = {k: v for k, v in explorer.DEFAULTS.items() if k != 'step'}
    assert bundle['text/html'] == explorer.page_html(settings)
    assert page_data(bundle['text/html'])['ranges'] == {
        name: list(low_high) for name, low_high in explorer.RANGES.items()}


# ------------------------------------------- the kernel-free explorer's data (page_html)

def page_data(markup):
    """The data attributes of the explorer element in `markup`, parsed from JSON."""
    from bs4 import BeautifulSoup
    element = BeautifulSoup(markup, 'html.parser').select_one('div.pool-explorer')
    return {name[5:]: json.loads(value) for name, value in element.attrs.items()
            if name.startswith('data-')}


def test_page_html_carries_every_input_and_the_settings():
    settings = dict(source='3x3 arange', pool_size=(2, 2), strides=(2, 2), padding=(1, 1),
                    mode='max', ceil_mode=True, count_include_pad=True)
    data = page_data(explorer.page_html(settings))
    assert list(data['inputs']) == list(explorer.INPUTS)
    for name, rows in data['inputs'].items():
        X = explorer.make_input(name)
        assert np.array_equal(np.array(rows, np.float32), X) and len(rows) == X.shape[0]
        assert np.array_equal(np.array(rows, np.float64), X)  # float32 numbers, exactly
    assert data['inputs']['3x3 arange'] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert data['inputs']['4x4 negative'][0] == [-1, -2, -3, -4]
    assert data['settings'] == {**settings, 'pool_size': [2, 2], 'strides': [2, 2],
                                'padding': [1, 1]}


def test_page_html_escapes_its_data_and_shows_the_note_without_script():
    markup = explorer.page_html({'source': '4x4 arange'}, note='a < b', print_note='c & d')
    assert '<p><em>a &lt; b</em></p></div>' in markup
    assert markup.endswith('<p class="pool-explorer-print poolbook-print-only" '
                           'style="display: none"><em>c &amp; d</em></p>')
    assert 'HTML book' in explorer.PRINT_NOTE and 'HTML book' not in explorer.NOTE
    assert '"' not in markup.split('data-inputs="')[1].split('" ')[0]  # JSON quotes escaped


def test_presets_are_the_chapters_layers_with_their_printed_outputs():
    # The outputs D2L prints for these layers on the 4 x 4 arange (and the chapter shows).
    printed = {'MaxPool2D(3)': [[10]],
               'MaxPool2D(3, padding=1, strides=2)': [[5, 7], [13, 15]],
               'MaxPool2D((2, 3), padding=(1, 2), strides=(2, 3))': [[0, 3], [8, 11],
                                                                      [12, 15]]}
    assert list(explorer.PRESETS) == list(printed)
    for name, values in page_data(explorer.page_html(explorer.DEFAULTS))['presets'].items():
        args = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        X = explorer.make_input(args.pop('source'))
        assert explorer.pool2d(X, args.pop('pool_size'), **args).tolist() == printed[name]


# ---------------------------------------- the figures: any setting, and small multiples

def test_draw_setting_draws_ceil_mode_windows_and_the_true_divisor():
    from poolbook.figures import draw_setting
    X = np.arange(16.0).reshape(4, 4)
    # 3 x 3 average, stride 2, padding 1, ceil mode: the last window (padded rows and
    # columns 4 to 6) covers input cells 3 (rows and columns), one padding cell and one
    # cell past the padded input, which is not counted: the divisor is 2 x 2, not 9.
    fig = draw_setting(X, 3, 'avg', strides=2, padding=1, ceil_mode=True, position=(2, 2))
    assert texts(fig, 'equation') == ['(15) / 4 = 3.75']
    gids = {p.get_gid() for ax in fig.axes for p in ax.patches}
    assert {f'outside 6 {j}' for j in range(7)} <= gids  # the row past the padded input
    assert 'outside 5 5' not in gids and 'padding 5 5' in gids
    assert {f'window {i} {j}' for i in range(3) for j in range(3)} <= gids
    # Without padding counted: the top-left window holds 0, 1, 4, 5 and divides by 4.
    fig = draw_setting(X, 3, 'avg', strides=2, padding=1, count_include_pad=False)
    assert texts(fig, 'equation') == ['(0 + 1 + 4 + 5) / 4 = 2.5']
    fig = draw_setting(X, (2, 3), 'sum', strides=(2, 3), padding=(1, 2), position=(1, 1))
    assert texts(fig, 'equation') == ['5 + 6 + 7 + 9 + 10 + 11 = 48']
    with pytest.raises(ValueError, match=r'position must be an output cell of the '
                                         r'\(3, 2\) output, got \(3, 0\)'):
        draw_setting(X, (2, 3), strides=(2, 3), padding=(1, 2), position=(3, 0))


def test_small_multiples_show_each_setting_its_output_or_the_refusal():
    from poolbook.figures import draw_small_multiples
    X = np.arange(16.0).reshape(4, 4)
    cases = [(X, dict(pool_size=(2, 3), strides=(2, 3), padding=(1, 2))),
             (np.arange(9.0).reshape(3, 3), dict(pool_size=2, strides=2, padding=1,
                                                 ceil_mode=True)),
             (X, dict(pool_size=2, padding=2))]
    fig = draw_small_multiples(cases, columns=2)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 3 and len(fig.axes) == 4
    shown = lambda ax, gid: [t.get_text() for t in ax.texts if t.get_gid() == gid]
    assert shown(panels[0], 'setting') == [('max, pool_size (2, 3)\n'
                                            'strides (2, 3), padding (1, 2)')]
    assert shown(panels[0], 'shape') == ['output 3 × 2']
    outputs = {t.get_gid(): t.get_text() for t in panels[0].texts
               if t.get_gid().startswith('output ')}
    assert outputs == {'output 0 0': '0', 'output 0 1': '3', 'output 1 0': '8',
                       'output 1 1': '11', 'output 2 0': '12', 'output 2 1': '15'}
    assert shown(panels[1], 'setting')[0].startswith('max, pool_size (2, 2), ceil_mode')
    assert shown(panels[1], 'shape') == ['output 2 × 2']  # the third window is dropped
    with pytest.raises(ValueError) as refused:
        explorer.pool2d(X, 2, padding=2)
    assert ' '.join(shown(panels[2], 'refused')[0].split()) == f'refused: {refused.value}'


def test_on_paper_the_print_note_replaces_the_explorer(page):
    """The book's stylesheets (print.css, explorer.css) show PRINT_NOTE on paper, and on
    screen the explorer's element, whose note shows where its script does not run."""
    static = pathlib.Path(__file__).resolve().parents[1] / '_static'
    css = ''.join((static / name).read_text() for name in ('print.css', 'explorer.css'))
    note = explorer.Explorer()._repr_mimebundle_()['text/html']
    page.set_content(f'<!DOCTYPE html><html><head><style>{css}</style></head>'
                     f'<body>{note}</body></html>')
    shown = """() => Array.from(document.querySelectorAll('p'), p => p.checkVisibility())"""
    page.emulate_media(media='screen')
    assert page.evaluate(shown) == [True, False]
    page.emulate_media(media='print')
    assert page.evaluate(shown) == [False, True]


@pytest.mark.parametrize('step, error', [(-1, ValueError), (1.5, TypeError),
                                         (True, TypeError), ('2', TypeError)])
def test_a_negative_or_fractional_step_is_refused_naming_it(step, error):
    # A negative step drew the window at a negative output cell; a fractional one
    # crashed inside the figure. Past the last cell, the last window is drawn (above).
    with pytest.raises(error, match='^step must be an int'):
        explore(step=step)


@pytest.mark.parametrize('settings, error, word', [
    ({'pool_size': (6, 2)}, ValueError, 'pool_size'),  # beyond the sliders' 1 to 5
    ({'strides': 0}, ValueError, 'strides'),
    ({'mode': 'lp'}, ValueError, 'mode'),
    ({'source': 'cat'}, ValueError, 'source'),
    ({'ceil_mode': 1}, TypeError, 'ceil_mode'),
    ({'window': 2}, TypeError, 'window'),
])
def test_settings_the_controls_cannot_show_are_refused(settings, error, word):
    for make in (explorer.build_ui, explorer.Explorer, lambda **s: explorer.page_html(s)):
        with pytest.raises(error, match=rf'^{word}\b'):
            make(**settings)
