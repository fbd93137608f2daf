"""Open every page of the built book in headless Chromium and check what a reader sees.

The built book (the session fixture `built_book`) is served from 127.0.0.1 by a local
http.server on a free port and each page is loaded, with playwright's sync API, into
Debian's Chromium (never a browser downloaded by `playwright install`). Every request to
another host is blocked, never sent: the book must render fully offline. `inspect_page`
returns every problem it finds on a page, each tagged with the check that found it:

  [console]   console messages of type 'error' and uncaught exceptions (page errors);
  [request]   failed requests, and responses with status >= 400;
  [external]  a request to any host but the local server (blocked and reported);
  [math]      once MathJax has finished: raw TeX delimiters \\( \\) \\[ \\] $$ left in the
              text outside code, a page whose source has math (class 'math') but no
              mjx-container, a math element left untypeset, a MathJax TeX error;
  [image]     an <img> that did not load, or loaded with zero natural size;
  [animation] a matplotlib `to_jshtml` player (div.animation) without its <img>, whose
              <img> shows no frame, or without buttons in div.anim-buttons;
  [link]      an internal <a href> (or meta refresh) whose file is not in _build/html, or
              whose #fragment names no id or name in the target page;
  [dark]      (dark mode only) the page did not turn dark;

and a full-page screenshot goes to _build/screenshots/<path, '/' -> '__', no .html>.png,
plus chapter 1 in dark mode as chapters__01_pooling_from_scratch.dark.png.

Each page opens in a fresh browser context, as a first-time reader (empty localStorage),
and is checked once it has loaded, MathJax has finished, every image has settled, web
fonts are ready and no request is in flight. Not reported: the browser's own request for
/favicon.ico at the server root (a page that names no icon), which is not the book's.

Which pages. Tests are parametrized at collection time, before the book is built, so the
list comes from the sources, one test per page, named after it: index.html (Jupyter
Book's redirect to the root page; it is followed and the page it leads to is checked),
every file in _toc.yml, genindex.html and search.html. `test_every_built_page_is_checked`
then lists the .html files actually built and fails on one nobody checks (.html files in
_static are the themes' Jinja macro templates, not pages; _sources and _images hold none).

Honesty. The `test_checker_*` tests serve deliberately broken pages from a temporary
directory the same way and assert that every check fires, and a clean page (with a real
matplotlib animation and every kind of valid link) on which none does.

Without Chromium or playwright the browser tests are skipped with the reason, unless
POOLBOOK_REQUIRE_BROWSER=1 (CI), which turns that into a failure naming what is missing.
`test_no_remote_asset_in_built_files` needs neither: it is a cheap static scan, a second
line behind the authoritative check, the browser run with every other host blocked.
"""
import contextlib
import functools
import http.server
import os
import pathlib
import re
import shutil
import sys
import threading
import urllib.parse

import pytest
from bs4 import BeautifulSoup

from notebooks import toc_files

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright
except ImportError:  # reported, as a skip or a failure, by the `browser` fixture
    sync_playwright = None
    PlaywrightError = PlaywrightTimeout = Exception

REQUIRE_BROWSER = os.environ.get('POOLBOOK_REQUIRE_BROWSER') == '1'
LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update',
               '--disable-sync']
VIEWPORT = {'width': 1280, 'height': 800}
TIMEOUT_MS = 15_000
CHAPTER_1 = 'chapters/01_pooling_from_scratch.html'
NOT_PAGES = {'_static', '_sources', '_images'}  # folders of _build/html that hold no page
PNG = b'\x89PNG\r\n\x1a\n'


def book_pages():
    """The pages the build must produce, known before it runs (see the docstring)."""
    pages = ['index.html'] + [f'{name}.html' for name in toc_files()]
    pages += ['genindex.html', 'search.html']
    return list(dict.fromkeys(pages))


def screenshot_name(page, suffix=''):
    """chapters/01_x.html -> chapters__01_x.png"""
    return page.removesuffix('.html').replace('/', '__') + suffix + '.png'


# ---------------------------------------------------------------------------- browser

def find_chromium():
    if os.access('/usr/bin/chromium', os.X_OK):
        return '/usr/bin/chromium'
    return shutil.which('chromium') or shutil.which('chromium-browser')


