"""The landing page's link to the book's PDF, made only when there is a PDF to link to.

`python3 dev.py book` prints the PDF first (tools/bookpdf.py, from its own single-page
build) and then builds the HTML book; this extension copies _build/pdf/book.pdf into the
HTML book's _static/ and turns {bookpdf}`text` into a link to it. A plain
`jupyter-book build .`, as deploy workflows run it, or a machine without Chromium, has no
PDF: the role then writes its text with a note on how to make the PDF, so the book never
links to a file it does not hold. (In the single-page build the PDF is printed from, the
text stands alone: the PDF does not link to itself.)
"""
import pathlib
import shutil

from docutils import nodes

NOTE = ' (not part of this build: python3 dev.py pdf prints it)'


def book_pdf(app):
    """The PDF that dev.py pdf wrote, beside the book's sources."""
    return pathlib.Path(app.confdir) / '_build' / 'pdf' / 'book.pdf'


def bookpdf_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """{bookpdf}`book.pdf`: a link to _static/book.pdf, or the text and a note."""
    env = inliner.document.settings.env
    env.note_reread()  # whether the PDF exists is not in the source: read the page anew
    if env.app.builder.name != 'html':
        return [nodes.Text(text)], []
    if not book_pdf(env.app).exists():
        return [nodes.Text(text + NOTE)], []
    up = '../' * env.docname.count('/')
    return [nodes.reference(rawtext, text, refuri=f'{up}_static/book.pdf')], []


def copy_pdf(app, exception):
    """Put the PDF into the HTML book, when there is one, after a good build."""
    if exception is None and app.builder.name == 'html' and book_pdf(app).exists():
        static = pathlib.Path(app.outdir) / '_static'
        static.mkdir(exist_ok=True)
        shutil.copy(book_pdf(app), static / 'book.pdf')


def setup(app):
    app.add_role('bookpdf', bookpdf_role)
    app.connect('build-finished', copy_pdf)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
