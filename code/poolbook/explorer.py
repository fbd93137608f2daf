"""The pooling explorer: controls for the window, stride, padding, mode and ceil mode over
an input the reader picks, redrawing the pooling as they move.

* `explore(...)` is the whole computation: given the controls' values it returns a `View`
  (input, output, message, filled-in output-size formula, figure). No widget involved, so
  it is tested without a browser.
* `build_ui()` makes the ipywidgets controls and wires them to `explore` with `observe`.
* `Explorer()` is what a notebook cell displays: the live controls where a frontend runs
  the kernel (JupyterLab, Binder), and elsewhere (nbval, the static HTML book) a note that
  says where the live version runs.
"""
import html
import io
from typing import NamedTuple

import numpy as np

from poolbook import figures
from poolbook.pooling import output_size, pool2d

INPUTS = ('4x4 arange', 'random 6x6', 'photo 8x8')
DEFAULTS = dict(k_h=3, k_w=3, stride=2, padding=1, mode='max', ceil_mode=False,
                source='4x4 arange', step=0)  # D2L's MaxPool2D(3, padding=1, strides=2)
NOTE = ('The live explorer needs a running Python kernel: open this chapter in Binder '
        '(the rocket button at the top of the page) or in JupyterLab, run the cell, and '
        'move the sliders.')
# The note on paper, which has no rocket button (_static/print.css shows it instead).
PRINT_NOTE = ('The live explorer needs a running Python kernel: open this chapter in Binder '
              '(the rocket button at the top of its page in the HTML book) or in '
              'JupyterLab, run the cell, and move the sliders.')


class View(NamedTuple):
    """What the explorer shows for one setting of its controls."""
    X: np.ndarray      # the input
    Y: np.ndarray      # the output; None when the package refuses the setting
    message: str       # the package's error message; '' when the setting is valid
    formula: str       # the output-size rule with the numbers filled in, one line per axis
    figure: object     # draw_pooling's figure; None when there is none to draw


def photo(size=8):
    """Grace Hopper's portrait (matplotlib's sample) in grey, pooled to size x size, 0-99."""
    from matplotlib import cbook, image
    rgb = image.imread(cbook.get_sample_data('grace_hopper.jpg', asfileobj=False))
    grey = rgb[:512, :512].mean(axis=2)  # the portrait's top square (it is 600 x 512)
    block = grey.shape[0] // size
    return np.round(pool2d(grey, block, 'avg', strides=block) / 255 * 99)


def make_input(source):
    """The input map named `source`, one of INPUTS."""
    if source == '4x4 arange':
        return np.arange(16.0).reshape(4, 4)
    if source == 'random 6x6':
        return np.random.default_rng(0).integers(0, 10, (6, 6)).astype(float)
    if source == 'photo 8x8':
        return photo(8)
    raise ValueError(f"source must be one of {INPUTS}, got {source!r}")


