"""Serve a built book from 127.0.0.1 and check one page as a reader sees it in Chromium.

`open_page(tab, base, root, path)` loads a page into a playwright tab (from
pytest-playwright's `page` fixture) with every request to another host blocked, never
sent: the book must render fully offline. It follows a meta-refresh redirect (Jupyter
Book's index.html) and waits until MathJax has finished, every image has settled, web
fonts are ready and no request is in flight. It returns a `Visit`, and each check below
takes the visit and returns its problems (`Problem(check, text)`, [] when none):

  console   console messages of type 'error' and uncaught exceptions;
  requests  failed requests, and responses with status >= 400;
  external  a request to any host but the local server (blocked, and reported);
  math      MathJax that never started; raw TeX delimiters \\( \\) \\[ \\] $$ left in the
            text outside code; math in the source but no mjx-container in the page; a math
            element left untypeset; a MathJax TeX error;
  images    an <img> that did not load, or loaded with zero natural size;
  players   a matplotlib `to_jshtml` player (div.animation) without its <img>, whose
            <img> shows no frame, or without buttons;
  links     an internal <a href> (or the meta refresh) whose file is not in the book, or
            whose #fragment names no id or name in the target page;
  dark      the page did not turn dark (for a tab whose context prefers a dark scheme).

Not reported: the browser's own request for /favicon.ico at the server root (a page that
names no icon), which is not the book's. Where Chromium is: $POOLBOOK_CHROMIUM, else
`chromium` or `chromium-browser` on PATH (Debian's; never one `playwright install`
downloads). Without it, or without playwright, `skip_or_fail_without_browser` skips,
unless POOLBOOK_REQUIRE_BROWSER=1 (CI), which makes that a failure.
"""
import contextlib
import dataclasses
import functools
import http.server
import json
import os
import pathlib
import re
import shutil
import threading
import urllib.parse
from typing import NamedTuple

import pytest
from bs4 import BeautifulSoup

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # reported, as a skip or a failure, by skip_or_fail_without_browser
    PlaywrightError = PlaywrightTimeout = None

LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update',
               '--disable-sync']
CONTEXT_ARGS = {'viewport': {'width': 1280, 'height': 800}, 'service_workers': 'block'}
TIMEOUT_MS = 15_000
PNG = b'\x89PNG\r\n\x1a\n'


# ---------------------------------------------------------------------------- browser

def chromium_path():
    """The Chromium to drive: $POOLBOOK_CHROMIUM, else chromium on PATH; None if none."""
    return (os.environ.get('POOLBOOK_CHROMIUM') or shutil.which('chromium')
            or shutil.which('chromium-browser'))


def launch_args():
    """playwright's launch options for that Chromium (pytest-playwright's
    `browser_type_launch_args`)."""
    return {'executable_path': chromium_path(), 'headless': True, 'args': LAUNCH_ARGS,
            'timeout': 30_000}


def missing_for_browser():
    """What the browser tests lack on this machine, as phrases; [] when nothing."""
    missing = []
    if PlaywrightError is None:
        missing.append('the Python package playwright is not importable (pip install it '
                       'into .venv; never `playwright install`)')
    path = chromium_path()
    if path is None:
        missing.append('no Chromium ($POOLBOOK_CHROMIUM unset, and no chromium or '
                       'chromium-browser on PATH)')
    elif not os.access(path, os.X_OK):
        missing.append(f'no Chromium at {path} (from $POOLBOOK_CHROMIUM)')
    return missing


def skip_or_fail_without_browser():
    """Skip the test, or fail it under POOLBOOK_REQUIRE_BROWSER=1, if a browser is missing."""
    missing = missing_for_browser()
    if missing:
        message = 'browser tests cannot run: ' + '; '.join(missing)
        if os.environ.get('POOLBOOK_REQUIRE_BROWSER') == '1':
            pytest.fail(message + ' (POOLBOOK_REQUIRE_BROWSER=1 requires them)', pytrace=False)
        pytest.skip(message + ' (set POOLBOOK_REQUIRE_BROWSER=1 to fail instead)')


