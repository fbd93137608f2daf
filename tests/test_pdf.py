"""The PDF of the whole book (tools/bookpdf.py, `python3 dev.py pdf`), which `dev.py book`
prints from the single-page HTML build with Chromium; read back with pypdf, and its layout
with tools/pdfcheck.py (whose checks tests/test_pdf_checks.py shows firing on bad pages)."""
import re

import pagecheck
import pytest
from notebooks import ROOT, code_cells, read, toc_files
from pypdf import PdfReader

from tools import bookpdf, pdfcheck
from tools.pdfcheck import squash

# It needs the built book (and so Chromium): `dev.py test --quick` skips it.
pytestmark = [pytest.mark.book, pytest.mark.browser]


def title(name):
    """The '# ' heading a page of the book starts with (notebook or markdown)."""
    path = next(ROOT.glob(name + '.*'))
    text = (read(path).cells[0].source if path.suffix == '.ipynb' else path.read_text())
    return next(line[2:].strip() for line in text.splitlines() if line.startswith('# '))


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
def pages(pdf):
    """Each page's text, filled areas and images, where they are (pdfcheck.Page)."""
    return pdfcheck.read(pdf[0], bookpdf.MARGINS)


@pytest.fixture(scope='module')
def text(pages):
    return squash('\n'.join(page.text for page in pages))


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


def chapter_pages(reader):
    """The page number (from 1) of each chapter's bookmark, in the order of _toc.yml; the
    landing page, which opens the book, on page 1."""
    marks = outline_titles(reader)
    pages = [1]
    for name in toc_files()[1:]:
        wanted = re.sub(r'\s', '', squash(title(name)))
        hits = [page for mark, page in marks if re.sub(r'\s', '', mark) == wanted]
        assert hits, f'no bookmark for {title(name)!r}'
        pages.append(hits[0] + 1)
    return pages


def test_outline_lists_every_chapter_in_order(pdf):
    pages = chapter_pages(pdf[1])
    assert pages == sorted(pages) and len(set(pages)) == len(pages)


def report(problems):
    return f'{len(problems)} problem(s) on paper:\n  ' + '\n  '.join(map(str, problems))


def test_no_page_is_nearly_empty(pdf, pages):
    """Every page's content reaches at least half-way down its text area, except the
    last page of a chapter (the page before the next chapter's first, and the last)."""
    ends = {first - 1 for first in chapter_pages(pdf[1])[1:]} | {len(pages)}
    problems = pdfcheck.sparse(pages, ends)
    assert not problems, report(problems)


def test_no_code_line_is_wider_than_its_box(pages):
    problems = pdfcheck.wide(pages)
    assert not problems, report(problems)


# In the print layout of the page that was printed: how wide 88 columns of code are, and
# the narrowest room a code or output box has for its text.
ROOM = """() => {
    const boxes = Array.from(document.querySelectorAll('div.cell_input pre, div.cell_output pre'));
    const room = boxes.map(pre => {
        const style = getComputedStyle(pre);
        return pre.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    });
    const probe = document.createElement('span');
    probe.textContent = 'x'.repeat(88);
    boxes[0].appendChild(probe);
    const columns = probe.getBoundingClientRect().width;
    probe.remove();
    return [columns, Math.min(...room), boxes.length];
}"""


def test_a_line_of_88_columns_fits_every_code_box_on_paper(pdf, page):
    """The book's longest code line (tests/test_notebooks.py) fits every code and output
    box as printed, the narrowest (in an exercise's solution) included: not only the lines
    the book has today."""
    with pagecheck.serve(bookpdf.WORK / '_build' / 'singlehtml') as base:
        page.set_viewport_size({'width': bookpdf.TEXT_WIDTH, 'height': bookpdf.TEXT_HEIGHT})
        page.emulate_media(media='print')
        page.goto(base + 'book.html', wait_until='load')
        page.evaluate(bookpdf.UNFOLD)
        columns, room, boxes = page.evaluate(ROOM)
    assert boxes > 100 and columns <= room, f'88 columns take {columns:.0f} px, room {room}'


def test_no_box_is_split_leaving_a_line_or_less_at_a_page_break(pages):
    problems = pdfcheck.split(pages)
    assert not problems, report(problems)


def test_every_code_line_is_printed_whole_on_one_line(pages):
    """Not wrapped, not cut: each line of each code cell's source is one line of the PDF."""
    lines = [line for name in toc_files() for path in ROOT.glob(name + '.ipynb')
             for cell in code_cells(read(path)) for line in cell.source.splitlines()]
    problems = pdfcheck.broken(pages, lines)
    assert not problems, report(problems)


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


def test_no_dead_controls_on_paper(text):
    """On paper the animation's buttons give way to its note, and the explorer's note
    sends the reader to the HTML book for a button that only the web page has."""
    from poolbook import explorer, player
    assert squash(re.sub(r'<[^>]+>', '', player.PRINT_NOTE)) in text
    assert 'Once Loop Reflect' not in text and '\u25b6\u25b6|' not in text  # the controls
    assert squash(explorer.PRINT_NOTE) in text and squash(explorer.NOTE) not in text


def test_figures_keep_their_shape(pages):
    problems = pdfcheck.shape(pages)
    assert not problems, report(problems)


def test_figures_stored_at_twice_their_pixels_print_sharp(pages):
    """A figure that a notebook stores at twice its pixels (a 'retina' PNG with the size to
    show it at, poolbook.figures; an animation's frames, shown at half their width) prints
    with two pixels or more per CSS pixel: sharp when zoomed, not shown twice as big."""
    outputs = [out for name in toc_files() for path in ROOT.glob(name + '.ipynb')
               for cell in code_cells(read(path)) for out in cell.outputs]
    stored = sum('width' in out.get('metadata', {}).get('image/png', {}) for out in outputs)
    stored += sum(bool(re.search(r'<img id="_anim_img\w+" width="\d+">',
                                 out.get('data', {}).get('text/html', '')))
                  for out in outputs)
    sharp = sum(pdfcheck.sharpness(image) >= 1.9 for page in pages for image in page.images)
    assert stored > 0 and sharp >= stored


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
