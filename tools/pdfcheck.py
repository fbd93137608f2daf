"""Read a printed PDF back and find what a reader of the paper book would trip on.

`read(path)` turns each page into a `Page`: where its text runs are (and which are in a
monospaced font, i.e. code), its filled areas (box backgrounds, borders, drawn math) and
its images, in points measured from the top-left corner of the page. It reads the content
streams with pypdf; nothing is rendered. Each check takes the pages and returns its
problems (`Problem(check, page, text)`, [] when none):

  sparse  a nearly empty page: its content (text, images, and filled areas that end on
          it) reaches less than half-way down its text area, unless it is the last page
          of a chapter (`ends`) and has something on it;
  wide    a line of code wider than its box (or, outside a box, than the text area): cut
          off, or running into the margin; or a page printed smaller than 100%, which is
          how Chromium fits content wider than the paper (a line that overflows its box
          visibly) onto it;
  split   a box (a filled background at least half as wide as the text area) split at
          a page break with at most one line of text, and no image, on one side of the
          break: an empty (or one-line) top or bottom left on a page;
  broken  a line of code (a cell's source line, given) that appears on no single line of
          the PDF: wrapped, or cut;
  shape   an image printed squeezed or stretched: its printed width and height in
          another ratio than its pixels'.

`sharpness(image)` says how many of an image's pixels the PDF has per CSS pixel printed.

The text area is the page minus its margins (given: tools/bookpdf.py's MARGINS); the
footer's page number sits in the bottom margin and does not count.
tests/test_pdf_checks.py prints small pages that break each rule and shows that each check
fires on them and on nothing in a clean page.
"""
import itertools
import re
import unicodedata
from collections import Counter
from typing import NamedTuple

from pypdf import PdfReader

MM = 72 / 25.4  # points per millimetre
SPARSE = 0.5   # a page whose content reaches less far down its text area is nearly empty
TOLERANCE = 1.5  # points: how close to an edge counts as at it
PX = 72 / 96     # points per CSS pixel: the scale at which Chromium prints a page at 100%


class Item(NamedTuple):
    """A text run, a filled area or an image: its box in points from the page's top left."""
    x0: float
    top: float
    x1: float
    bottom: float
    text: str = ''
    mono: bool = False
    color: tuple = ()
    size: float = 0.0  # a text run's font size in points
    zoom: float = 1.0  # a text run's scale: 1 as laid out, less where Chromium shrank it
    pixels: tuple = ()  # an image's width and height in pixels


class Page(NamedTuple):
    number: int   # 1-based
    area: Item    # the text area: the page inside its margins
    texts: list
    fills: list
    images: list
    text: str     # the page's text as pypdf extracts it, in reading order


class Problem(NamedTuple):
    check: str
    page: int
    text: str

    def __str__(self):
        return f'[{self.check}] page {self.page}: {self.text}'


def squash(text):
    """Text with ligatures undone and every run of whitespace one space."""
    return re.sub(r'\s+', ' ', unicodedata.normalize('NFKC', text)).strip()


# ------------------------------------------------------------------------ reading a page

def _multiply(m, n):
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return [a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D,
            e * A + f * C + E, e * B + f * D + F]


def _apply(m, x, y):
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _advance(font):
    """The most common glyph width of a font, in text space units per unit of font size
    (a monospaced font's only width); 0.5 when the font does not say."""
    widths = Counter()
    descendants = font.get('/DescendantFonts')
    if descendants:  # a composite font: /W is [first [w1 w2 ...]] or [first last w]
        table = list(descendants[0].get_object().get('/W') or [])
        i = 0
        while i + 1 < len(table):
            if isinstance(table[i + 1], list):
                widths.update(float(w) for w in table[i + 1])
                i += 2
            else:
                widths[float(table[i + 2])] += int(table[i + 1]) - int(table[i]) + 1
                i += 3
    else:
        widths.update(float(w) for w in font.get('/Widths') or [] if float(w) > 0)
    widths.pop(0.0, None)
    return widths.most_common(1)[0][0] / 1000 if widths else 0.5


def _is_mono(font):
    name = str(font.get('/BaseFont', ''))
    return bool(re.search(r'Mono|Courier|Code|Consol', name))


