"""The chapter notebooks and the table of contents, for the book-level tests and dev.py.

One implementation of "a cell shows a package function": `shown_cells` finds the cells
tagged `shows:poolbook.<module>.<name>`, `package_source` gives the text the cell must
hold, `drift` says (with a unified diff) where a notebook breaks the rule, and `sync`
rewrites the cells from the package (used by `python3 dev.py sync`).
"""
import ast
import difflib
import importlib
import inspect
import pathlib
import re

import nbformat
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / 'chapters'
SHOWS = 'shows:'  # tag of a cell that shows a poolbook function: shows:poolbook.loops.pool2d


def notebook_paths():
    """Every notebook under chapters/, in file-name order."""
    return sorted(p for p in CHAPTERS.rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts)


def read(path):
    """The notebook at `path`, as nbformat version 4."""
    return nbformat.read(path, as_version=4)


def code_cells(nb):
    """The notebook's code cells, in order."""
    return [c for c in nb.cells if c.cell_type == 'code']


def toc_files():
    """Every file _toc.yml lists (the root, chapters, sections), as paths without suffix."""
    names = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ('root', 'file'):
                    names.append(str(pathlib.PurePosixPath(value).with_suffix('')))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load((ROOT / '_toc.yml').read_text()))
    return names


# ------------------------------------------------------- cells that show package code

def shows_tags(cell):
    """The cell's `shows:` tags, e.g. ['shows:poolbook.loops.pool2d']."""
    return [t for t in cell.metadata.get('tags', []) if t.startswith(SHOWS)]


def cell_ast(cell):
    """The cell's code as a Python syntax tree (IPython magics turned into calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return ast.parse(TransformerManager().transform_cell(cell.source))


def defined_names(cell):
    """The functions and classes a code cell defines at its top level."""
    return [node.name for node in cell_ast(cell).body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))]


def shown_object(tag):
    """The package object a `shows:` tag names, e.g. shows:poolbook.loops.pool2d."""
    module, _, name = tag[len(SHOWS):].rpartition('.')
    return getattr(importlib.import_module(module), name)


def package_source(tag):
    """The text a cell tagged `tag` must hold: the object's source, stripped."""
    return inspect.getsource(shown_object(tag)).strip()


def source_diff(cell_source, tag, where):
    """A unified diff from the cell's text to the package's, as one string."""
    lines = difflib.unified_diff(cell_source.strip().splitlines(),
                                 package_source(tag).splitlines(),
                                 fromfile=where, tofile=tag[len(SHOWS):], lineterm='')
    return '\n'.join(lines)


def drift(nb, name='notebook'):
    """Every code cell that defines a function must carry one `shows:` tag and hold exactly
    the source of the package function the tag names; return what breaks that rule."""
    problems = []
    for i, cell in enumerate(code_cells(nb)):
        tags = shows_tags(cell)
        try:
            defines = defined_names(cell)
        except SyntaxError:  # a tagged cell broken by hand: the diff shows where
            defines = ['(a cell that does not parse)']
        if not defines:
            if tags:
                problems.append(f'{name}: code cell {i} is tagged {tags} but defines nothing')
        elif len(tags) != 1:
            problems.append(f'{name}: code cell {i} defines {defines} but does not carry '
                            f'exactly one tag {SHOWS}poolbook.<module>.<name> naming its '
                            f'package copy')
        elif cell.source.strip() != package_source(tags[0]):
            diff = source_diff(cell.source, tags[0], f'{name}, code cell {i}')
            problems.append(f'{name}: code cell {i} differs from {tags[0][len(SHOWS):]} in '
                            f'the package (python3 dev.py sync rewrites it):\n{diff}')
    return problems


def sync(nb):
    """Rewrite every cell with one `shows:` tag from the package source; return the tags
    of the cells it changed."""
    changed = []
    for cell in code_cells(nb):
        tags = shows_tags(cell)
        if len(tags) == 1:
            source = package_source(tags[0])
            if cell.source.strip() != source:
                cell.source = source
                changed.append(tags[0])
    return changed


# ------------------------------------------------------- numbers that another CPU flips

SIGNIFICANT = 10  # the most significant digits a printed or glued float may show
TEXT_OUTPUTS = ('text/plain', 'text/html', 'text/markdown', 'text/latex')
GLUED = 'application/papermill.record/'  # the prefix of a glued value's mime type
DECIMAL = re.compile(r'(?<![\w.])\d*\.\d+(?:[eE][-+]?\d+)?')


def significant_digits(number):
    """How many significant digits a decimal number has as written: 3 for '0.00123'."""
    mantissa = re.split('[eE]', number)[0].replace('.', '')
    return len(mantissa.lstrip('0')) or 1


def output_texts(cell):
    """Every text a code cell's outputs hold (printed streams, displayed and glued values)."""
    for out in cell.get('outputs', []):
        if out.output_type == 'stream':
            yield out.text
        for mime, text in out.get('data', {}).items():
            if mime.removeprefix(GLUED) in TEXT_OUTPUTS:
                yield ''.join(text)


def long_floats(nb):
    """(code cell index, number) for every float a cell prints or glues with more than
    SIGNIFICANT significant digits; cells whose output nbval ignores are left out."""
    found = []
    for i, cell in enumerate(code_cells(nb)):
        if 'nbval-ignore-output' in cell.metadata.get('tags', []):
            continue
        for text in output_texts(cell):
            found += [(i, n) for n in DECIMAL.findall(text)
                      if significant_digits(n) > SIGNIFICANT]
    return found