# ----------------------------------------------------------------------------- server

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request."""

    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def serve(directory, handler=QuietHandler):
    """Serve `directory` on 127.0.0.1 at a free port; yield the base URL (ends in /)."""
    server = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(handler, directory=str(directory)))
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # a browser hanging up: no noise
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{server.server_address[1]}/'
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# ------------------------------------------------------------------- loading a page

class Problem(NamedTuple):
    """One thing a reader would meet, and the check that found it."""
    check: str
    text: str

    def __str__(self):
        return f'[{self.check}] {self.text}'


@dataclasses.dataclass
class Visit:
    """A page loaded in a tab, with what the browser recorded while loading it."""
    tab: object                      # playwright's Page
    base: str                        # the server's URL, ending in /
    root: pathlib.Path               # the folder it serves
    here: pathlib.Path = None        # the file the tab finally shows
    source: BeautifulSoup = None     # that file's HTML, as built
    refresh: tuple = None            # (raw, absolute) of a meta refresh followed
    mathjax: str = 'absent'          # 'absent', 'done' or 'never started'
    console: list = dataclasses.field(default_factory=list)
    failed: list = dataclasses.field(default_factory=list)
    blocked: list = dataclasses.field(default_factory=list)
    pending: set = dataclasses.field(default_factory=set)
    broken: list = dataclasses.field(default_factory=list)  # the browser itself failed


MATHJAX_DONE = """async () => {
    if (!window.MathJax) return 'absent';
    if (!(MathJax.startup && MathJax.startup.promise)) return 'not started';
    await MathJax.startup.promise;
    return 'done';
}"""

# Every <img> finished, loading or failing; lazy images are made eager first, or one
# below the fold would never load.
IMAGES_SETTLED = """() => {
    for (const img of document.images) if (img.loading === 'lazy') img.loading = 'eager';
    return Array.from(document.images).every(img => img.complete);
}"""


def record(visit):
    """Listen to the tab: block other hosts, note console errors and failed requests."""
    tab, base = visit.tab, visit.base

    def route(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            visit.blocked.append(route.request.url)
            route.abort('blockedbyclient')

    def console(message):
        where = message.location.get('url', '')
        # The browser's own /favicon.ico request is the server's business; a blocked
        # request's "Failed to load resource" is reported by `external`.
        if message.type == 'error' and where != base + 'favicon.ico' \
                and where not in visit.blocked:
            visit.console.append(f'error: {message.text[:300]} '
                                 f'(at {where or "?"}:{message.location.get("lineNumber")})')

    def failed(request):
        visit.pending.discard(request)
        if request.url not in visit.blocked:
            visit.failed.append(f'failed: {request.url} ({request.failure})')

    tab.route('**/*', route)
    tab.on('console', console)
    tab.on('pageerror', lambda error: visit.console.append(
        f'uncaught exception: {error.name}: {error.message}'))
    tab.on('request', lambda request: visit.pending.add(request))
    tab.on('requestfinished', lambda request: visit.pending.discard(request))
    tab.on('requestfailed', failed)
    tab.on('response', lambda response: response.status >= 400 and visit.failed.append(
        f'HTTP {response.status}: {response.url}'))


def refresh_target(soup):
    """The url of a page's meta refresh: '' if it names none, None if there is none."""
    refresh = soup.find('meta', attrs={'http-equiv': re.compile('^refresh$', re.I)})
    if refresh is None:
        return None
    match = re.search(r'url\s*=\s*[\'"]?([^\'";]+)', refresh.get('content', ''), re.I)
    return match.group(1).strip() if match else ''


def file_of(root, url):
    """The file under `root` that the server answers `url` with."""
    path = (root / urllib.parse.unquote(urllib.parse.urlsplit(url).path).lstrip('/')).resolve()
    return path / 'index.html' if path.is_dir() else path


