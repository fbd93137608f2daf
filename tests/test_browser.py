"""Every page of the built book, opened in headless Chromium as a reader would, offline.

The harness is tests/pagecheck.py (serving, loading a page, one function per check); this
file says which pages get which checks. The book (fixture `built_book`) is served from
127.0.0.1 and every request to another host is blocked. Each test gets a fresh browser
context from pytest-playwright's `page` fixture, as a first-time reader (empty storage).

Which pages: tests are parametrized before the book is built, so the list comes from the
sources: index.html (Jupyter Book's redirect to the root page, which is followed), every
file in _toc.yml, genindex.html and search.html. `test_every_built_page_is_checked` fails
on a built page that is not in that list. A full-page screenshot of each page goes to
_build/screenshots/ (chapters/01_x.html -> chapters__01_x.png), and chapter 1 in dark
mode to chapters__01_pooling_from_scratch.dark.png.

`test_no_remote_asset_in_built_files` needs no browser: a cheap static scan
(tests/assetscan.py), a second line behind the browser run.

The explorer of chapter 2 (_static/explorer.js, in the page without a kernel) is
compared with the package: `explorer_sweep()` lists the settings, each is set on the
page's explorer as its controls would set it, and what the explorer then shows (its
output, shape, formula and refusal) must be what poolbook.pool2d and
poolbook.explorer.formula give for the same input. `MUTANTS` are one-line changes of the
script's arithmetic that the same comparison must catch, each run on a mutated copy.
"""
import decimal
import functools
import itertools
import json

import numpy as np
import pytest
from bs4 import BeautifulSoup

import pagecheck
from assetscan import remote_assets
from notebooks import toc_files
from poolbook import explorer, pool2d

CHAPTER_1 = 'chapters/01_pooling_from_scratch.html'
NOT_PAGES = {'_static', '_sources', '_images'}  # folders of _build/html that hold no page
# What the search page must find: a query, and chapters that must be among the results
# (none at all for a word the book does not contain).
SEARCHES = {'ceil_mode': {'chapters/02_padding_and_stride.html',
                          'chapters/05_fast_pooling.html'},
            'stride': {'chapters/02_padding_and_stride.html'},
            'xylophone': set()}


def book_pages():
    """The pages the build must produce, known before it runs (see the docstring)."""
    pages = ['index.html'] + [f'{name}.html' for name in toc_files()]
    pages += ['genindex.html', 'search.html']
    return list(dict.fromkeys(pages))


def screenshot_name(page, suffix=''):
    """chapters/01_x.html -> chapters__01_x.png"""
    return page.removesuffix('.html').replace('/', '__') + suffix + '.png'


@pytest.fixture(scope='module')
def book_url(built_book):
    with pagecheck.serve(built_book) as url:
        yield url


@pytest.fixture(scope='module')
def screenshots(built_book):
    folder = built_book.parent / 'screenshots'
    folder.mkdir(exist_ok=True)
    return folder


@pytest.mark.browser
def test_browser_is_available():
    """A failure of its own (besides errors in setup) when CI requires the browser."""
    pagecheck.skip_or_fail_without_browser()


@pytest.mark.parametrize('path', book_pages())
def test_page_as_a_reader_sees_it(page, book_url, built_book, screenshots, path):
    assert (built_book / path).is_file(), f'{path} was not built'
    visit = pagecheck.open_page(page, book_url, built_book, path)
    problems = pagecheck.check(visit, pagecheck.READER)
    assert not problems, pagecheck.report(path, problems)
    shot = pagecheck.screenshot(visit, screenshots / screenshot_name(path))
    assert shot.read_bytes()[:8] == pagecheck.PNG


@pytest.mark.browser_context_args(color_scheme='dark')
def test_chapter_1_in_dark_mode(page, book_url, built_book, screenshots):
    """The book follows the reader's colour scheme (default_mode: auto in _config.yml):
    a browser that prefers dark gets the dark theme, with everything else still right."""
    visit = pagecheck.open_page(page, book_url, built_book, CHAPTER_1)
    problems = pagecheck.check(visit, pagecheck.READER + (pagecheck.dark,))
    assert not problems, pagecheck.report(CHAPTER_1 + ' in dark mode', problems)
    shot = pagecheck.screenshot(visit, screenshots / screenshot_name(CHAPTER_1, '.dark'))
    assert shot.read_bytes()[:8] == pagecheck.PNG


