"""The PDF checks of tools/pdfcheck.py can fail, and do not cry wolf.

Small pages that break one rule each are printed by Chromium exactly as the book is
(tools/bookpdf.py's paper, margins and footer) and read back: each check must fire on
its bad page and name the page or line, and find nothing on the clean twin that differs
from it by the one property the check is about. Tests assert which check fired and what
it named, never a message's wording.
"""
import base64
import io

import pytest

from tools import bookpdf, pdfcheck

# The text area's height in CSS pixels; the height of a line of code (`pre` below); a
# code line as long as the book allows (88 columns), and one too long for the page at
# the book's print size (143 columns).
HEIGHT = bookpdf.TEXT_HEIGHT
LINE = 11 * 1.3
FITS = ('y = pool2d(X, (2, 2))  # ' + 'a line of eighty-eight columns, ' * 3)[:88]
LONG = 'x = [' + ', '.join(f'{i:3d}' for i in range(23)) + ']  # ' + 'long ' * 4


def printed(page, tmp_path, body, css=''):
    """`body` printed as the book is, then read back: its pdfcheck.Pages."""
    page.set_content(f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>'
                     f'body {{ margin: 0; font: 16px sans-serif; }}'
                     f'pre {{ font: 11px/1.3 monospace; margin: 0; }} {css}</style></head>'
                     f'<body>{body}</body></html>')
    page.emulate_media(media='print')
    path = tmp_path / 'page.pdf'
    page.pdf(**bookpdf.pdf_options(path))
    return pdfcheck.read(path, bookpdf.MARGINS)


def paragraphs(n):
    return ''.join(f'<p>Paragraph {i}: a line of prose that fills the page.</p>'
                   for i in range(n))


def code(lines, style=''):
    """A code box of `lines` lines, 8 px of padding above and below them."""
    rows = '\n'.join(f'y{i} = pool2d(X, (2, 2))  # line {i}' for i in range(lines))
    return f'<pre style="background: #eee; padding: 8px; {style}">{rows}</pre>'


def checks(problems):
    return {p.check for p in problems}


# ---------------------------------------------------------------------------- sparse

def test_sparse_fires_on_a_page_left_nearly_empty(page, tmp_path):
    # One line, then a box that fits on no page's rest: it moves on and leaves the page.
    body = (f'<p>One line alone.</p><div style="height: {HEIGHT - 10}px; background: #eee; '
            'break-inside: avoid">box</div>')
    pages = printed(page, tmp_path, body)
    assert len(pages) == 2
    problems = pdfcheck.sparse(pages, ends={2})
    assert checks(problems) == {'sparse'} and [p.page for p in problems] == [1]
    # The same page as a chapter's last is allowed.
    assert pdfcheck.sparse(pages, ends={1, 2}) == []


def test_sparse_fires_on_an_empty_page_even_at_a_chapter_end(page, tmp_path):
    body = (paragraphs(30) + '<div style="break-before: page; break-after: page"></div>'
            '<p style="break-before: page">Next chapter.</p>')
    pages = printed(page, tmp_path, body)
    empty = [p.number for p in pages  # (the footer's page number is outside the area)
             if not any(pdfcheck.inside(t, p.area) for t in p.texts)]
    assert len(empty) == 1
    problems = pdfcheck.sparse(pages, ends={p.number for p in pages})
    assert checks(problems) == {'sparse'} and [p.page for p in problems] == empty


def test_sparse_finds_nothing_on_full_pages_and_a_short_last_one(page, tmp_path):
    pages = printed(page, tmp_path, paragraphs(60))
    assert len(pages) >= 2
    assert pdfcheck.sparse(pages, ends={len(pages)}) == []
    assert checks(pdfcheck.sparse(pages, ends=set())) == {'sparse'}  # the short last one


# ------------------------------------------------------------------------------ wide

@pytest.mark.parametrize('overflow', ['hidden', 'visible', 'auto'])
def test_wide_fires_on_a_code_line_wider_than_its_box(page, tmp_path, overflow):
    # Cut off at the box's edge (hidden, auto), or shown whole (visible), for which
    # Chromium shrinks the page until the line fits on the paper.
    body = (f'<pre style="background: #eee; overflow: {overflow}">'
            f'short = 1\n{LONG}\nshort = 2</pre>')
    problems = pdfcheck.wide(printed(page, tmp_path, body))
    assert checks(problems) == {'wide'} and len(problems) == 1
    assert ('x = [ 0' in pdfcheck.squash(problems[0].text)) == (overflow != 'visible')


