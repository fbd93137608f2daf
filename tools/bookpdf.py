"""The whole book as one PDF, built offline: `python3 dev.py pdf` (and `dev.py book`).

1. Jupyter Book's single-page HTML build (`--builder singlehtml`) puts every chapter, in
   the order of _toc.yml, on one page whose internal links are anchors of that page.
2. Debian's Chromium (the browser test's; never a downloaded one), driven by playwright,
   opens that page from a server on 127.0.0.1 with every other host blocked, waits for
   MathJax to typeset, unfolds the folded solutions, and prints it (`page.pdf`): headings
   become the PDF's outline (its table of contents), anchors stay clickable links.

How the page looks on paper is the book's print stylesheet, _static/print.css (it applies
to a page a reader prints from the HTML book too); this file adds only what the single
page needs, and lets a box taller than a third of a page split (see LONG_BOXES).
tests/test_pdf.py reads the result back (tools/pdfcheck.py).

The PDF is written to _build/pdf/book.pdf. `dev.py book` prints it before it builds the
HTML book, which copies it to _static/book.pdf and links it from the landing page
(sphinx_ext/book_pdf.py).
"""
import os
import pathlib
import shutil
import subprocess
import sys
import time

# The browser test's harness (serve, launch_args), still in tests/: tests/ is no package,
# and Python imports it as a namespace package from the repository root, which is on
# sys.path both in dev.py (its own folder) and under pytest (pyproject.toml's pythonpath).
from tests import pagecheck

ROOT = pathlib.Path(__file__).resolve().parent.parent
PDF = ROOT / '_build' / 'pdf' / 'book.pdf'
WORK = PDF.parent / 'site'  # the single-page build: the page is WORK/_build/singlehtml

# The paper: A4, these margins in millimetres (tools/pdfcheck.py measures the text area
# from them), and the text area's size in CSS pixels (96 to the inch).
MARGINS = {'top': 15, 'right': 12, 'bottom': 15, 'left': 12}
TEXT_WIDTH = round((210 - MARGINS['left'] - MARGINS['right']) / 25.4 * 96)
TEXT_HEIGHT = round((297 - MARGINS['top'] - MARGINS['bottom']) / 25.4 * 96)

# Every chapter from a new page, with its title (the theme hides an article's first h1
# in print, which on the single page would hide every chapter's title). The break goes
# on the anchor that starts a chapter: on the section after it, Chromium sometimes left
# a blank page between two chapters. A chapter's last block does not go to a page alone.
PRINT_CSS = """@media print {
    .bd-main .bd-content .bd-article h1:first-of-type { display: block !important; }
    span[id^="document-"] { display: block; break-before: page; }
    span[id^="document-"] + section > section:last-child > :last-child {
        break-before: avoid;
    }
}"""

# _static/print.css keeps every code and output box whole on one page. One taller than
# a third of a page may split instead (between lines, two at least on each side), so that
# pushing it to the next page never leaves most of a page empty. Returns how many.
LONG_BOXES = """(limit) => {
    let long = 0;
    for (const box of document.querySelectorAll('div.cell_input, div.cell_output > .output'))
        if (box.getBoundingClientRect().height > limit) {
            box.style.breakInside = 'auto';
            long += 1;
        }
    return long;
}"""

# Folded solutions and hidden cells open; links to the page's own file become anchors,
# so that they stay inside the PDF; the landing page's link to the PDF becomes text, and
# so does a figure's link to its own PNG (Sphinx links an image shown at a set size,
# which every figure stored at twice its pixels is, poolbook.figures).
UNFOLD = """() => {
    document.querySelectorAll('details').forEach(d => d.open = true);
    for (const e of document.querySelectorAll('.toggle-hidden'))
        e.classList.remove('toggle-hidden');
    for (const a of document.querySelectorAll('a[href*="#"]')) {
        const url = new URL(a.href);
        if (url.origin === location.origin && url.pathname.endsWith('/chapters/index.html'))
            a.setAttribute('href', url.hash);
    }
    for (const a of document.querySelectorAll('a[href$="book.pdf"], a.image-reference'))
        a.replaceWith(...a.childNodes);  // the download link; a figure's link to its PNG
}"""

FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#555">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


def build_single_page(out):
    """Jupyter Book's single-page HTML build into `out`; returns the page's folder."""
    jb = pathlib.Path(sys.executable).parent / 'jupyter-book'
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([str(jb), 'build', str(ROOT), '--builder', 'singlehtml', '--path-output',
                    str(out), '-W', '--keep-going', '-q'], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)  # its banner; warnings go to stderr
    site = out / '_build' / 'singlehtml'
    # The page is chapters/index.html, but Sphinx writes its asset paths relative to the
    # root: serve a copy at the root, where they resolve.
    shutil.copy(site / 'chapters' / 'index.html', site / 'book.html')
    return site


def pdf_options(path):
    """playwright's `page.pdf` options for the book (tests/test_pdf_checks.py prints its
    pages with them too): A4 with MARGINS, backgrounds, the outline, page numbers."""
    return {'path': str(path), 'format': 'A4', 'print_background': True, 'outline': True,
            'tagged': True, 'margin': {side: f'{mm}mm' for side, mm in MARGINS.items()},
            'display_header_footer': True, 'header_template': '<span></span>',
            'footer_template': FOOTER}


def print_page(site, pdf):
    """Print `site`/book.html, served from 127.0.0.1 with other hosts blocked, to `pdf`."""
    from playwright.sync_api import sync_playwright

    problems = []
    with pagecheck.serve(site) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(**pagecheck.launch_args())
        # as wide as the paper's text area, so that what LONG_BOXES measures is as printed
        tab = browser.new_page(viewport={'width': TEXT_WIDTH, 'height': TEXT_HEIGHT})
        tab.set_default_timeout(60_000)
        tab.route('**/*', lambda route: route.continue_() if route.request.url.startswith(base)
                  else (problems.append(route.request.url), route.abort()))
        tab.on('pageerror', lambda error: problems.append(f'{error.name}: {error.message}'))
        tab.emulate_media(media='print', color_scheme='light')
        tab.goto(base + 'book.html', wait_until='load')
        tab.evaluate(pagecheck.MATHJAX_DONE)
        tab.wait_for_function(pagecheck.IMAGES_SETTLED)
        tab.evaluate('() => document.fonts.ready.then(() => true)')
        tab.evaluate(UNFOLD)
        tab.add_style_tag(content=PRINT_CSS)
        tab.evaluate(LONG_BOXES, TEXT_HEIGHT / 3)
        pdf.parent.mkdir(parents=True, exist_ok=True)
        tab.pdf(**pdf_options(pdf))
        browser.close()
    if problems:
        raise RuntimeError('printing the book met: ' + '; '.join(problems[:5]))
    return pdf


def build(pdf=PDF, work=WORK):
    """Build the single page in `work` and print it to `pdf`; return the PDF's path."""
    return print_page(build_single_page(work), pdf)


def main(args):
    """dev.py pdf: build _build/pdf/book.pdf (the next HTML build copies it). With
    --if-browser (how `dev.py book` calls it), a machine without Chromium or playwright
    gets a note instead of a failure, unless POOLBOOK_REQUIRE_BROWSER=1."""
    missing = pagecheck.missing_for_browser()
    if missing:
        message = 'the PDF needs Chromium and playwright: ' + '; '.join(missing)
        if '--if-browser' in args and os.environ.get('POOLBOOK_REQUIRE_BROWSER') != '1':
            print(f'dev.py: no PDF built ({message})')
            return 0
        sys.exit(f'dev.py: {message}')
    start = time.perf_counter()
    build()
    print(f'dev.py: wrote {PDF.relative_to(ROOT)} ({PDF.stat().st_size // 1024} KiB) in '
          f'{time.perf_counter() - start:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