def missing_for_browser():
    """What the browser tests lack on this machine, as phrases; [] when nothing."""
    missing = []
    if sync_playwright is None:
        missing.append('the Python package playwright is not importable (pip install it '
                       'into .venv; never `playwright install`)')
    if find_chromium() is None:
        missing.append('no Chromium (looked for /usr/bin/chromium, and for chromium and '
                       'chromium-browser on PATH)')
    return missing


def skip_or_fail_without_browser():
    missing = missing_for_browser()
    if missing:
        message = 'browser tests cannot run: ' + '; '.join(missing)
        if REQUIRE_BROWSER:
            pytest.fail(message + ' (POOLBOOK_REQUIRE_BROWSER=1 requires them)', pytrace=False)
        pytest.skip(message + ' (set POOLBOOK_REQUIRE_BROWSER=1 to fail instead)')


@pytest.fixture(scope='module')
def browser():
    skip_or_fail_without_browser()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=find_chromium(), headless=True,
                                              args=LAUNCH_ARGS, timeout=30_000)
        yield chromium
        chromium.close()


# ----------------------------------------------------------------------------- server

class QuietHandler(http.server.SimpleHTTPRequestHandler):
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


@pytest.fixture(scope='module')
def book_url(built_book):
    with serve(built_book) as url:
        yield url


@pytest.fixture(scope='module')
def screenshots(built_book):
    folder = built_book.parent / 'screenshots'
    folder.mkdir(exist_ok=True)
    return folder


# ---------------------------------------------------------------------------- checker
# The JavaScript each check runs in the page.

MATHJAX_DONE = """async () => {
    if (!window.MathJax) return 'absent';
    if (!(MathJax.startup && MathJax.startup.promise)) return 'not started';
    await MathJax.startup.promise;
    return 'done';
}"""

# Wait until every <img> has finished, loading or failing; lazy images are made eager
# first, or one below the fold would never load.
IMAGES_SETTLED = """() => {
    for (const img of document.images) if (img.loading === 'lazy') img.loading = 'eager';
    return Array.from(document.images).every(img => img.complete);
}"""

# The text a reader meets as prose: every text node of <body> except in code (a code cell
# may print TeX on purpose), in MathJax's own output, and in script/style/template. This
# is document.body.innerText without code, plus hidden text: a collapsed toggle is shown
# on a click, and MathJax typesets hidden math too, so raw TeX there is a defect as well.
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

IMAGES = """() => Array.from(document.images).map(img => ({
    src: (img.getAttribute('src') || '(no src)').slice(0, 100),
    complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
}))"""

ANIMATIONS = """() => Array.from(document.querySelectorAll('.animation')).map(div => {
    const img = div.querySelector('img');
    const buttons = div.querySelector('.anim-buttons');
    return {img: !!img, width: img ? img.naturalWidth : 0,
            height: img ? img.naturalHeight : 0, buttonsDiv: !!buttons,
            buttons: buttons ? buttons.querySelectorAll('button').length : 0};
})"""

LINKS = """() => Array.from(document.querySelectorAll('a[href]'))
    .map(a => [a.getAttribute('href'), a.href])"""

HAS_TARGET = """id => !!document.getElementById(id) || document.getElementsByName(id).length > 0"""

THEME = """() => [document.documentElement.dataset.theme,
                  getComputedStyle(document.body).backgroundColor]"""


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
    target = (root / urllib.parse.unquote(parts.path).lstrip('/')).resolve()
    if root not in (target, *target.parents):
        return f'{raw!r}: points outside the book'
    if target.is_dir():
        target = target / 'index.html'
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


def luminance(css_color):
    """0 (black) to 1 (white) for 'rgb(r, g, b)'; a transparent colour shows the white
    canvas."""
    numbers = [float(x) for x in re.findall(r'[\d.]+', css_color)]
    if len(numbers) < 3 or (len(numbers) == 4 and numbers[3] == 0):
        return 1.0
    return sum(numbers[:3]) / (3 * 255)


