"""The page checks of tests/pagecheck.py can fail, and do not cry wolf.

Deliberately broken pages, served from a temporary folder the way the book is, must make
each check fire, and name what it found (an address, a delimiter, a player); a clean page
with a real matplotlib animation and every kind of valid link must show no problem. The
tests assert which check fired and what it named, never a message's wording.
"""
import functools
import re

import pytest

import pagecheck
from assetscan import remote_assets
from pagecheck import Problem


def found(problems, check):
    """The texts of the problems that `check` reported."""
    return [p.text for p in problems if p.check == check]


def fired(problems):
    """The checks that reported a problem."""
    return {problem.check for problem in problems}


def names(problems, check, *subjects):
    """Each subject is named by some problem that `check` reported."""
    texts = found(problems, check)
    return all(any(s in t for t in texts) for s in subjects)


@functools.lru_cache(maxsize=None)
def animation_html(offline=True):
    """The HTML of a real three-frame matplotlib JavaScript animation. matplotlib starts
    it with a <link rel="stylesheet"> to Font Awesome on maxcdn.bootstrapcdn.com for the
    buttons' icons; offline=True drops that link, as a book page has to."""
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


class HangUpHandler(pagecheck.QuietHandler):
    """Closes the connection without answering for any path starting with /hangup."""

    def do_GET(self):
        if self.path.startswith('/hangup'):
            self.close_connection = True
            return
        super().do_GET()


def page_html(body, head=''):
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title>{head}</head>'
            f'<body>{body}</body></html>')


def visit_and_check(page, folder, path, checks, handler=pagecheck.QuietHandler):
    with pagecheck.serve(folder, handler) as base:
        visit = pagecheck.open_page(page, base, folder, path)
        return base, visit, pagecheck.check(visit, checks)


