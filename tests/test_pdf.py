"""The PDF of the whole book (tools/bookpdf.py, `python3 dev.py pdf`), which `dev.py book`
prints from the single-page HTML build with Chromium; read back with pypdf."""
import re
import unicodedata

import pytest
from pypdf import PdfReader

import pagecheck
from notebooks import ROOT, code_cells, read, toc_files
from tools import bookpdf

# It needs the built book (and so Chromium): `dev.py test --quick` skips it.
pytestmark = [pytest.mark.book, pytest.mark.browser]


def title(name):
    """The '# ' heading a page of the book starts with (notebook or markdown)."""
    path = next(ROOT.glob(name + '.*'))
    text = (read(path).cells[0].source if path.suffix == '.ipynb' else path.read_text())
    return next(line[2:].strip() for line in text.splitlines() if line.startswith('# '))


def squash(text):
    """Text with ligatures undone and every run of whitespace one space."""
    return re.sub(r'\s+', ' ', unicodedata.normalize('NFKC', text)).strip()


@pytest.fixture(scope='module')
def pdf(built_book):
    """The PDF that `dev.py book` printed beside the HTML book, and its pypdf reader.
    (The build runs in its own process, so its Playwright never meets pytest-playwright's.)"""
    pagecheck.skip_or_fail_without_browser()
    path = bookpdf.PDF
    assert path.exists(), 'dev.py book printed no PDF'
    assert (built_book / '_static' / 'book.pdf').read_bytes() == path.read_bytes()
    return path, PdfReader(path)


@pytest.fixture(scope='module')
def text(pdf):
    return squash('\n'.join(page.extract_text() for page in pdf[1].pages))


def outline_titles(reader):
    """(title, page number) of each bookmark, depth first."""
    found = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                found.append((squash(item.title), reader.get_destination_page_number(item)))
    walk(reader.outline)
    return found


def image_count(page):
    """How many images the page draws (its image XObjects, not decoded)."""
    resources = page.get('/Resources') or {}
    objects = resources.get_object().get('/XObject') or {}
    return sum(x.get_object().get('/Subtype') == '/Image' for x in objects.values())


def test_size_and_page_count_are_plausible(pdf):
    path, reader = pdf
    chapters = len(toc_files())
    assert 3 * chapters <= len(reader.pages) <= 400
    assert 100_000 < path.stat().st_size < 30_000_000


def test_every_chapter_title_is_there(text):
    missing = [title(name) for name in toc_files() if squash(title(name)) not in text]
    assert not missing


def test_outline_lists_every_chapter_in_order(pdf):
    reader = pdf[1]
    marks = outline_titles(reader)
    pages = []
    for name in toc_files()[1:]:  # the landing page opens the book; then each chapter
        wanted = re.sub(r'\s', '', squash(title(name)))
        hits = [page for mark, page in marks if re.sub(r'\s', '', mark) == wanted]
        assert hits, f'no bookmark for {title(name)!r}'
        pages.append(hits[0])
    assert pages == sorted(pages) and len(set(pages)) == len(pages)


def test_math_is_typeset_not_raw_tex(text):
    for raw in ('$', '\\(', '\\)', '\\[', '\\]', '\\frac', '\\times', '\\lfloor', '\\max'):
        at = text.find(raw)
        assert at < 0, f'raw TeX {raw!r} in the PDF: ...{text[max(0, at - 60):at + 60]}...'


def test_code_cells_and_their_outputs_are_there(text):
    for name in toc_files():
        path = next(ROOT.glob(name + '.*'))
        if path.suffix != '.ipynb':
            continue
        for cell in code_cells(read(path)):
            first = squash(cell.source.splitlines()[0]) if cell.source else ''
            assert first in text, f'{path.name}: code line {first!r} missing'
            for out in cell.outputs:
                if out.output_type == 'stream' and out.text.strip():
                    line = squash(out.text.strip().splitlines()[0])
                    assert line in text, f'{path.name}: output {line!r} missing'


def test_figures_are_there(pdf):
    reader = pdf[1]
    stored = sum('image/png' in out.get('data', {}) for name in toc_files()
                 for path in ROOT.glob(name + '.ipynb')
                 for cell in code_cells(read(path)) for out in cell.outputs)
    printed = sum(image_count(page) for page in reader.pages)
    assert printed >= stored > 0


def test_internal_links_stay_in_the_pdf(pdf):
    reader = pdf[1]
    internal, local = 0, []
    for page in reader.pages:
        for annotation in page.get('/Annots') or []:
            link = annotation.get_object()
            action = link.get('/A') or {}
            if '/URI' in action:
                if '127.0.0.1' in action['/URI'] or 'localhost' in action['/URI']:
                    local.append(action['/URI'])
            elif '/Dest' in link or action.get('/S') == '/GoTo':
                internal += 1
    assert not local, f'links to the print server, dead in the PDF: {local[:5]}'
    assert internal >= len(toc_files())  # at least the table of contents
