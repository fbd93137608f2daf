"""Reading the chapter notebooks and the table of contents, for the book-level tests."""
import pathlib

import nbformat
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / 'chapters'
SHOWS = 'shows:'  # tag of a cell that shows a poolbook function: shows:poolbook.loops.pool2d


def notebook_paths():
    """Every notebook under chapters/, in file-name order."""
    return sorted(p for p in CHAPTERS.rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts)


def read(path):
    return nbformat.read(path, as_version=4)


def code_cells(nb):
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