def read_page(page, number, margins):
    """One pypdf page as a `Page`; `margins` in millimetres by side."""
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    area = Item(margins['left'] * MM, margins['top'] * MM,
                width - margins['right'] * MM, height - margins['bottom'] * MM)
    texts, fills, images, path = [], [], [], []
    color = [(0.0, 0.0, 0.0)]
    resources = page.get('/Resources') or {}
    xobjects = resources.get_object().get('/XObject') or {}

    def box(points, **fields):
        xs = [x for x, _ in points]
        ys = [height - y for _, y in points]
        return Item(min(xs), min(ys), max(xs), max(ys), **fields)

    def operation(operator, operands, cm, tm):
        op = operator.decode() if isinstance(operator, bytes) else operator
        numbers = lambda: [float(v) for v in operands]
        if op == 're':
            x, y, w, h = numbers()
            path.extend(_apply(cm, *p) for p in ((x, y), (x + w, y), (x, y + h), (x + w, y + h)))
        elif op in ('m', 'l', 'c', 'v', 'y'):  # curves: their control points bound them
            values = numbers()
            path.extend(_apply(cm, x, y) for x, y in zip(values[::2], values[1::2]))
        elif op in ('f', 'F', 'f*', 'B', 'B*', 'b', 'b*'):
            if path:
                fills.append(box(path, color=color[0]))
            path.clear()
        elif op in ('n', 'S', 's'):  # a clip or a stroke: not a filled area
            path.clear()
        elif op == 'rg':
            color[0] = tuple(round(v, 3) for v in numbers())
        elif op == 'g':
            color[0] = (round(numbers()[0], 3),) * 3
        elif op == 'Do':
            xobject = xobjects.get(operands[0])
            xobject = xobject.get_object() if xobject is not None else {}
            if xobject.get('/Subtype') == '/Image':
                images.append(box([_apply(cm, x, y) for x in (0, 1) for y in (0, 1)],
                                  pixels=(int(xobject['/Width']), int(xobject['/Height']))))

    def text(content, cm, tm, font, size):
        if not content.strip() or font is None:
            return
        matrix = _multiply(tm, cm)
        run = len(content) * _advance(font) * size
        corners = [_apply(matrix, x, y) for x in (0, run) for y in (-0.2 * size, 0.8 * size)]
        scale = abs(_apply(matrix, 0, 1)[1] - _apply(matrix, 0, 0)[1])
        texts.append(box(corners, text=content, mono=_is_mono(font), size=size * scale,
                         zoom=abs(cm[3]) / PX))

    content = page.extract_text(visitor_operand_before=operation, visitor_text=text)
    return Page(number, area, texts, fills, images, content)


def read(path, margins):
    """Every page of the PDF at `path`, as `Page`s (`margins` as in read_page)."""
    reader = PdfReader(path)
    return [read_page(page, n, margins) for n, page in enumerate(reader.pages, 1)]


# ------------------------------------------------------------------------------ helpers

def inside(item, area):
    """`item` clipped to `area` (None when nothing of it is inside)."""
    clipped = Item(max(item.x0, area.x0), max(item.top, area.top),
                   min(item.x1, area.x1), min(item.bottom, area.bottom), *item[4:])
    return clipped if clipped.x0 < clipped.x1 and clipped.top < clipped.bottom else None


def is_white(color):
    return all(v >= 0.99 for v in color)


def boxes(page):
    """The page's boxes: non-white filled areas, clipped to the text area, at least half
    as wide (not inline code's background in a paragraph) and a few points high (not a
    rule or a border line), each once."""
    found = {}
    wide = (page.area.x1 - page.area.x0) / 2
    for fill in page.fills:
        fill = inside(fill, page.area)
        if fill and not is_white(fill.color) and fill.x1 - fill.x0 >= wide \
                and fill.bottom - fill.top >= 4:
            found.setdefault(tuple(round(v) for v in fill[:4]) + (fill.color,), fill)
    return list(found.values())


def lines_in(page, box):
    """How many lines of text (distinct baselines) start inside `box`."""
    return len({round(t.bottom) for t in page.texts
                if box.x0 - TOLERANCE <= t.x0 <= box.x1
                and box.top <= (t.top + t.bottom) / 2 <= box.bottom})


def images_in(page, box):
    return [i for i in page.images if box.top - TOLERANCE <= i.top
            and i.bottom <= box.bottom + TOLERANCE]


def code_lines(page):
    """The page's lines of monospaced text, each as (its text, its first run): runs on one
    baseline joined in order, with a space where a gap is at least half a character."""
    rows = {}
    for run in sorted((t for t in page.texts if t.mono), key=lambda t: t.x0):
        rows.setdefault(round(run.bottom * 2), []).append(run)
    found = []
    for runs in rows.values():
        line, end = '', None
        for run in runs:
            char = (run.x1 - run.x0) / max(len(run.text), 1)
            if end is not None and run.x0 - end >= char / 2:
                line += ' '
            line, end = line + run.text, run.x1
        found.append((line, runs[0]))
    return found


# ------------------------------------------------------------------------------ checks