def test_wide_fires_on_a_code_line_past_the_page_outside_any_box(page, tmp_path):
    body = f'<pre style="overflow: hidden">short = 1\n{LONG}</pre>'
    problems = pdfcheck.wide(printed(page, tmp_path, body))
    assert checks(problems) == {'wide'} and len(problems) == 1
    assert 'x = [ 0' in pdfcheck.squash(problems[0].text)


def test_wide_finds_nothing_when_the_line_fits(page, tmp_path):
    body = (f'<pre style="background: #eee">short = 1\n{FITS}</pre>'
            '<p>Prose with <code style="background: #eee">inline_code(x)</code> in it, '
            'and more prose after it, to the end of the line and beyond it.</p>')
    assert pdfcheck.wide(printed(page, tmp_path, body)) == []


# ----------------------------------------------------------------------------- split

def spacer(lines):
    """Prose down to where a code box has room for `lines` lines (and its padding) above
    the bottom of the first page's text area."""
    return f'<div style="height: {HEIGHT - 8 - lines * LINE:.1f}px">Prose above.</div>'


def test_split_fires_on_an_empty_top_left_at_the_bottom_of_a_page(page, tmp_path):
    # The book's old bug: a flex box (the theme's code cell) keeps its top on the page,
    # its code, which must not split, moves on to the next.
    body = (spacer(3) + '<div style="display: flex; flex-direction: column; '
            'background: #ddd; padding: 4px">'
            + code(20, 'break-inside: avoid') + '</div>')
    problems = pdfcheck.split(printed(page, tmp_path, body))
    assert checks(problems) == {'split'} and {p.page for p in problems} == {1}


@pytest.mark.parametrize('room', [1.5, 19.5])  # one line before the break, or one after
def test_split_fires_on_a_single_line_left_on_either_side(page, tmp_path, room):
    body = spacer(room) + code(20, 'orphans: 1; widows: 1')
    problems = pdfcheck.split(printed(page, tmp_path, body))
    assert checks(problems) == {'split'} and {p.page for p in problems} == {1}


def test_split_finds_nothing_when_each_side_keeps_two_lines(page, tmp_path):
    pages = printed(page, tmp_path, spacer(5.5) + code(20, 'orphans: 2; widows: 2'))
    assert len(pages) == 2 and pdfcheck.split(pages) == []
    # With room for one line, orphans: 2 moves the whole box on: no split at all.
    pages = printed(page, tmp_path, spacer(1.5) + code(20, 'orphans: 2; widows: 2'))
    assert len(pages) == 2 and pdfcheck.split(pages) == []


# ---------------------------------------------------------------------------- broken

def test_broken_fires_on_a_wrapped_code_line(page, tmp_path):
    body = f'<pre style="white-space: pre-wrap; width: 300px">short = 1\n{LONG}</pre>'
    problems = pdfcheck.broken(printed(page, tmp_path, body), ['short = 1', LONG])
    assert checks(problems) == {'broken'} and len(problems) == 1
    assert pdfcheck.squash(LONG)[:40] in problems[0].text


def test_broken_finds_nothing_when_every_line_is_whole(page, tmp_path):
    body = f'<pre>short = 1\n{LONG}\n    indented(a,  b)</pre>'
    pages = printed(page, tmp_path, body)
    assert pdfcheck.broken(pages, ['short = 1', LONG, '    indented(a,  b)']) == []
    assert checks(pdfcheck.broken(pages, ['not printed = 2'])) == {'broken'}


# ----------------------------------------------------------------------------- shape

def png_data(width, height):
    """A data: URL of a PNG of width x height pixels (a matplotlib figure)."""
    from matplotlib.figure import Figure

    buffer = io.BytesIO()
    figure = Figure(figsize=(width / 50, height / 50), dpi=50, facecolor='#cde')
    figure.savefig(buffer, format='png')
    return 'data:image/png;base64,' + base64.b64encode(buffer.getvalue()).decode()


def test_shape_fires_on_a_squeezed_image_and_not_on_scaled_ones(page, tmp_path):
    src = png_data(200, 100)
    body = (f'<img src="{src}" style="width: 100px; height: 50px">'      # half: fine
            f'<img src="{src}" style="width: 400px; height: auto">'      # double: fine
            f'<img src="{src}" style="width: 200px; height: 200px">')    # squeezed
    pages = printed(page, tmp_path, body)
    problems = pdfcheck.shape(pages)
    assert checks(problems) == {'shape'} and len(problems) == 1
    assert '200 x 100' in problems[0].text
    assert sorted(round(pdfcheck.sharpness(i), 2) for i in pages[0].images) == [0.5, 1, 2]
