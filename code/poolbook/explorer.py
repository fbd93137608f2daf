"""The pooling explorer of chapter 2: controls for the window, strides, padding, mode,
ceil_mode and count_include_pad over an input the reader picks, redrawing as they move.
It comes in two versions, which show the same things:

* In the HTML book, without a kernel: `page_html(settings)` writes an element that holds
  every input (computed here, by `make_input`), the settings to start from and the
  presets; _static/explorer.js builds the controls in it and pools as pool2d does
  (tests/test_browser.py compares the two over thousands of settings).
* Where a kernel runs (JupyterLab, Binder): ipywidgets controls over `explore`, which
  calls pool2d itself, so any input works, large ones included.

* `explore(...)` is the whole computation of the kernel version: given the controls'
  values it returns a `View` (input, output, message, filled-in output-size formula,
  figure). No widget involved, so it is tested without a browser.
* `build_ui()` makes the ipywidgets controls and wires them to `explore` with `observe`.
* `Explorer()` is what the chapter's cell displays: the widget where a frontend runs the
  kernel; in the static book, which shows an output's HTML instead of a widget, the
  kernel-free explorer; NOTE as its text.
"""
import html
import io
import json
from typing import NamedTuple

import numpy as np

from poolbook import figures
from poolbook.checks import as_pair, check_flag, check_int, check_mapping
from poolbook.pooling import output_size, pool2d

INPUTS = ('4x4 arange', '4x4 negative', '3x3 arange', 'random 6x6', 'photo 8x8')
# Where both versions start: a setting none of the chapter's figures shows.
DEFAULTS = dict(pool_size=(3, 2), mode='max', strides=(2, 1), padding=(1, 0),
                ceil_mode=False, count_include_pad=True, source='random 6x6', step=0)
# The sliders' ranges, the same in both versions: window, stride, padding per axis.
RANGES = {'pool_size': (1, 5), 'strides': (1, 4), 'padding': (0, 4)}
NOTE = ('The live explorer needs a running Python kernel: open this chapter in Binder '
        '(the rocket button at the top of the page) or in JupyterLab, run the cell, and '
        'move the sliders.')
# What the printed book (the PDF) says in the explorer's place, before the figure the
# chapter draws for paper: no explorer and no rocket button there (_static/print.css and
# explorer.css show it in print only).
PRINT_NOTE = ('The HTML book has a live explorer here, with a slider for every setting, '
              'computed in the page as you move them; it also runs in Binder (the rocket '
              "button at the top of the chapter's page in the HTML book) and in "
              'JupyterLab. On paper, the figure below shows a few settings side by side.')


class View(NamedTuple):
    """What the explorer shows for one setting of its controls."""
    X: np.ndarray      # the input
    Y: np.ndarray      # the output; None when the package refuses the setting
    message: str       # the package's error message; '' when the setting is valid
    formula: str       # the output-size rule with the numbers filled in, one line per axis
    figure: object     # draw_setting's figure; None when the setting is refused


def photo(size=8):
    """Grace Hopper's portrait (matplotlib's sample) in grey, pooled to size x size, 0-99."""
    check_int(size, 'size', minimum=1, maximum=512)
    from matplotlib import cbook, image
    rgb = image.imread(cbook.get_sample_data('grace_hopper.jpg', asfileobj=False))
    grey = rgb[:512, :512].mean(axis=2)  # the portrait's top square (it is 600 x 512)
    block = grey.shape[0] // size
    return np.round(pool2d(grey, block, 'avg', strides=block) / 255 * 99)


def make_input(source):
    """The input map named `source`, one of INPUTS, in float32 (as the chapter's X)."""
    if source == '4x4 arange':  # the chapter's X
        X = np.arange(16).reshape(4, 4)
    elif source == '4x4 negative':  # its X_neg = -X - 1: padding must not win a max
        X = -np.arange(1, 17).reshape(4, 4)
    elif source == '3x3 arange':  # its X9: ceil mode's last window starting in the padding
        X = np.arange(9).reshape(3, 3)
    elif source == 'random 6x6':
        X = np.random.default_rng(0).integers(0, 10, (6, 6))
    elif source == 'photo 8x8':
        X = photo(8)
    else:
        raise ValueError(f"source must be one of {INPUTS}, got {source!r}")
    return X.astype(np.float32)


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


def formula(X_hw, pool_size, strides, padding, ceil_mode):
    """The output-size rule for both axes, numbers filled in, one line each."""
    pairs = zip(('height', 'width'), X_hw, as_pair(pool_size, 'pool_size', 1),
                as_pair(strides, 'strides', 1), as_pair(padding, 'padding', 0))
    return '\n'.join(axis_formula(axis, n, k, s, p, ceil_mode) for axis, n, k, s, p in pairs)