def settle(visit):
    """Wait for MathJax, images, web fonts and the last requests."""
    tab = visit.tab
    visit.mathjax = tab.evaluate(MATHJAX_DONE)
    if visit.mathjax == 'not started':  # at 'load' its deferred script has run: a grace
        try:                              # period for async loading, then it failed
            tab.wait_for_function('() => MathJax.startup && MathJax.startup.promise',
                                  timeout=2_000)
            visit.mathjax = tab.evaluate(MATHJAX_DONE)
        except PlaywrightTimeout:
            visit.mathjax = 'never started'
    with contextlib.suppress(PlaywrightTimeout):  # `images` reports them one by one
        tab.wait_for_function(IMAGES_SETTLED, timeout=10_000)
    tab.evaluate('() => document.fonts.ready.then(() => true)')  # e.g. MathJax's fonts
    for _ in range(100):
        if not visit.pending:
            break
        tab.wait_for_timeout(50)


def open_page(tab, base, root, path):
    """Load `path` (relative to `root`, which is served at `base`) into the playwright
    tab `tab` as a reader would, and return the Visit."""
    visit = Visit(tab=tab, base=base, root=pathlib.Path(root))
    tab.set_default_timeout(TIMEOUT_MS)
    record(visit)
    try:
        tab.goto(base + path, wait_until='load')
        raw = refresh_target(BeautifulSoup((visit.root / path).read_text('utf-8'),
                                           'html.parser'))
        if raw is not None:  # a redirect (index.html): check the page it leads to
            visit.refresh = (raw, urllib.parse.urljoin(base + path, raw))
            if raw:
                tab.wait_for_url(visit.refresh[1], wait_until='load')
        visit.here = file_of(visit.root, tab.url)
        if visit.here.is_file():  # (a redirect to a missing page: `links` reports it)
            visit.source = BeautifulSoup(visit.here.read_text('utf-8'), 'html.parser')
        settle(visit)
    except PlaywrightError as error:
        visit.broken.append(f'{type(error).__name__}: {str(error).splitlines()[0]}')
    return visit


# -------------------------------------------------------------------------- the checks

def console(visit):
    """Console errors and uncaught exceptions."""
    return [Problem('console', text) for text in visit.console]


def requests(visit):
    """Failed requests and HTTP errors."""
    return [Problem('requests', text) for text in visit.failed]


def external(visit):
    """Requests to any host but the local server (they were blocked)."""
    return [Problem('external', f'request to another host blocked: {url}')
            for url in dict.fromkeys(visit.blocked)]


# The text a reader meets as prose: every text node of <body> except in code (a code cell
# may print TeX on purpose), MathJax's own output and script/style/template. Hidden text
# counts: a collapsed toggle opens on a click, and MathJax typesets hidden math too.
RAW_TEX = r"""() => {
    const skip = 'script, style, template, noscript, textarea, pre, code, kbd, samp, '
               + '.highlight, mjx-container';
    const delimiters = ['\\(', '\\)', '\\[', '\\]', '$$'];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const found = [];
    while (walker.nextNode()) {
        const node = walker.currentNode;
        if (!node.parentElement || node.parentElement.closest(skip)) continue;
        for (const d of delimiters) {
            const at = node.data.indexOf(d);
            if (at >= 0) found.push([d, node.data.slice(Math.max(0, at - 30), at + 40)]);
        }
    }
    return found;
}"""

MATH_STATE = """() => ({
    containers: document.querySelectorAll('mjx-container').length,
    untypeset: Array.from(document.querySelectorAll('.math'))
        .filter(el => !el.querySelector('mjx-container'))
        .map(el => el.textContent.trim().slice(0, 60)),
    errors: Array.from(document.querySelectorAll('mjx-merror'))
        .map(el => el.getAttribute('data-mjx-error') || el.textContent.slice(0, 60)),
})"""


def math(visit):
    """MathJax started, typeset every math element, and left no raw TeX in the prose."""
    found = []
    if visit.mathjax == 'never started':
        found.append('window.MathJax is configured but MathJax never started')
    found += [f'raw TeX delimiter {d} in the text: {text!r}'
              for d, text in visit.tab.evaluate(RAW_TEX)]
    state = visit.tab.evaluate(MATH_STATE)
    in_source = len(visit.source.select('.math')) if visit.source else 0
    if in_source and state['containers'] == 0:
        found.append(f'the source has {in_source} math element(s) but the page no '
                     f'mjx-container (MathJax {visit.mathjax})')
    elif state['untypeset']:
        found.append(f'{len(state["untypeset"])} math element(s) not typeset, first: '
                     f'{state["untypeset"][0]!r}')
    found += [f'MathJax error: {error}' for error in state['errors']]
    return [Problem('math', text) for text in found]