def inspect_page(browser, base, root, page, screenshot=None, dark=False):
    """Load `page` (a path relative to `root`, which is served at `base`) as a reader
    would and return the problems they would meet, each tagged with its check."""
    problems, blocked = [], []
    context = browser.new_context(viewport=VIEWPORT, service_workers='block')
    context.set_default_timeout(TIMEOUT_MS)
    if dark:  # what the theme's switch stores; its inline <head> script reads it at load
        context.add_init_script("localStorage.setItem('mode', 'dark');"
                                "localStorage.setItem('theme', 'dark');")

    def route(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort('blockedbyclient')

    def console(message):
        where = message.location.get('url', '')
        # A browser asks the server root for /favicon.ico by itself when a page names no
        # icon; that is the web server's business, not the book's.
        # A blocked request's "Failed to load resource" is reported as [external].
        if message.type == 'error' and where != base + 'favicon.ico' and where not in blocked:
            problems.append(f'[console] error: {message.text[:300]} '
                            f'(at {where or "?"}:{message.location.get("lineNumber", "?")})')

    context.route('**/*', route)
    tab = context.new_page()
    pending = set()
    tab.on('request', lambda request: pending.add(request))
    tab.on('requestfinished', lambda request: pending.discard(request))
    tab.on('requestfailed', lambda request: pending.discard(request))
    tab.on('console', console)
    tab.on('pageerror', lambda error: problems.append(
        f'[console] uncaught exception: {error.name}: {error.message}'))
    tab.on('requestfailed', lambda request: request.url not in blocked and problems.append(
        f'[request] failed: {request.url} ({request.failure})'))
    tab.on('response', lambda response: response.status >= 400 and problems.append(
        f'[request] HTTP {response.status}: {response.url}'))
    try:
        url = base + page
        source = BeautifulSoup((root / page).read_text(encoding='utf-8'), 'html.parser')
        refresh = source.find('meta', attrs={'http-equiv': re.compile('^refresh$', re.I)})
        tab.goto(url, wait_until='load')
        if refresh is not None:  # a redirect (index.html): check the page it leads to
            match = re.search(r'url\s*=\s*[\'"]?([^\'";]+)', refresh.get('content', ''), re.I)
            if match is None:
                problems.append(f'[link] meta refresh without a url: {refresh}')
            else:
                url = urllib.parse.urljoin(url, match.group(1).strip())
                problem = link_problem(match.group(1), url, base, root)
                if problem:
                    problems.append(f'[link] meta refresh {problem}')
                tab.wait_for_url(url, wait_until='load')
        here = (root / urllib.parse.unquote(urllib.parse.urlsplit(tab.url).path).lstrip('/'))
        here = here.resolve() / 'index.html' if here.is_dir() else here.resolve()
        if here != (root / page).resolve():
            source = BeautifulSoup(here.read_text(encoding='utf-8'), 'html.parser')

        # (c) wait for MathJax: at 'load' its deferred script has run, so a MathJax
        # without startup is one whose script failed (a short grace for async loading)
        mathjax = tab.evaluate(MATHJAX_DONE)
        if mathjax == 'not started':
            try:
                tab.wait_for_function('() => MathJax.startup && MathJax.startup.promise',
                                      timeout=2_000)
                mathjax = tab.evaluate(MATHJAX_DONE)
            except PlaywrightTimeout:
                problems.append('[math] window.MathJax is configured but MathJax never started')
        with contextlib.suppress(PlaywrightTimeout):  # reported below, image by image
            tab.wait_for_function(IMAGES_SETTLED, timeout=10_000)
        # late requests, e.g. MathJax's web fonts, asked for once the math is laid out
        tab.evaluate('() => document.fonts.ready.then(() => true)')
        for _ in range(100):
            if not pending:
                break
            tab.wait_for_timeout(50)

        for delimiter, text in tab.evaluate(RAW_TEX):
            problems.append(f'[math] raw TeX delimiter {delimiter} in the text: {text!r}')
        math = tab.evaluate(MATH_STATE)
        if source.select('.math') and math['containers'] == 0:
            problems.append(f'[math] the source has {len(source.select(".math"))} math '
                            f'element(s) but the page no mjx-container (MathJax {mathjax})')
        elif math['untypeset']:
            problems.append(f'[math] {len(math["untypeset"])} math element(s) not typeset, '
                            f'first: {math["untypeset"][0]!r}')
        for error in math['errors']:
            problems.append(f'[math] MathJax error: {error}')

        # (d) images
        for img in tab.evaluate(IMAGES):
            if not (img['complete'] and img['width'] > 0 and img['height'] > 0):
                problems.append(f'[image] not loaded or empty ({img["width"]}x{img["height"]}'
                                f', complete={img["complete"]}): {img["src"]}')

        # (e) matplotlib's JavaScript animation players
        for n, anim in enumerate(tab.evaluate(ANIMATIONS), 1):
            if not anim['img']:
                problems.append(f'[animation] player {n} has no <img>')
            elif not (anim['width'] > 0 and anim['height'] > 0):
                problems.append(f'[animation] player {n} shows no frame '
                                f'({anim["width"]}x{anim["height"]} image)')
            if not anim['buttons']:
                where = 'empty div.anim-buttons' if anim['buttonsDiv'] else 'no div.anim-buttons'
                problems.append(f'[animation] player {n} has no buttons ({where})')

        # (f) links in the live page (links that scripts add included)
        here_has = functools.lru_cache(maxsize=None)(
            lambda fragment: tab.evaluate(HAS_TARGET, fragment))
        for raw, absolute in dict.fromkeys(map(tuple, tab.evaluate(LINKS))):
            problem = link_problem(raw, absolute, base, root, here, here_has)
            if problem:
                problems.append(f'[link] {problem}')

        if dark:
            theme, background = tab.evaluate(THEME)
            if theme != 'dark' or luminance(background) > 0.3:
                problems.append(f'[dark] the page is not dark: data-theme={theme!r}, '
                                f'body background {background}')
        # (g) for a person to look at
        if screenshot is not None:
            tab.screenshot(path=str(screenshot), full_page=True)
    except PlaywrightError as error:
        problems.append(f'[browser] {type(error).__name__}: {str(error).splitlines()[0]}')
    finally:
        context.close()
    problems.extend(f'[external] request to another host blocked: {url}' for url in blocked)
    return problems


def report(page, problems):
    return f'{page}: {len(problems)} problem(s) a reader would meet:\n  ' + '\n  '.join(problems)


# ------------------------------------------------------------------- the book's pages

def test_browser_is_available():
    """A failure of its own (besides errors in setup) when CI requires the browser."""
    skip_or_fail_without_browser()


@pytest.mark.parametrize('page', book_pages())
def test_page_as_a_reader_sees_it(browser, book_url, built_book, screenshots, page):
    assert (built_book / page).is_file(), f'{page} was not built'
    shot = screenshots / screenshot_name(page)
    problems = inspect_page(browser, book_url, built_book, page, screenshot=shot)
    assert not problems, report(page, problems)
    assert shot.read_bytes()[:8] == PNG


def test_chapter_1_in_dark_mode(browser, book_url, built_book, screenshots):
    """With pydata-sphinx-theme 0.17.1 an inline script at the top of <head> copies
    localStorage 'mode' and 'theme' to data-mode and data-theme on <html>, and the theme's
    JS then applies the mode ('' or 'auto': the system's colour scheme). Storing
    mode=dark before the page loads, as the theme switch does, is what works: a
    data-theme="dark" set before load is overwritten by that script (and one set after
    load darkens the page but is not what a reader's browser does)."""
    shot = screenshots / screenshot_name(CHAPTER_1, '.dark')
    problems = inspect_page(browser, book_url, built_book, CHAPTER_1, screenshot=shot,
                            dark=True)
    assert not problems, report(CHAPTER_1 + ' in dark mode', problems)
    assert shot.read_bytes()[:8] == PNG


def test_every_built_page_is_checked(built_book):
    built = {str(p.relative_to(built_book)) for p in built_book.rglob('*.html')
             if not NOT_PAGES & set(p.relative_to(built_book).parts)}
    unchecked = sorted(built - set(book_pages()))
    assert not unchecked, (f'pages built but never opened in the browser: {unchecked}; '
                           f'add them to book_pages() in {pathlib.Path(__file__).name}')


# --------------------------------------------------------- static scan for remote assets
# A second, cheap line behind the browser run. It flags what makes a browser fetch from
# another host while rendering: in HTML, src/srcset/poster/data attributes, <link href>
# other than navigational rels, a meta refresh, and CSS in <style> or style=""; in CSS,
# @import and url(); in JS and inline scripts, the same markup or CSS written as strings.
# Not flagged: <a href> (a link the reader may follow, e.g. Binder, GitHub, d2l.ai) and
# bare URL strings in JS, which are not fetched when a page renders: sphinx-thebe's
# unpkg.com address (THEBE_JS_URL) only when a reader starts live code; MathJax's files
# name CDNs (latest.js's table of them, jsdelivr in a11y/sre.js for the speech-rule
# engine) used on demand if at all. The browser run shows that none is fetched.

REMOTE = re.compile(r'^\s*(?:https?:)?//', re.I)
CSS_REMOTE = re.compile(r'''@import\s+(?:url\(\s*)?["']?((?:https?:)?//[^"')\s;]+)'''
                        r'''|url\(\s*["']?((?:https?:)?//[^"')\s]+)''', re.I)
MARKUP_REMOTE = re.compile(r'''<(?:script|link|img|iframe|source|video|audio|embed)\b'''
                           r'''[^>]*?\b(?:src|href)\s*=\s*\\?["']?((?:https?:)?//[^"'\\>\s]+)''',
                           re.I)
NAVIGATION_RELS = {'alternate', 'author', 'bookmark', 'canonical', 'first', 'help', 'index',
                   'last', 'license', 'me', 'next', 'prev', 'previous', 'search', 'up'}


def remote_in_code(text, css_only=False):
    found = [m.group(1) or m.group(2) for m in CSS_REMOTE.finditer(text)]
    if not css_only:
        found += [m.group(1) for m in MARKUP_REMOTE.finditer(text)]
    return found


def remote_in_html(soup):
    """[(tag, address)] for the remote assets an HTML page names."""
    found = []
    for tag in soup.find_all(True):
        urls = [tag[attr] for attr in ('src', 'poster', 'data', 'background')
                if REMOTE.match(tag.get(attr) or '')]
        for attr in ('srcset', 'imagesrcset'):
            urls += [c.split()[0] for c in (tag.get(attr) or '').split(',') if c.split()]
        if tag.name == 'link' and not set(tag.get('rel') or ['?']) <= NAVIGATION_RELS:
            urls.append(tag.get('href') or '')
        if tag.name == 'meta' and (tag.get('http-equiv') or '').lower() == 'refresh':
            urls += re.findall(r'url\s*=\s*[\'"]?([^\'";]+)', tag.get('content', ''), re.I)
        urls += remote_in_code(tag.get('style') or '', css_only=True)
        if tag.name == 'style':
            urls += remote_in_code(tag.get_text(), css_only=True)
        if tag.name == 'script' and not tag.get('src'):
            urls += remote_in_code(tag.get_text())
        found += [(f'<{tag.name}>', url) for url in dict.fromkeys(urls) if REMOTE.match(url)]
    return found


def remote_assets(root):
    """[(file, what, address)] for every remote asset named in root's .html/.css/.js."""
    found = []
    for path in sorted(root.rglob('*')):
        name = str(path.relative_to(root))
        if path.suffix not in ('.html', '.css', '.js'):
            continue
        text = path.read_text(encoding='utf-8', errors='replace')
        if path.suffix == '.css':
            text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
            found += [(name, 'css', url) for url in remote_in_code(text, css_only=True)]
        elif path.suffix == '.js':
            found += [(name, 'js', url) for url in remote_in_code(text)]
        else:
            found += [(name, what, url)
                      for what, url in remote_in_html(BeautifulSoup(text, 'html.parser'))]
    return found


def test_no_remote_asset_in_built_files(built_book):
    found = remote_assets(built_book)
    assert not found, 'remote assets in the built book:\n  ' + '\n  '.join(map(str, found))


# ----------------------------------------------------- the checks themselves can fail

@functools.lru_cache(maxsize=None)
def animation_html(offline=True):
    """The HTML of a real three-frame matplotlib JavaScript animation. matplotlib
    (3.10.9) starts it with a <link rel="stylesheet"> to Font Awesome 4.4 on
    maxcdn.bootstrapcdn.com for the buttons' icons; offline=True drops that link, as a
    book page that shows an animation has to (see the broken page for what it costs)."""
    from matplotlib.animation import FuncAnimation
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 2), dpi=50)
    axes = figure.subplots()
    line, = axes.plot([0, 1], [0, 1])
    animation = FuncAnimation(figure, lambda i: line.set_ydata([0, i]), frames=3)
    html = animation.to_jshtml()
    if offline:
        html = re.sub(r'<link rel="stylesheet"\s+href="https://maxcdn[^>]*>', '', html)
        assert 'https://' not in html
    return html