def explore(pool_size=(3, 2), mode='max', *, strides=(2, 1), padding=(1, 0),
            ceil_mode=False, count_include_pad=True, source='random 6x6', step=0):
    """What the explorer shows for these values; `step` picks the drawn window, row by row."""
    check_int(step, 'step', minimum=0)  # the last window for any step past it
    X = make_input(source)
    args = dict(strides=strides, padding=padding, ceil_mode=ceil_mode,
                count_include_pad=count_include_pad)
    try:
        Y = pool2d(X, pool_size, mode, **args)
    except (ValueError, TypeError) as error:
        return View(X, None, str(error), '', None)
    position = divmod(min(step, Y.size - 1), Y.shape[1])
    figure = figures.draw_setting(X, pool_size, mode, **args, position=position)
    return View(X, Y, '', formula(X.shape, pool_size, strides, padding, ceil_mode), figure)


def png(figure):
    """The figure as PNG bytes (b'' for no figure)."""
    if figure is None:
        return b''
    if not hasattr(figure, 'savefig'):
        raise TypeError(f"figure must be a matplotlib Figure or None, got "
                        f"{type(figure).__name__}")
    buffer = io.BytesIO()
    figure.savefig(buffer, format='png', facecolor=figure.get_facecolor())
    return buffer.getvalue()


def describe(view):
    """The view's text as HTML: the formula and output, or the error message."""
    if not isinstance(view, View):
        raise TypeError(f"view must be a View, as explore returns it, got "
                        f"{type(view).__name__}")
    if view.message:
        return f'<p style="color:#b00020"><b>Refused:</b> {html.escape(view.message)}</p>'
    shape = ' x '.join(map(str, view.Y.shape))
    return (f'<pre>{html.escape(view.formula)}</pre><p>Output, {shape}:</p>'
            f'<pre>{html.escape(np.array2string(view.Y, precision=3))}</pre>')


# The controls: one per number, named as the book names them (k_h, s_w, ...), and what
# explore takes them as (pairs under pool2d's names).
PAIRS = {'pool_size': ('k_h', 'k_w'), 'strides': ('s_h', 's_w'), 'padding': ('p_h', 'p_w')}
LABELS = {'k_h': 'window k_h', 'k_w': 'window k_w', 's_h': 'stride s_h',
          's_w': 'stride s_w', 'p_h': 'padding p_h', 'p_w': 'padding p_w'}


def make_controls(pool_size, mode, strides, padding, ceil_mode, count_include_pad, source,
                  step):
    """One ipywidgets control per number of `explore`'s arguments, set to the given values."""
    import ipywidgets as w
    style = {'description_width': '8em'}
    slider = lambda value, low, high, label: w.IntSlider(
        value=value, min=low, max=high, description=label, style=style,
        continuous_update=False)
    values = {'pool_size': pool_size, 'strides': strides, 'padding': padding}
    controls = {}
    for name, (low, high) in RANGES.items():
        pair = as_pair(values[name], name, low)
        for control, value in zip(PAIRS[name], pair):
            controls[control] = slider(value, low, high, LABELS[control])
    return {
        **controls,
        'mode': w.ToggleButtons(options=['max', 'avg', 'sum'], value=mode,
                                description='mode', style=style),
        'ceil_mode': w.Checkbox(value=ceil_mode, description='ceil_mode'),
        'count_include_pad': w.Checkbox(value=count_include_pad,
                                        description='count_include_pad'),
        'source': w.Dropdown(options=INPUTS, value=source, description='input',
                             style=style),
        'step': slider(step, 0, 15, 'output cell'),
    }


def arguments(controls):
    """The controls' values as `explore`'s arguments (pairs under pool2d's names)."""
    values = {name: control.value for name, control in controls.items()}
    for name, (h, w) in PAIRS.items():
        values[name] = (values.pop(h), values.pop(w))
    return values


