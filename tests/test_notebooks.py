"""The notebooks as files: listed in the book, executed as committed, and showing exactly
the code the package ships. (nbval, run by the same `pytest`, re-executes them.)"""
import ast
import importlib
import inspect

import pytest

from notebooks import CHAPTERS, ROOT, SHOWS, code_cells, notebook_paths, read, toc_files

NOTEBOOKS = notebook_paths()
IDS = [p.name for p in NOTEBOOKS]
# Only timings may vary between runs, so a cell may have nbval ignore its output only in
# the chapter that measures speed, and only if it times something with poolbook.speed.
MAY_IGNORE_OUTPUT = {'05_fast_pooling.ipynb'}
TIMING_CALL = 'interleaved_medians('


def test_there_are_chapters():
    assert NOTEBOOKS, 'no notebooks under chapters/'


@pytest.mark.parametrize('path', NOTEBOOKS, ids=IDS)
def test_notebook_is_in_the_table_of_contents(path):
    assert str(path.relative_to(ROOT).with_suffix('')) in toc_files()


def test_every_toc_entry_exists():
    for name in toc_files():
        candidates = [ROOT / (name + suffix) for suffix in ('.md', '.ipynb')]
        assert any(c.exists() for c in candidates), f'_toc.yml lists {name}, which does not exist'


@pytest.mark.parametrize('path', NOTEBOOKS, ids=IDS)
def test_notebook_was_executed_top_to_bottom_in_one_kernel(path):
    counts = [c.execution_count for c in code_cells(read(path))]
    assert None not in counts, f'{path.name}: a code cell was never executed'
    assert counts == list(range(1, len(counts) + 1)), f'{path.name}: counts {counts}'


@pytest.mark.parametrize('path', NOTEBOOKS, ids=IDS)
def test_notebook_has_no_errors_or_stderr(path):
    for i, cell in enumerate(code_cells(read(path))):
        for out in cell.outputs:
            assert out.output_type != 'error', f'{path.name}: code cell {i} stored an error'
            assert out.get('name') != 'stderr', f'{path.name}: code cell {i} wrote to stderr'


@pytest.mark.parametrize('path', NOTEBOOKS, ids=IDS)
def test_no_cell_skips_or_ignores_its_output_without_reason(path):
    for i, cell in enumerate(code_cells(read(path))):
        tags = set(cell.metadata.get('tags', []))
        assert 'nbval-skip' not in tags and 'NBVAL_SKIP' not in cell.source
        assert 'raises-exception' not in tags, f'{path.name}: code cell {i} may raise'
        if 'nbval-ignore-output' in tags or 'NBVAL_IGNORE_OUTPUT' in cell.source:
            assert path.name in MAY_IGNORE_OUTPUT and TIMING_CALL in cell.source, (
                f'{path.name}: code cell {i} ignores its output but times nothing')


def shown_function(tag):
    """The package object a `shows:` tag names, e.g. shows:poolbook.loops.pool2d."""
    module, _, name = tag[len(SHOWS):].rpartition('.')
    return getattr(importlib.import_module(module), name)


def drift(nb):
    """Every code cell that defines a function must carry one `shows:` tag and hold exactly
    the source of the package function the tag names; return what breaks that rule."""
    problems = []
    for i, cell in enumerate(code_cells(nb)):
        tags = [t for t in cell.metadata.get('tags', []) if t.startswith(SHOWS)]
        defines = [node.name for node in ast.parse(cell.source).body
                   if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
        if not defines:
            if tags:
                problems.append(f'code cell {i} is tagged {tags} but defines nothing')
        elif len(tags) != 1:
            problems.append(f'code cell {i} defines {defines} but does not carry exactly one '
                            f'tag {SHOWS}poolbook.<module>.<name> naming its package copy')
        elif cell.source.strip() != inspect.getsource(shown_function(tags[0])).strip():
            problems.append(f'code cell {i} differs from {tags[0][len(SHOWS):]} in the package')
    return problems


@pytest.mark.parametrize('path', NOTEBOOKS, ids=IDS)
def test_code_taught_in_a_chapter_is_the_code_the_package_ships(path):
    assert drift(read(path)) == []


def test_drift_is_caught_when_a_taught_cell_changes():
    nb = read(CHAPTERS / '01_pooling_from_scratch.ipynb')
    shown = [c for c in code_cells(nb) if any(t.startswith(SHOWS) for t in c.metadata.get('tags', []))]
    assert shown, 'chapter 1 shows no package function'
    shown[0].source = shown[0].source.replace('.max()', '.min()')
    assert len(drift(nb)) == 1
    shown[0].metadata['tags'] = []
    assert 'does not carry exactly one tag' in drift(nb)[0]
