"""sphinx_ext/book_pdf.py: the landing page links the PDF only when the build holds it,
so that a plain `jupyter-book build .` (no PDF) links to no missing file."""
import pytest
from sphinx.application import Sphinx

from notebooks import ROOT

CONF = f"""import sys
sys.path.insert(0, {str(ROOT / 'sphinx_ext')!r})
extensions = ['book_pdf']
"""


def build(source, builder='html', page='sub/index.html'):
    """Build the small project in `source`; return `page`'s HTML and the output folder."""
    out = source / '_build' / builder
    app = Sphinx(str(source), str(source), str(out), str(source / '_build' / 'doctrees'),
                 builder, status=None, warning=None, freshenv=True)
    app.build()
    return (out / page).read_text(), out


def write_pdf(project):
    """A stand-in for the PDF that dev.py pdf writes."""
    pdf = project / '_build' / 'pdf' / 'book.pdf'
    pdf.parent.mkdir(parents=True)
    pdf.write_bytes(b'%PDF-1.4 stand-in')
    return pdf


@pytest.fixture
def project(tmp_path):
    (tmp_path / 'conf.py').write_text(CONF)
    (tmp_path / 'index.rst').write_text('Home\n====\n\n.. toctree::\n\n   sub/index\n')
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'sub' / 'index.rst').write_text('Page\n====\n\nThe PDF: :bookpdf:`book.pdf`.\n')
    return tmp_path


def test_without_a_pdf_the_page_names_it_without_a_link(project):
    page, out = build(project)
    assert 'book.pdf (not part of this build' in page
    assert 'href="../_static/book.pdf"' not in page
    assert not (out / '_static' / 'book.pdf').exists()


def test_with_a_pdf_the_page_links_the_copy_the_build_holds(project):
    pdf = write_pdf(project)
    page, out = build(project)
    assert 'href="../_static/book.pdf"' in page
    assert (out / '_static' / 'book.pdf').read_bytes() == pdf.read_bytes()


def test_the_single_page_build_names_it_without_a_link(project):
    write_pdf(project)
    page, _ = build(project, 'singlehtml', 'index.html')
    assert 'The PDF: book.pdf.' in page and '_static/book.pdf' not in page