IMAGES = """() => Array.from(document.images).map(img => ({
    src: (img.getAttribute('src') || '(no src)').slice(0, 100),
    complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
}))"""


def images(visit):
    """Every <img> loaded with a non-zero size."""
    return [Problem('images', f'not loaded or empty ({img["width"]}x{img["height"]}, '
                              f'complete={img["complete"]}): {img["src"]}')
            for img in visit.tab.evaluate(IMAGES)
            if not (img['complete'] and img['width'] > 0 and img['height'] > 0)]


PLAYERS = """() => Array.from(document.querySelectorAll('.animation')).map(div => {
    const img = div.querySelector('img');
    const buttons = div.querySelector('.anim-buttons');
    return {img: !!img, width: img ? img.naturalWidth : 0,
            height: img ? img.naturalHeight : 0,
            buttons: buttons ? buttons.querySelectorAll('button').length : 0};
})"""


def players(visit):
    """Every matplotlib animation player shows a frame and has its buttons."""
    found = []
    for n, player in enumerate(visit.tab.evaluate(PLAYERS), 1):
        if not player['img']:
            found.append(f'player {n} has no <img>')
        elif not (player['width'] > 0 and player['height'] > 0):
            found.append(f'player {n} shows no frame (0x0 image)')
        if not player['buttons']:
            found.append(f'player {n} has no buttons')
    return [Problem('players', text) for text in found]


LINKS = """() => Array.from(document.querySelectorAll('a[href]'))
    .map(a => [a.getAttribute('href'), a.href])"""

HAS_TARGET = """id => !!document.getElementById(id) || document.getElementsByName(id).length > 0"""


@functools.lru_cache(maxsize=None)
def anchors_in(path, mtime):
    """Every id and name in the HTML file `path` (mtime: a cache key that sees rebuilds)."""
    soup = BeautifulSoup(pathlib.Path(path).read_text(encoding='utf-8'), 'html.parser')
    return ({tag['id'] for tag in soup.find_all(id=True)}
            | {tag['name'] for tag in soup.find_all(attrs={'name': True})})


def link_problem(raw, absolute, base, root, here=None, here_has=None):
    """Why the link `raw`, which the browser resolved to `absolute`, is broken; None if it
    is not. A fragment of the page `here` itself is looked up in the live page with
    `here_has` (ids made by scripts count); one of another page in that page's file.
    External http(s) links are links, not assets: they are never fetched."""
    if re.match(r'\s*(mailto|tel|javascript):', raw, re.I):
        return None
    parts = urllib.parse.urlsplit(absolute)
    if not absolute.startswith(base):
        if parts.scheme in ('http', 'https'):
            return None
        return f'{raw!r}: neither within the book nor an http(s) address'
    root = root.resolve()
    target = file_of(root, absolute)
    if root not in (target, *target.parents):
        return f'{raw!r}: points outside the book'
    if not target.is_file():
        return f'{raw!r}: no file {target.relative_to(root)} in the book'
    fragment = urllib.parse.unquote(parts.fragment)
    # href="#" (empty fragment) and "#top" scroll to the top without naming an element.
    if not fragment or fragment.lower() == 'top' or target.suffix != '.html':
        return None
    if target == here and here_has is not None:
        if not here_has(fragment):
            return f'{raw!r}: no element with id or name {fragment!r} on this page'
    elif fragment not in anchors_in(str(target), target.stat().st_mtime):
        return f'{raw!r}: no element with id or name {fragment!r} in {target.relative_to(root)}'
    return None


def links(visit):
    """Every internal link of the live page (script-made ones too), and a meta refresh,
    leads to a file of the book and to an element of it."""
    found = []
    if visit.refresh is not None:
        raw, absolute = visit.refresh
        problem = (link_problem(raw, absolute, visit.base, visit.root) if raw
                   else 'names no url')
        found += [f'meta refresh {problem}'] if problem else []
    here_has = functools.lru_cache(maxsize=None)(
        lambda fragment: visit.tab.evaluate(HAS_TARGET, fragment))
    for raw, absolute in dict.fromkeys(map(tuple, visit.tab.evaluate(LINKS))):
        problem = link_problem(raw, absolute, visit.base, visit.root, visit.here, here_has)
        found += [problem] if problem else []
    return [Problem('links', text) for text in found]