def small_png(path):
    from matplotlib.figure import Figure

    Figure(figsize=(1, 1), dpi=20).savefig(path, format='png')


class HangUpHandler(QuietHandler):
    """Closes the connection without answering for any path starting with /hangup."""

    def do_GET(self):
        if self.path.startswith('/hangup'):
            self.close_connection = True
            return
        super().do_GET()


def page_html(body, head=''):
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title>{head}</head>'
            f'<body>{body}</body></html>')


def test_checker_passes_a_clean_page(browser, tmp_path):
    """No false alarm: a working animation, an image, and every kind of valid link."""
    small_png(tmp_path / 'ok.png')
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'sub' / 'index.html').write_text(page_html('<p>sub</p>'))
    (tmp_path / 'other.html').write_text(page_html('<h2 id="there">there</h2>'))
    (tmp_path / 'clean.html').write_text(page_html(f'''
        <h1 id="here">Clean</h1><a name="named"></a>
        <p>Prices in $ and one \\ backslash; in code, TeX stays raw:</p>
        <pre>print(r"$$x$$ \\(y\\) \\[z\\]")</pre> <code>\\(w\\)</code>
        <img src="ok.png" alt="ok">
        {animation_html()}
        <a href="#">top</a> <a href="#top">top</a> <a href="#here">here</a>
        <a href="#named">named</a> <a href="other.html">other</a>
        <a href="other.html#there">there</a> <a href="./clean.html#here">self</a>
        <a href="sub/">sub</a> <a href="sub/index.html">sub</a>
        <a href="https://example.com/missing#nothing">external</a>
        <a href="mailto:someone@example.com">mail</a> <a href="javascript:void(0)">js</a>
        <script>document.body.insertAdjacentHTML('beforeend',
            '<a href="#made-by-script">x</a><p id="made-by-script"></p>')</script>'''))
    with serve(tmp_path) as base:
        shot = tmp_path / 'clean.png'
        assert inspect_page(browser, base, tmp_path, 'clean.html', screenshot=shot) == []
        assert shot.read_bytes()[:8] == PNG
        # the dark-mode check fires on a page with no dark theme
        problems = inspect_page(browser, base, tmp_path, 'clean.html', dark=True)
        assert len(problems) == 1 and problems[0].startswith('[dark] the page is not dark')