def axis_formula(axis, n, k, s, p, ceil_mode):
    """One axis of the output-size rule, e.g. 'height: ⌊(4 + 2·1 − 3) / 2⌋ + 1 = 2'."""
    left, right = ('⌈', '⌉') if ceil_mode else ('⌊', '⌋')
    text = f'{axis}: {left}({n} + 2·{p} − {k}) / {s}{right} + 1'
    span = n + 2 * p - k
    rounded = (-(-span // s) if ceil_mode else span // s) + 1
    out = output_size(n, k, s, p, ceil_mode)
    if out != rounded:  # ceil mode drops a last window that would start in the padding
        return (f'{text} − 1 = {out} (the last window would start in the padding, '
                f'so it is dropped)')
    return f'{text} = {out}'


def formula(X_hw, window, stride, padding, ceil_mode):
    """The output-size rule for both axes, numbers filled in, one line each."""
    return '\n'.join(axis_formula(axis, n, k, stride, padding, ceil_mode)
                     for axis, n, k in zip(('height', 'width'), X_hw, window))


def explore(k_h=3, k_w=3, stride=2, padding=1, mode='max', ceil_mode=False,
            source='4x4 arange', step=0):
    """What the explorer shows for these values; `step` picks the drawn window, row by row."""
    X = make_input(source)
    window = (k_h, k_w)
    try:
        Y = pool2d(X, window, mode, strides=stride, padding=padding, ceil_mode=ceil_mode)
    except (ValueError, TypeError) as error:
        return View(X, None, str(error), '', None)
    position = divmod(min(step, Y.size - 1), Y.shape[1])
    floor_shape = pool2d(X, window, mode, strides=stride, padding=padding).shape
    figure = None
    if Y.shape == floor_shape:  # draw_pooling draws floor mode's windows only
        figure = figures.draw_pooling(X, window, mode, strides=stride, padding=padding,
                                      position=position)
    return View(X, Y, '', formula(X.shape, window, stride, padding, ceil_mode), figure)


def png(figure):
    """The figure as PNG bytes (b'' for no figure)."""
    if figure is None:
        return b''
    buffer = io.BytesIO()
    figure.savefig(buffer, format='png', facecolor=figure.get_facecolor())
    return buffer.getvalue()


def describe(view):
    """The view's text as HTML: the formula and output, or the error message."""
    if view.message:
        return f'<p style="color:#b00020"><b>Refused:</b> {html.escape(view.message)}</p>'
    shape = ' x '.join(map(str, view.Y.shape))
    note = '' if view.figure is not None else (
        '<p>No figure: the drawing shows floor mode\'s windows only, and ceil mode adds '
        'a window here.</p>')
    return (f'<pre>{html.escape(view.formula)}</pre><p>Output, {shape}:</p>'
            f'<pre>{html.escape(np.array2string(view.Y, precision=3))}</pre>{note}')


def make_controls(k_h, k_w, stride, padding, mode, ceil_mode, source, step):
    """One ipywidgets control per argument of `explore`, set to the given values."""
    import ipywidgets as w
    style = {'description_width': '8em'}
    slider = lambda value, low, high, label: w.IntSlider(
        value=value, min=low, max=high, description=label, style=style,
        continuous_update=False)
    return {
        'k_h': slider(k_h, 1, 5, 'window height'),
        'k_w': slider(k_w, 1, 5, 'window width'),
        'stride': slider(stride, 1, 4, 'stride'),
        'padding': slider(padding, 0, 3, 'padding'),
        'mode': w.ToggleButtons(options=['max', 'avg'], value=mode, description='mode',
                                style=style),
        'ceil_mode': w.Checkbox(value=ceil_mode, description='ceil mode'),
        'source': w.Dropdown(options=INPUTS, value=source, description='input',
                             style=style),
        'step': slider(step, 0, 15, 'output cell'),
    }


def build_ui(**values):
    """The controls (a dict by name) and the box showing them, wired to `explore`."""
    import ipywidgets as w
    controls = make_controls(**{**DEFAULTS, **values})
    text, picture = w.HTML(), w.Image(format='png')

    def redraw(change=None):
        view = explore(**{name: control.value for name, control in controls.items()})
        text.value = describe(view)
        picture.value = png(view.figure)
        picture.layout.display = 'none' if view.figure is None else ''
        if view.Y is not None:
            controls['step'].max = view.Y.size - 1

    for control in controls.values():
        control.observe(redraw, names='value')
    redraw()
    names = list(controls)
    box = w.VBox([w.HBox([w.VBox([controls[n] for n in names[:4]]),
                          w.VBox([controls[n] for n in names[4:]])]), text, picture])
    return controls, box


class Explorer:
    """The live explorer in a cell: the widget in a frontend, the note NOTE elsewhere."""

    def __init__(self, **values):
        self.controls, self.box = build_ui(**values)

    def _repr_mimebundle_(self, **kwargs):
        """The widget's view, with the note as its text and HTML alternatives (in HTML,
        NOTE on screen and PRINT_NOTE on paper)."""
        bundle = self.box._repr_mimebundle_(**kwargs)
        html = (f'<p class="poolbook-screen-only"><em>{NOTE}</em></p>'
                f'<p class="poolbook-print-only" style="display: none"><em>{PRINT_NOTE}'
                f'</em></p>')
        return {**bundle, 'text/plain': NOTE, 'text/html': html}