def check_settings(values):
    """Refuse settings the controls cannot show: unknown names, values outside RANGES.

    Parameters
    ----------
    values : dict
        Some of DEFAULTS' names with their values: pairs (or ints) for pool_size,
        strides and padding within RANGES, a mode of the explorer's (max, avg, sum), a
        source of INPUTS, True or False for the flags, an int step from 0.

    Raises
    ------
    TypeError, ValueError
        Naming the setting.
    """
    check_mapping(values, 'settings', 'name: value, as DEFAULTS')
    for name, value in values.items():
        if name not in DEFAULTS:
            raise TypeError(f"{name} is not a setting of the explorer: its settings are "
                            f"{', '.join(DEFAULTS)}")
        if name in RANGES:
            low, high = RANGES[name]
            if any(v > high for v in as_pair(value, name, low)):
                raise ValueError(f"{name} must be from {low} to {high} in each axis (the "
                                 f"sliders' range), got {value!r}")
        elif name == 'mode' and value not in ('max', 'avg', 'sum'):
            raise ValueError(f"mode must be 'max', 'avg' or 'sum', got {value!r}")
        elif name == 'source' and value not in INPUTS:
            raise ValueError(f"source must be one of {INPUTS}, got {value!r}")
        elif name in ('ceil_mode', 'count_include_pad'):
            check_flag(value, name)
        elif name == 'step':
            check_int(value, 'step', minimum=0)


def build_ui(**values):
    """The controls (a dict by name) and the box showing them, wired to `explore`."""
    import ipywidgets as w
    check_settings(values)
    controls = make_controls(**{**DEFAULTS, **values})
    text, picture = w.HTML(), w.Image(format='png')

    def redraw(change=None):
        view = explore(**arguments(controls))
        text.value = describe(view)
        picture.value = png(view.figure)
        picture.layout.display = 'none' if view.figure is None else ''
        if view.Y is not None:
            controls['step'].max = view.Y.size - 1

    for control in controls.values():
        control.observe(redraw, names='value')
    redraw()
    left = [controls[n] for n in ('k_h', 'k_w', 's_h', 's_w', 'p_h', 'p_w')]
    right = [controls[n] for n in ('mode', 'ceil_mode', 'count_include_pad', 'source',
                                   'step')]
    box = w.VBox([w.HBox([w.VBox(left), w.VBox(right)]), text, picture])
    return controls, box


class Explorer:
    """The explorer in a cell: the widget in a frontend, the kernel-free explorer in the
    static book, the note NOTE as text."""

    def __init__(self, **values):
        self.controls, self.box = build_ui(**values)
        self.settings = {name: value for name, value in {**DEFAULTS, **values}.items()
                         if name != 'step'}

    def _repr_mimebundle_(self, **kwargs):
        """The widget's view, with the kernel-free explorer as its HTML alternative."""
        bundle = self.box._repr_mimebundle_(**kwargs)
        return {**bundle, 'text/plain': NOTE, 'text/html': page_html(self.settings)}


# ------------------------------------------------------ the kernel-free explorer's data

# The settings a reader of the HTML book can pick in one step: the chapter's examples.
PRESETS = {
    'MaxPool2D(3)': dict(source='4x4 arange', pool_size=(3, 3), strides=(3, 3),
                         padding=(0, 0), mode='max', ceil_mode=False),
    'MaxPool2D(3, padding=1, strides=2)': dict(
        source='4x4 arange', pool_size=(3, 3), strides=(2, 2), padding=(1, 1),
        mode='max', ceil_mode=False),
    'MaxPool2D((2, 3), padding=(1, 2), strides=(2, 3))': dict(
        source='4x4 arange', pool_size=(2, 3), strides=(2, 3), padding=(1, 2),
        mode='max', ceil_mode=False),
}


def page_settings(values):
    """Explorer settings as the page's script reads them: pairs as lists, JSON-ready."""
    return {name: list(as_pair(value, name, 0)) if name in PAIRS else value
            for name, value in values.items()}


def page_html(settings, note=NOTE, print_note=PRINT_NOTE):
    """The element _static/explorer.js turns into the kernel-free explorer: every input
    map of INPUTS, the settings to start from, the presets and the sliders' ranges, in
    data attributes; `note` shows where the script does not run, `print_note` in print
    (_static/explorer.css) instead of the explorer."""
    check_settings(settings)
    data = {'inputs': {name: make_input(name).tolist() for name in INPUTS},
            'settings': page_settings(settings),
            'presets': {name: page_settings(values) for name, values in PRESETS.items()},
            'ranges': RANGES}
    attributes = ' '.join(
        f'data-{name}="{html.escape(json.dumps(value, separators=(",", ":")))}"'
        for name, value in data.items())
    return (f'<div class="pool-explorer poolbook-screen-only" {attributes}><p><em>'
            f'{html.escape(note)}</em></p></div><p class="pool-explorer-print '
            f'poolbook-print-only" style="display: none"><em>{html.escape(print_note)}'
            f'</em></p>')
