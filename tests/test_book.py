"""Build the HTML book the way `python3 dev.py book` does, warnings as errors, and check
that the pages show exactly the outputs stored in (and verified from) the notebooks."""
import html
import re

import pytest
from bs4 import BeautifulSoup

from notebooks import ROOT, code_cells, notebook_paths, read


def page(built_book, notebook):
    return built_book / notebook.relative_to(ROOT).with_suffix('.html')


def page_text(path):
    return html.unescape(BeautifulSoup(path.read_text(), 'html.parser').get_text())


def stored_texts(nb):
    """Every text output of the notebook: streams and plain-text results."""
    for cell in code_cells(nb):
        for out in cell.outputs:
            if out.output_type == 'stream':
                yield out.text
            elif 'text/plain' in out.get('data', {}) and not {'image/png', 'text/html'} & set(out.data):
                yield out.data['text/plain']  # (glue records carry no text/plain: not shown)


@pytest.mark.parametrize('notebook', notebook_paths(), ids=lambda p: p.name)
def test_page_shows_every_stored_text_output(built_book, notebook):
    text = page_text(page(built_book, notebook))
    squash = lambda s: re.sub(r'\s+', ' ', s).strip()
    for output in stored_texts(read(notebook)):
        assert squash(output) in squash(text), f'{notebook.name}: page lacks {output!r}'


@pytest.mark.parametrize('notebook', notebook_paths(), ids=lambda p: p.name)
def test_page_shows_every_stored_figure(built_book, notebook):
    path = page(built_book, notebook)
    figures = sum('image/png' in out.get('data', {})
                  for cell in code_cells(read(notebook)) for out in cell.outputs)
    soup = BeautifulSoup(path.read_text(), 'html.parser')
    images = [img['src'] for img in soup.select('div.cell_output img')
              if not img.find_parent(class_='animation')]  # a player's frame, not a figure
    assert len(images) == figures
    players = sum('class="animation"' in out.get('data', {}).get('text/html', '')
                  for cell in code_cells(read(notebook)) for out in cell.outputs)
    assert len(soup.select('div.cell_output div.animation')) == players
    for src in images:
        image = (path.parent / src).resolve()
        assert image.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n', src


def test_chapter_1_page_has_the_source_outputs_math_and_shift_demo(built_book):
    text = page_text(built_book / 'chapters' / '01_pooling_from_scratch.html')
    assert '[[4. 5.]\n [7. 8.]]' in text
    assert '[[2. 3.]\n [5. 6.]]' in text
    assert r'\max(0, 1, 3, 4) &= 4' in text  # MathJax typesets it in the browser
    assert 'positions where both fire: 0' in text and 'positions where both fire: 2' in text


def test_notebook_pages_have_binder_and_download_buttons(built_book):
    for notebook in notebook_paths():
        source = page(built_book, notebook).read_text()
        assert 'mybinder.org/v2/gh/' in source, notebook.name
        assert f'_sources/chapters/{notebook.name}' in source, notebook.name


def test_math_is_served_from_the_book_itself(built_book):
    source = (built_book / 'chapters' / '01_pooling_from_scratch.html').read_text()
    assert '../_static/mathjax/tex-chtml.js' in source
    assert 'cdn.jsdelivr' not in source
    assert (built_book / '_static' / 'mathjax' / 'tex-chtml.js').stat().st_size > 0