def test_checker_catches_broken_page(browser, tmp_path):
    small_png(tmp_path / 'ok.png')
    (tmp_path / 'corrupt.png').write_bytes(b'not a png at all')
    (tmp_path / 'other.html').write_text(page_html('<h2 id="there">there</h2>'))
    broken_player = re.sub(r'<script.*?</script>', '', animation_html(offline=False),
                           flags=re.S)
    (tmp_path / 'broken.html').write_text(page_html(f'''
        <h1>Broken</h1>
        <script>console.error('deliberate console error')</script>
        <script>throw new Error('deliberate uncaught exception')</script>
        <p>Raw display math with no MathJax: $$x^2$$</p>
        <p>Inline: <span class="math notranslate nohighlight">\\(a + b\\)</span></p>
        <img src="missing.png" alt="missing"> <img src="corrupt.png" alt="corrupt">
        <img src="https://cdn.example.invalid/logo.png" alt="remote">
        {broken_player}
        <div class="animation"><img src="ok.png"></div>
        <a href="#nowhere">bad anchor</a> <a href="other.html#nowhere">bad anchor there</a>
        <a href="missing.html">missing page</a>''',
        head='''<script>window.MathJax = {}</script>
        <link rel="stylesheet" href="hangup.css">
        <script src="https://cdn.example.invalid/lib.js"></script>'''))
    with serve(tmp_path, HangUpHandler) as base:
        problems = inspect_page(browser, base, tmp_path, 'broken.html')
    expected = [
        '[console] error: deliberate console error',
        '[console] uncaught exception: Error: deliberate uncaught exception',
        f'[request] HTTP 404: {base}missing.png',
        f'[request] failed: {base}hangup.css',
        '[external] request to another host blocked: https://cdn.example.invalid/lib.js',
        '[external] request to another host blocked: https://cdn.example.invalid/logo.png',
        '[external] request to another host blocked: https://maxcdn.bootstrapcdn.com/',
        '[math] window.MathJax is configured but MathJax never started',
        '[math] raw TeX delimiter $$',
        '[math] raw TeX delimiter \\(',
        '[math] raw TeX delimiter \\)',
        '[math] the source has 1 math element(s) but the page no mjx-container',
        '[image] not loaded or empty (0x0, complete=True): missing.png',
        '[image] not loaded or empty (0x0, complete=True): corrupt.png',
        '[image] not loaded or empty (0x0, complete=True): https://cdn.example.invalid/logo.png',
        '[animation] player 1 shows no frame (0x0 image)',
        '[animation] player 2 has no buttons (no div.anim-buttons)',
        "[link] '#nowhere': no element with id or name 'nowhere' on this page",
        "[link] 'other.html#nowhere': no element with id or name 'nowhere' in other.html",
        "[link] 'missing.html': no file missing.html in the book",
    ]
    missed = [e for e in expected if not any(p.startswith(e) for p in problems)]
    assert not missed, f'checks that did not fire: {missed}\n' + report('broken.html', problems)
    assert not [p for p in problems if 'player 1 has no buttons' in p or 'player 2 shows' in p]