SEARCH_BOX = 'form.bd-search:has(~ #search-results) input[name="q"]'  # the page's own
SEARCH_DONE = """() => /finished|did not match/.test(
    (document.querySelector('#search-results .search-summary') || {}).textContent || '')"""
RESULTS = """() => Array.from(document.querySelectorAll('#search-results ul.search li a'))
    .map(a => a.href)"""


@pytest.mark.parametrize('query', SEARCHES)
def test_search_finds_the_chapters(page, book_url, built_book, query):
    """Type a query into the search page's box, as a reader would, and read the results
    that Sphinx's JavaScript lists from the book's own search index, offline."""
    visit = pagecheck.open_page(page, book_url, built_book, 'search.html')
    page.fill(SEARCH_BOX, query)
    page.press(SEARCH_BOX, 'Enter')
    page.wait_for_function(SEARCH_DONE)
    found = {str(pagecheck.file_of(built_book, url).relative_to(built_book.resolve()))
             for url in page.evaluate(RESULTS)}
    missing = SEARCHES[query] - found
    assert not missing, f'searching {query!r} did not find {missing}; found {sorted(found)}'
    assert SEARCHES[query] or not found, f'{query!r} is in no chapter, yet found {found}'
    problems = pagecheck.check(visit, (pagecheck.console, pagecheck.requests,
                                       pagecheck.external))
    assert not problems, pagecheck.report(f'search.html?q={query}', problems)


def test_every_built_page_is_checked(built_book):
    built = {str(p.relative_to(built_book)) for p in built_book.rglob('*.html')
             if not NOT_PAGES & set(p.relative_to(built_book).parts)}
    unchecked = sorted(built - set(book_pages()))
    assert not unchecked, (f'pages built but never opened in the browser: {unchecked}; '
                           f'add them to book_pages() in {__name__}.py')


def test_no_remote_asset_in_built_files(built_book):
    found = remote_assets(built_book)
    assert not found, 'remote assets in the built book:\n  ' + '\n  '.join(map(str, found))


# ------------------------------------------------------- the explorer of chapter 2

EXPLORER_PAGE = 'chapters/02_padding_and_stride.html'
MODES = ('max', 'avg', 'sum')


def explorer_sweep():
    """The settings the explorer is compared with pool2d on, in a fixed shuffled order:
    every combination of window 1-3, stride 1-2 and padding 0-2 in each axis (padding as
    large as the window included: refused), mode, ceil_mode and count_include_pad on the
    3 x 3 input, and for max on the negative 4 x 4 input (where padding must not win);
    then 300 seeded random settings over the controls' whole ranges on each larger
    input."""
    flags = list(itertools.product((False, True), (False, True)))  # ceil, count pad
    axis = list(itertools.product(range(1, 4), range(1, 3), range(3)))  # k, s, p
    sweep = [dict(source=source, pool_size=(k_h, k_w), strides=(s_h, s_w),
                  padding=(p_h, p_w), mode=mode, ceil_mode=ceil, count_include_pad=pad)
             for source, modes in (('3x3 arange', MODES), ('4x4 negative', ('max',)))
             for (k_h, s_h, p_h), (k_w, s_w, p_w) in itertools.product(axis, axis)
             for mode in modes for ceil, pad in flags]
    rng = np.random.default_rng(0)
    pair = lambda low, high: tuple(rng.integers(low, high + 1, 2).tolist())
    for source in ('4x4 arange', 'random 6x6', 'photo 8x8'):
        sweep += [dict(source=source, pool_size=pair(1, 5), strides=pair(1, 4),
                       padding=pair(0, 4), mode=MODES[rng.integers(3)],
                       ceil_mode=bool(rng.integers(2)),
                       count_include_pad=bool(rng.integers(2))) for _ in range(300)]
    return [sweep[i] for i in rng.permutation(len(sweep))]