CODE_WIDTHS = """() => Array.from(document.querySelectorAll('div.cell_input pre'))
    .map(pre => [pre.scrollWidth, pre.clientWidth, pre.textContent.split('\\n')
        .reduce((longest, line) => line.length > longest.length ? line : longest, '')])"""


def code(visit):
    """Every code cell's source fits its box: no line makes the reader scroll sideways."""
    return [Problem('code', f'a code cell scrolls sideways ({scroll} px of content in '
                            f'{width} px); its longest line: {line.strip()[:60]!r}')
            for scroll, width, line in visit.tab.evaluate(CODE_WIDTHS) if scroll > width + 1]


THEME = """() => [document.documentElement.dataset.theme,
                  getComputedStyle(document.body).backgroundColor]"""


def luminance(css_color):
    """0 (black) to 1 (white) for 'rgb(r, g, b)'; a transparent colour shows the white
    canvas."""
    numbers = [float(x) for x in re.findall(r'[\d.]+', css_color)]
    if len(numbers) < 3 or (len(numbers) == 4 and numbers[3] == 0):
        return 1.0
    return sum(numbers[:3]) / (3 * 255)


def dark(visit):
    """The page is dark: the theme says so and the body's background is dark."""
    theme, background = visit.tab.evaluate(THEME)
    if theme == 'dark' and luminance(background) <= 0.3:
        return []
    return [Problem('dark', f'the page is not dark: data-theme={theme!r}, '
                            f'body background {background}')]


READER = (console, requests, external, math, images, players, links, code)  # every page


def check(visit, checks=READER):
    """Run `checks` on the visit; every problem found, the browser's own failure first."""
    found = [Problem('browser', text) for text in visit.broken]
    for run in checks:
        try:
            found += run(visit)
        except PlaywrightError as error:
            found.append(Problem(run.__name__, f'{type(error).__name__}: '
                                               f'{str(error).splitlines()[0]}'))
    return found


def screenshot(visit, path):
    """A full-page screenshot of the visit, for a person to look at."""
    visit.tab.screenshot(path=str(path), full_page=True)
    return path


def report(page, problems):
    """The problems as an assertion message."""
    lines = '\n  '.join(map(str, problems))
    return f'{page}: {len(problems)} problem(s) a reader would meet:\n  {lines}'


# --------------------------------------------------- the live explorer (chapter 2)

# Move the page's first explorer (_static/explorer.js) to each setting, as its controls
# would (instance.set), and read back what it then shows: the settings its controls
# hold, the machine-readable copy of its output (data-shape, data-output, data-message,
# data-formula) and the text of its output table, status line and refusal.
EXPLORER_VIEWS = """json => {
    const settings = JSON.parse(json);
    const explorer = window.poolExplorer.instances[0], root = explorer.root;
    const text = selector => root.querySelector(selector).textContent;
    return JSON.stringify(settings.map(setting => {
        explorer.set(setting);
        return {settings: explorer.settings(), shape: root.dataset.shape,
                output: root.dataset.output, message: root.dataset.message,
                formula: root.dataset.formula, status: text('.pe-status'),
                refused: text('.pe-refused'),
                table: root.querySelector('.pe-figure').hidden ? [] :
                    Array.from(root.querySelectorAll('table.pe-output tr'),
                               tr => Array.from(tr.cells, td => td.textContent))};
    }));
}"""


def explorer_views(tab, settings, chunk=1500):
    """What the page's first explorer shows for each of `settings` (dicts of pool2d's
    arguments and 'source', the input's name), one page evaluation per `chunk`.
    (Both ways as JSON text: playwright's own serialization of a few thousand objects
    takes seconds.)"""
    for start in range(0, len(settings), chunk):
        part = settings[start:start + chunk]
        yield from zip(part, json.loads(tab.evaluate(EXPLORER_VIEWS, json.dumps(part))))