def test_checker_catches_math_mathjax_left_raw(browser, built_book, tmp_path):
    """With the book's own MathJax running: TeX it was told to skip, a math element with
    nothing it recognises, and TeX it cannot parse."""
    (tmp_path / '_static').mkdir()
    (tmp_path / '_static' / 'mathjax').symlink_to(built_book / '_static' / 'mathjax')
    (tmp_path / 'math.html').write_text(page_html(
        r'''<p>Typeset: <span class="math">\(x^2\)</span> and $$x^3$$</p>
        <p>Skipped: <span class="mathjax_ignore">\[y^2\]</span></p>
        <p>No delimiters: <span class="math">z^2</span></p>
        <p>Bad TeX: <span class="math">\(\frac{1}\)</span></p>''',
        head='''<script>window.MathJax = {"options": {"processHtmlClass": "math"}}</script>
        <script defer src="_static/mathjax/tex-chtml.js"></script>'''))
    with serve(tmp_path) as base:
        problems = inspect_page(browser, base, tmp_path, 'math.html')
    expected = [
        "[math] raw TeX delimiter \\[ in the text: '\\\\[y^2\\\\]'",
        "[math] raw TeX delimiter \\] in the text: '\\\\[y^2\\\\]'",
        "[math] 1 math element(s) not typeset, first: 'z^2'",
        '[math] MathJax error: Missing argument for \\frac',
    ]
    assert sorted(problems) == sorted(expected), report('math.html', problems)


