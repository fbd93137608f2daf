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
"""
import pytest

import pagecheck
from assetscan import remote_assets
from notebooks import toc_files

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