def sparse(pages, ends=(), least=SPARSE):
    """Nearly empty pages: text and images (and filled areas that end on the page) reach
    less than `least` of the way down the text area. A page in `ends` (the last page of a
    chapter) may be short, but not empty."""
    found = []
    for page in pages:
        area = page.area
        things = [inside(t, area) for t in page.texts + page.images]
        things += [f for f in (inside(f, area) for f in page.fills)
                   if f and f.bottom < area.bottom - TOLERANCE and not is_white(f.color)]
        things = [t for t in things if t]
        reach = (max(t.bottom for t in things) - area.top) / (area.bottom - area.top) \
            if things else 0.0
        if not things:
            found.append(Problem('sparse', page.number, 'the page is empty'))
        elif reach < least and page.number not in ends:
            found.append(Problem('sparse', page.number,
                                 f'nearly empty: its content ends {reach:.0%} of the way '
                                 f'down the page, and it is not the last page of a chapter'))
    return found


def wide(pages):
    """Lines of code wider than the box they are in, or than the text area; pages shrunk
    to fit something wider than the paper."""
    found = {}
    for page in pages:
        frames = boxes(page)
        shown = [t for t in page.texts if inside(t, page.area)]
        zoom = min((t.zoom for t in shown), default=1.0)
        if zoom < 0.99:
            found[page.number, 'zoom'] = Problem(
                'wide', page.number, f'the page is printed at {zoom:.0%}: Chromium shrinks '
                                     f'the pages when something is wider than the paper')
        for run in (t for t in shown if t.mono):
            middle = (run.top + run.bottom) / 2
            right = min([b.x1 for b in frames if b.x0 - TOLERANCE <= run.x0
                         and b.top <= middle <= b.bottom] + [page.area.x1])
            if run.x1 > right + TOLERANCE:
                line = ' '.join(t.text for t in sorted(page.texts, key=lambda t: t.x0)
                                if t.mono and round(t.bottom) == round(run.bottom))
                found.setdefault((page.number, round(run.bottom)), Problem(
                    'wide', page.number, f'a line of code runs {run.x1 - right:.0f} pt past '
                                         f'the right edge of its box: {squash(line)[:70]!r}'))
    return list(found.values())


def split(pages, least=2):
    """Boxes split at a page break with fewer than `least` lines (and no image) on one
    side. A box is split where a box reaches the bottom of a page's text area and a box of
    the same colour and the same left and right edges starts at the top of the next."""
    found = []
    for page, following in itertools.pairwise(pages):
        tops = [b for b in boxes(following) if b.top <= following.area.top + TOLERANCE]
        for box in boxes(page):
            if box.bottom < page.area.bottom - TOLERANCE:
                continue
            for rest in tops:
                if rest.color != box.color or abs(rest.x0 - box.x0) > TOLERANCE \
                        or abs(rest.x1 - box.x1) > TOLERANCE:
                    continue
                before, after = lines_in(page, box), lines_in(following, rest)
                thin = [(n, where) for n, where, p, b in
                        ((before, f'page {page.number}', page, box),
                         (after, f'page {following.number}', following, rest))
                        if n < least and not images_in(p, b)]
                if thin:
                    found.append(Problem('split', page.number,
                                         f'a box split at the page break keeps '
                                         f'{before} line(s) on page {page.number} and '
                                         f'{after} on page {following.number}'))
    return list(dict.fromkeys(found))


def broken(pages, lines):
    """Each of `lines` (lines of code) that is on no single line of the PDF, whole."""
    printed = {squash(line) for page in pages for line, _ in code_lines(page)}
    text = '\n'.join(printed)
    found = []
    for line in dict.fromkeys(squash(line) for line in lines):
        if line and line not in text:
            found.append(Problem('broken', 0, f'a code line is not on one printed line '
                                              f'(wrapped or cut): {line[:70]!r}'))
    return found


def sharpness(image):
    """An image's pixels per CSS pixel of its printed width (2 for a 'retina' figure
    printed at its size; less where it was printed larger than its pixels)."""
    return image.pixels[0] / ((image.x1 - image.x0) / PX)


def shape(pages, tolerance=0.02):
    """Images printed in another ratio of width to height than their pixels'."""
    found = []
    for page in pages:
        for image in page.images:
            printed = (image.x1 - image.x0) / (image.bottom - image.top)
            stored = image.pixels[0] / image.pixels[1]
            if abs(printed / stored - 1) > tolerance:
                found.append(Problem('shape', page.number,
                                     f'an image of {image.pixels[0]} x {image.pixels[1]} '
                                     f'pixels is printed {printed / stored:.2f} times as '
                                     f'wide for its height'))
    return found