def test_checker_skips_or_fails_without_browser(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], 'sync_playwright', None)
    monkeypatch.setattr(sys.modules[__name__], 'find_chromium', lambda: None)
    monkeypatch.setattr(sys.modules[__name__], 'REQUIRE_BROWSER', False)
    with pytest.raises(pytest.skip.Exception, match='playwright is not importable.*no Chromium'):
        skip_or_fail_without_browser()
    monkeypatch.setattr(sys.modules[__name__], 'REQUIRE_BROWSER', True)
    with pytest.raises(pytest.fail.Exception, match='POOLBOOK_REQUIRE_BROWSER=1 requires'):
        skip_or_fail_without_browser()


def test_static_scan_catches_remote_assets(tmp_path):
    (tmp_path / 'page.html').write_text(page_html(
        '''<img src="https://cdn.example/a.png"><a href="https://example.com/">a link</a>
        <div style="background: url('//cdn.example/b.png')"></div>
        <script>const URL_ONLY = "https://unpkg.com/never-fetched.js"</script>''',
        head='''<script src="https://cdn.example/c.js"></script>
        <link rel="stylesheet" href="https://cdn.example/d.css">
        <link rel="canonical" href="https://example.com/page.html">
        <style>@import "https://cdn.example/e.css";</style>'''))
    (tmp_path / 'f.css').write_text('/* url(https://in.a/comment.png) */ '
                                    'a { background: url("https://cdn.example/f.png") } '
                                    'b { background: url("data:image/svg+xml;'
                                    'xmlns=%27http://www.w3.org/2000/svg%27") }')
    (tmp_path / 'g.js').write_text('const cdn = "https://cdn.example/never.js"; '
                                   'el.innerHTML = \'<script src="https://cdn.example/g.js">\';')
    found = {(name, url) for name, _, url in remote_assets(tmp_path)}
    assert found == {('page.html', 'https://cdn.example/a.png'),
                     ('page.html', '//cdn.example/b.png'),
                     ('page.html', 'https://cdn.example/c.js'),
                     ('page.html', 'https://cdn.example/d.css'),
                     ('page.html', 'https://cdn.example/e.css'),
                     ('f.css', 'https://cdn.example/f.png'),
                     ('g.js', 'https://cdn.example/g.js')}