@pytest.fixture
def clean_page(tmp_path):
    """A page with an image, a working animation and every kind of valid link."""
    small_png(tmp_path / 'ok.png')
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'sub' / 'index.html').write_text(page_html('<p>sub</p>'))
    (tmp_path / 'other.html').write_text(page_html('<h2 id="there">there</h2>'))
    (tmp_path / 'index.html').write_text(page_html(
        '', head='<meta http-equiv="Refresh" content="0; url=clean.html" />'))
    (tmp_path / 'clean.html').write_text(page_html(f'''
        <h1 id="here">Clean</h1><a name="named"></a>
        <p>Prices in $ and one \\ backslash; in code, TeX stays raw:</p>
        <div class="cell_input"><pre>print(r"$$x$$ \\(y\\) \\[z\\]")</pre></div> <code>\\(w\\)</code>
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
    return tmp_path


def test_clean_page_shows_no_problem(page, clean_page):
    _, visit, problems = visit_and_check(page, clean_page, 'clean.html', pagecheck.READER)
    assert problems == [], pagecheck.report('clean.html', problems)
    shot = pagecheck.screenshot(visit, clean_page / 'clean.png')
    assert shot.read_bytes()[:8] == pagecheck.PNG


def test_redirect_is_followed_to_a_clean_page(page, clean_page):
    _, visit, problems = visit_and_check(page, clean_page, 'index.html', pagecheck.READER)
    assert problems == [] and visit.here.name == 'clean.html'


def test_dark_fires_on_a_page_without_a_dark_theme(page, clean_page):
    _, _, problems = visit_and_check(page, clean_page, 'clean.html', (pagecheck.dark,))
    assert fired(problems) == {'dark'}


@pytest.fixture
def broken_page(tmp_path):
    """A page with something wrong for every check but `dark`."""
    small_png(tmp_path / 'ok.png')
    (tmp_path / 'corrupt.png').write_bytes(b'not a png at all')
    (tmp_path / 'other.html').write_text(page_html('<h2 id="there">there</h2>'))
    without_script = re.sub(r'<script.*?</script>', '', animation_html(offline=False),
                            flags=re.S)
    (tmp_path / 'broken.html').write_text(page_html(f'''
        <h1>Broken</h1>
        <script>console.error('deliberate console error')</script>
        <script>throw new Error('deliberate uncaught exception')</script>
        <p>Raw display math with no MathJax: $$x^2$$</p>
        <p>Inline: <span class="math notranslate nohighlight">\\(a + b\\)</span></p>
        <img src="missing.png" alt="missing"> <img src="corrupt.png" alt="corrupt">
        <img src="https://cdn.example.invalid/logo.png" alt="remote">
        {without_script}
        <div class="animation"><img src="ok.png"></div>
        <a href="#nowhere">bad anchor</a> <a href="other.html#nowhere">bad anchor there</a>
        <a href="missing.html">missing page</a>
        <div class="cell_input"><pre style="width: 20em; overflow-x: auto">{'x = 1; ' * 40}</pre>
        </div>''',
        head='''<script>window.MathJax = {}</script>
        <link rel="stylesheet" href="hangup.css">
        <script src="https://cdn.example.invalid/lib.js"></script>'''))
    (tmp_path / 'index.html').write_text(page_html(
        '', head='<meta http-equiv="Refresh" content="0; url=gone.html" />'))
    return tmp_path


def test_every_check_fires_on_a_broken_page(page, broken_page):
    base, _, problems = visit_and_check(page, broken_page, 'broken.html', pagecheck.READER,
                                        HangUpHandler)
    assert fired(problems) == {check.__name__ for check in pagecheck.READER}, (
        pagecheck.report('broken.html', problems))
    assert names(problems, 'console', 'deliberate console error',
                 'deliberate uncaught exception')
    assert names(problems, 'requests', f'{base}missing.png', f'{base}hangup.css')
    assert names(problems, 'external', 'https://cdn.example.invalid/lib.js',
                 'https://cdn.example.invalid/logo.png', 'https://maxcdn.bootstrapcdn.com/')
    assert names(problems, 'math', 'never started', '$$', '\\(', '\\)', 'mjx-container')
    assert names(problems, 'images', 'missing.png', 'corrupt.png', 'cdn.example.invalid')
    assert len(found(problems, 'players')) == 2  # player 1: no frame; player 2: no buttons
    assert names(problems, 'links', "'#nowhere'", "'other.html#nowhere'", 'missing.html')
    assert names(problems, 'code', 'x = 1; x = 1;')


def test_links_fires_on_a_redirect_to_a_missing_page(page, broken_page):
    _, _, problems = visit_and_check(page, broken_page, 'index.html', (pagecheck.links,))
    assert fired(problems) == {'links'} and names(problems, 'links', 'gone.html')


def test_math_fires_where_mathjax_leaves_tex_raw(page, built_book, tmp_path):
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
    _, _, problems = visit_and_check(page, tmp_path, 'math.html', pagecheck.READER)
    assert fired(problems) == {'math'}, pagecheck.report('math.html', problems)
    assert len(problems) == 4, pagecheck.report('math.html', problems)
    assert names(problems, 'math', '\\[', '\\]', 'z^2', '\\frac')


def test_skips_or_fails_without_browser(monkeypatch):
    monkeypatch.setattr(pagecheck, 'PlaywrightError', None)
    monkeypatch.setenv('POOLBOOK_CHROMIUM', '/nonexistent/chromium')
    monkeypatch.delenv('POOLBOOK_REQUIRE_BROWSER', raising=False)
    with pytest.raises(pytest.skip.Exception, match='playwright.*/nonexistent/chromium'):
        pagecheck.skip_or_fail_without_browser()
    monkeypatch.setenv('POOLBOOK_REQUIRE_BROWSER', '1')
    with pytest.raises(pytest.fail.Exception, match='POOLBOOK_REQUIRE_BROWSER=1'):
        pagecheck.skip_or_fail_without_browser()


def test_chromium_comes_from_the_environment_first(monkeypatch):
    monkeypatch.setenv('POOLBOOK_CHROMIUM', '/opt/some/chromium')
    assert pagecheck.launch_args()['executable_path'] == '/opt/some/chromium'


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


def test_problem_names_its_check():
    assert str(Problem('links', "'x.html': no file")) == "[links] 'x.html': no file"
