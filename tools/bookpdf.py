"""The whole book as one PDF, built offline: `python3 dev.py pdf` (and `dev.py book`).

1. Jupyter Book's single-page HTML build (`--builder singlehtml`) puts every chapter, in
   the order of _toc.yml, on one page whose internal links are anchors of that page.
2. Debian's Chromium (the browser test's; never a downloaded one), driven by playwright,
   opens that page from a server on 127.0.0.1 with every other host blocked, waits for
   MathJax to typeset, unfolds the folded solutions, and prints it (`page.pdf`): headings
   become the PDF's outline (its table of contents), anchors stay clickable links.

The PDF is written to _build/pdf/book.pdf and, when the HTML book exists, copied into it
as _build/html/_static/book.pdf, the file the landing page's download link names.
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
IN_BOOK = ROOT / '_build' / 'html' / '_static' / 'book.pdf'

# Print every chapter from a new page, with its title (the theme hides an article's
# first h1 in print, which on the single page would hide every chapter's title).
PRINT_CSS = """@media print {
    .bd-main .bd-content .bd-article h1:first-of-type { display: block !important; }
    span[id^="document-"] + section { break-before: page; }
    .cell_output img, figure img { break-inside: avoid; }
    pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
}"""

# Folded solutions and hidden cells open; links to the page's own file become anchors,
# so that they stay inside the PDF; the landing page's link to the PDF becomes text.
UNFOLD = """() => {
    document.querySelectorAll('details').forEach(d => d.open = true);
    for (const e of document.querySelectorAll('.toggle-hidden')) e.classList.remove('toggle-hidden');
    for (const a of document.querySelectorAll('a[href*="#"]')) {
        const url = new URL(a.href);
        if (url.origin === location.origin && url.pathname.endsWith('/chapters/index.html'))
            a.setAttribute('href', url.hash);
    }
    for (const a of document.querySelectorAll('a[href$="book.pdf"]'))
        a.replaceWith(...a.childNodes);  // the download link, pointless inside the PDF
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


def print_page(site, pdf):
    """Print `site`/book.html, served from 127.0.0.1 with other hosts blocked, to `pdf`."""
    from playwright.sync_api import sync_playwright

    problems = []
    with pagecheck.serve(site) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(**pagecheck.launch_args())
        tab = browser.new_page(viewport={'width': 1000, 'height': 1400})
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
        pdf.parent.mkdir(parents=True, exist_ok=True)
        tab.pdf(path=str(pdf), format='A4', print_background=True, outline=True, tagged=True,
                margin={'top': '15mm', 'bottom': '15mm', 'left': '12mm', 'right': '12mm'},
                display_header_footer=True, header_template='<span></span>',
                footer_template=FOOTER)
        browser.close()
    if problems:
        raise RuntimeError('printing the book met: ' + '; '.join(problems[:5]))
    return pdf


def build(pdf=PDF, work=None):
    """Build the single page and print it to `pdf`; return the PDF's path."""
    work = work or pdf.parent / 'site'
    return print_page(build_single_page(work), pdf)


def main(args):
    """dev.py pdf: build _build/pdf/book.pdf, copy it into the HTML book if built. With
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
    if IN_BOOK.parent.is_dir():
        shutil.copy(PDF, IN_BOOK)
    print(f'dev.py: wrote {PDF.relative_to(ROOT)} ({PDF.stat().st_size // 1024} KiB) in '
          f'{time.perf_counter() - start:.0f} s'
          + (f'; copied to {IN_BOOK.relative_to(ROOT)}' if IN_BOOK.exists() else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