def shown(value):
    """A number as the explorer shows it: whole numbers in full, others to 3 significant
    digits, a tie rounded away from zero, trailing zeros dropped (JavaScript's
    toPrecision(3), read back as a number)."""
    value = float(value)
    if value.is_integer():
        return str(int(value))
    exact = decimal.Decimal(value)  # the float's exact binary value
    rounded = exact.quantize(decimal.Decimal(1).scaleb(exact.adjusted() - 2),
                             rounding=decimal.ROUND_HALF_UP)
    return format(rounded.normalize(), 'f')


@functools.lru_cache(maxsize=None)
def explorer_input(source):
    """The explorer's input map `source` (the photo takes a while to make)."""
    return explorer.make_input(source)


@functools.lru_cache(maxsize=None)
def package_view(source, pool_size, strides, padding, mode, ceil_mode, count_include_pad):
    """What the package says for one setting: (refusal message or '', output, formula)."""
    X = explorer_input(source)
    try:
        Y = pool2d(X, pool_size, mode, strides=strides, padding=padding,
                   ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    except ValueError as error:
        return str(error), None, ''
    return '', Y, explorer.formula(X.shape, pool_size, strides, padding, ceil_mode)


def explorer_mismatches(views):
    """How what the explorer showed differs from the package, one line per setting.

    Exact comparison, also for averages: the inputs hold whole numbers, so every sum is
    exact in float32 in any order, and pool2d's one float32 division and the script's
    float64 division rounded to float32 (Math.fround; 53 >= 2 * 24 + 2 bits, so rounding
    twice is harmless) are both the correctly rounded quotient."""
    found = []
    for setting, seen in views:
        problems = []
        held = {k: tuple(v) if isinstance(v, list) else v for k, v in seen['settings'].items()}
        if held != setting:
            problems.append(f'its controls hold {held}')
        message, Y, formula = package_view(**setting)
        if seen['message'] != message:
            problems.append(f'refusal {seen["message"]!r}, pool2d: {message!r}')
        if seen['refused'] != (f'pool2d refuses this setting: {message}' if message else ''):
            problems.append(f'refusal shown as {seen["refused"]!r}')
        if Y is None:
            if seen['shape'] or seen['output'] or seen['table']:
                problems.append(f'an output ({seen["shape"]!r}) for a refused setting')
        else:
            n_h, n_w = explorer_input(setting['source']).shape
            out = np.array(json.loads(seen['output'] or 'null'), dtype=np.float64)
            if seen['shape'] != f'{Y.shape[0]},{Y.shape[1]}' or out.shape != Y.shape:
                problems.append(f'shape {seen["shape"]!r}, pool2d: {Y.shape}')
            elif not np.array_equal(out, Y.astype(np.float64)):
                problems.append(f'output {out.tolist()}, pool2d: {Y.tolist()}')
            if seen['table'] != [[shown(v) for v in row] for row in Y]:
                problems.append(f'table {seen["table"]}, pool2d: {Y.tolist()}')
            if seen['formula'] != formula:
                problems.append(f'formula {seen["formula"]!r}, explorer.formula: {formula!r}')
            status = f'Input {n_h} × {n_w}, output {Y.shape[0]} × {Y.shape[1]}.'
            if seen['status'] != status:
                problems.append(f'status {seen["status"]!r}, expected {status!r}')
        if problems:
            found.append(f'{setting}: ' + '; '.join(problems))
    return found


def test_explorer_shows_what_pool2d_computes(page, book_url, built_book):
    """The whole sweep, on the chapter's page as a reader gets it."""
    visit = pagecheck.open_page(page, book_url, built_book, EXPLORER_PAGE)
    assert not pagecheck.check(visit, (pagecheck.console,))
    assert page.evaluate('() => window.poolExplorer.instances.length') == 1
    inputs = page.evaluate('() => window.poolExplorer.instances[0].inputs')
    assert list(inputs) == list(explorer.INPUTS)  # the package's maps, as float32
    for name, rows in inputs.items():
        assert np.array_equal(np.array(rows, np.float32), explorer_input(name)), name
    sweep = explorer_sweep()
    found = explorer_mismatches(pagecheck.explorer_views(page, sweep))
    assert not found, f'{len(found)} of {len(sweep)} settings differ:\n' + '\n'.join(found[:5])
    refused = sum(package_view(**setting)[0] != '' for setting in sweep)
    assert len(sweep) > 5000 and 1000 < refused < len(sweep) - 2000  # both kinds, many


# One-line changes of _static/explorer.js that the comparison must catch: (line as it is,
# line changed).
MUTANTS = {
    'ceil mode keeps a last window starting in the padding': (
        'if ((out - 1) * s >= n + p) out -= 1;', 'if ((out - 1) * s > n + p) out -= 1;'),
    'the divisor counts cells past the padded input': (
        'd.push(countPad ? Math.min(k, n + p - start)', 'd.push(countPad ? k'),
    'padding takes part in a max as 0': (
        "let value = mode === 'max' ? -Infinity : 0;", 'let value = 0;'),
    'results not rounded to float32': (
        'Y[i].push(Math.fround(value / divisor));', 'Y[i].push(value / divisor);'),
    'padding as large as the window accepted': (
        'if (p[0] >= k[0] || p[1] >= k[1]) {', 'if (p[0] > k[0] || p[1] > k[1]) {'),
}


@pytest.mark.parametrize('mutant', MUTANTS)
def test_the_comparison_catches_a_changed_line_of_the_script(page, built_book, mutant):
    """The explorer element as built, on an empty page, with a mutated copy of the book's
    script: the sweep, a chunk at a time, must find a difference."""
    script = (built_book / '_static' / 'explorer.js').read_text()
    line, changed = MUTANTS[mutant]
    assert script.count(line) == 1, f'the line to change is not in explorer.js: {line}'
    element = BeautifulSoup((built_book / EXPLORER_PAGE).read_text(), 'html.parser')
    page.set_content(str(element.select_one('div.pool-explorer')))
    page.add_script_tag(content=script.replace(line, changed))
    sweep, found = explorer_sweep(), []
    for start in range(0, len(sweep), 500):
        found = explorer_mismatches(pagecheck.explorer_views(page, sweep[start:start + 500]))
        if found:
            break
    assert found, f'the sweep does not notice: {mutant}'


def move_slider(page, name, target):
    """Move the explorer's slider `name` (its label) to `target` with the arrow keys."""
    slider = page.get_by_role('slider', name=name, exact=True)
    slider.focus()
    steps = target - int(slider.input_value())
    for _ in range(abs(steps)):
        page.keyboard.press('ArrowRight' if steps > 0 else 'ArrowLeft')
    assert int(slider.input_value()) == target, name


EXPLORER_STATE = """() => { const root = document.querySelector('.pool-explorer');
    return {shape: root.dataset.shape, window: root.dataset.window,
            status: root.querySelector('[aria-live]').textContent,
            equation: root.querySelector('.pe-equation').textContent,
            formula: root.dataset.formula,
            table: Array.from(root.querySelectorAll('table.pe-output tr'),
                              tr => Array.from(tr.cells, td => td.textContent))}; }"""


def test_a_reader_sets_the_chapters_example_with_keyboard_and_pointer(page, book_url,
                                                                       built_book):
    """MaxPool2D((2, 3), padding=(1, 2), strides=(2, 3)) on the 4 x 4 arange, set with
    the keys a keyboard user presses, gives the output D2L prints, [[0, 3], [8, 11],
    [12, 15]]; the arrow keys and the pointer pick an output cell and its window."""
    visit = pagecheck.open_page(page, book_url, built_book, EXPLORER_PAGE)
    assert not pagecheck.check(visit, (pagecheck.console,))
    source = page.get_by_role('combobox', name='map', exact=True)
    source.focus()
    for _ in explorer.INPUTS:  # the first input is the chapter's 4 x 4 arange
        page.keyboard.press('ArrowUp')
    assert source.input_value() == '4x4 arange'
    for name, value in (('height k_h', 2), ('width k_w', 3), ('down s_h', 2),
                        ('across s_w', 3), ('rows p_h', 1), ('columns p_w', 2)):
        move_slider(page, name, value)
    page.get_by_role('radio', name='max', exact=True).check()
    page.get_by_role('checkbox', name='ceil_mode').uncheck()
    state = page.evaluate(EXPLORER_STATE)
    assert state['table'] == [['0', '3'], ['8', '11'], ['12', '15']]
    assert state['shape'] == '3,2' and 'output 3 × 2' in state['status']
    live = page.locator('.pool-explorer [aria-live="polite"]')
    assert live.get_attribute('role') == 'status'  # read out by a screen reader
    assert state['formula'] == ('height: ⌊(4 + 2·1 − 2) / 2⌋ + 1 = 3\n'
                                'width: ⌊(4 + 2·2 − 3) / 3⌋ + 1 = 2')
    # Into the output with Tab; the arrow keys move to cell (1, 1): rows 1 to 2 and
    # columns 1 to 3 of the input, padded rows 2 to 3 and columns 3 to 5.
    page.get_by_role('checkbox', name='count_include_pad').focus()
    page.keyboard.press('Tab')
    assert page.evaluate('() => document.activeElement.dataset.cell') == '0 0'
    page.keyboard.press('ArrowDown')
    page.keyboard.press('ArrowRight')
    assert page.evaluate('() => document.activeElement.dataset.cell') == '1 1'
    page.wait_for_function("() => document.querySelector('.pool-explorer')"
                           ".dataset.window === '2 3'")
    assert page.evaluate(EXPLORER_STATE)['equation'] == \
        'Output [1, 1]: max(5, 6, 7, 9, 10, 11) = 11'
    box = page.locator('.pool-explorer .pe-active-window')
    assert (box.get_attribute('x'), box.get_attribute('y')) == ('90', '60')  # 30 per cell
    # The pointer on cell (2, 0): padded rows 4 to 5 and columns 0 to 2, of which only
    # input cell (3, 0) is not padding.
    page.hover('.pool-explorer td[data-cell="2 0"]')
    page.wait_for_function("() => document.querySelector('.pool-explorer')"
                           ".dataset.window === '4 0'")
    assert page.evaluate(EXPLORER_STATE)['equation'] == 'Output [2, 0]: max(12) = 12'
    # Padding as large as the window: the package's rule, in its words, and no output.
    move_slider(page, 'rows p_h', 2)
    with pytest.raises(ValueError) as refused:
        pool2d(explorer.make_input('4x4 arange'), (2, 3), strides=(2, 3), padding=(2, 2))
    alert = page.get_by_role('alert')
    assert alert.text_content() == f'pool2d refuses this setting: {refused.value}'
    assert page.evaluate(EXPLORER_STATE)['status'] == 'Refused.'
    assert not page.locator('.pool-explorer table.pe-output').is_visible()
    assert not pagecheck.check(visit, (pagecheck.console,))


def test_the_explorer_works_from_disk(page, built_book):
    """Opened as a file (file://), with nothing served: the preset menu sets the
    chapter's example and the explorer shows its output."""
    blocked = []
    page.route('**/*', lambda route: route.continue_() if route.request.url.startswith(
        'file://') else (blocked.append(route.request.url), route.abort()))
    page.goto((built_book / EXPLORER_PAGE).resolve().as_uri(), wait_until='load')
    page.get_by_role('combobox', name='preset').select_option(
        'MaxPool2D((2, 3), padding=(1, 2), strides=(2, 3))')
    assert page.evaluate(EXPLORER_STATE)['table'] == [['0', '3'], ['8', '11'], ['12', '15']]
    assert not blocked


def test_in_print_a_figure_takes_the_explorers_place(page, book_url, built_book):
    """On screen the live explorer shows and the figure for print does not; printed (the
    PDF), the reverse, with the sentence that points to the HTML book."""
    pagecheck.open_page(page, book_url, built_book, EXPLORER_PAGE)
    visible = """() => Object.fromEntries(Object.entries({
        explorer: '.pool-explorer', note: '.pool-explorer-print',
        figure: '.tag_print-only img'}).map(([name, selector]) => [name,
        Array.from(document.querySelectorAll(selector)).map(e => e.offsetParent !== null)]))"""
    assert page.evaluate(visible) == {'explorer': [True], 'note': [False], 'figure': [False]}
    page.emulate_media(media='print')
    assert page.evaluate(visible) == {'explorer': [False], 'note': [True], 'figure': [True]}
