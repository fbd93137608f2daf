"""The notebooks as files: listed in the book, executed as committed, and showing exactly
the code the package ships. (nbval, run by the same `pytest`, re-executes them.)"""
import ast
import importlib
import importlib.util
import inspect

import pytest

import nbformat
from notebooks import (CHAPTERS, ROOT, SIGNIFICANT, cell_ast, code_cells, drift,
                       long_floats, notebook_paths, read, shows_tags, sync, toc_files)

NOTEBOOKS = notebook_paths()
IDS = [p.name for p in NOTEBOOKS]
# Only timings may vary between runs, so a cell may have nbval ignore its output only in
# the chapter that measures speed, and only if it times something with poolbook.speed.
MAY_IGNORE_OUTPUT = {'05_fast_pooling.ipynb'}
TIMING_CALLS = ('interleaved_medians(', 'interleaved_runs(', 'mxnet_layers_in_child(',
                'addition_rate(', 'comparison_rate(')


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
            assert path.name in MAY_IGNORE_OUTPUT and any(
                call in cell.source for call in TIMING_CALLS), (
                f'{path.name}: code cell {i} ignores its output but times nothing')


@pytest.mark.parametrize('path', NOTEBOOKS, ids=IDS)
def test_code_taught_in_a_chapter_is_the_code_the_package_ships(path):
    problems = drift(read(path), path.name)
    assert not problems, '\n\n'.join(problems)


def test_drift_shows_its_diff_and_sync_repairs_it():
    nb = read(CHAPTERS / '01_pooling_from_scratch.ipynb')
    shown = [c for c in code_cells(nb) if shows_tags(c)]
    assert shown, 'chapter 1 shows no package function'
    assert drift(nb) == [] and sync(nb) == []
    shown[0].source = shown[0].source.replace('.max()', '.min()')
    (problem,) = drift(nb)
    assert '\n-' in problem and '.min()' in problem and '\n+' in problem, problem
    assert sync(nb) == shows_tags(shown[0]) and drift(nb) == []
    shown[0].metadata['tags'] = []
    assert 'does not carry exactly one tag' in drift(nb)[0]


# ---------------------------------------------- numbers that read the same on every CPU

@pytest.mark.parametrize('path', NOTEBOOKS, ids=IDS)
def test_printed_and_glued_floats_are_rounded(path):
    # Another CPU (BLAS kernel, SIMD loops, thread count) can change the last digits of
    # a float; a printed or glued float shows only the digits its claim needs.
    found = long_floats(read(path))
    assert not found, (f'{path.name}: floats with more than {SIGNIFICANT} significant '
                       f'digits (round them, e.g. glue(name, round(x, 2))): {found[:8]}')


def test_long_floats_are_found_in_prints_and_glued_values():
    v4 = nbformat.v4
    cells = [v4.new_code_cell('print(0.1 + 0.2)', outputs=[
                 v4.new_output('stream', name='stdout', text='0.30000000000000004\n')]),
             v4.new_code_cell("glue('loss', loss)", outputs=[v4.new_output(
                 'display_data', data={'application/papermill.record/text/plain':
                                       '20.003576850501346'})]),
             v4.new_code_cell('print(x)', outputs=[v4.new_output(
                 'stream', name='stdout', text='[0.33333334 0.5] 1.25e-07 0.0001234567\n')]),
             v4.new_code_cell('t', metadata={'tags': ['nbval-ignore-output']}, outputs=[
                 v4.new_output('stream', name='stdout', text='0.012345678901234\n')])]
    found = long_floats(v4.new_notebook(cells=cells))
    assert found == [(0, '0.30000000000000004'), (1, '20.003576850501346')]


# ------------------------------------------------- what the chapters show and import

MAX_COLUMNS = 88  # what a code cell shows at the book's width without scrolling


def private_uses(tree):
    """Names starting with '_' that the code imports or reaches through an imported
    module: `from m import _x`, `import m._x`, `from m._x import y`, `m._x`."""
    found, imported = [], set()
    is_private = lambda part: part.startswith('_') and not part.startswith('__')
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found += [alias.name] if any(map(is_private, alias.name.split('.'))) else []
                imported.add((alias.asname or alias.name).split('.')[0])
        elif isinstance(node, ast.ImportFrom) and node.module:
            if any(map(is_private, node.module.split('.'))):
                found.append(node.module)
            found += [f'{node.module}.{a.name}' for a in node.names if is_private(a.name)]
            imported.update(a.asname or a.name for a in node.names)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in imported:
                found.append(ast.unparse(node))
    return found


@pytest.mark.parametrize('path', NOTEBOOKS, ids=IDS)
def test_chapters_use_only_public_names(path):
    found = [f'code cell {i}: {name}' for i, cell in enumerate(code_cells(read(path)))
             for name in private_uses(cell_ast(cell))]
    assert not found, f'{path.name} uses private names (make them public): {found}'


def test_private_uses_are_found():
    tree = ast.parse('from poolbook._checks import as_pair\nimport poolbook._checks\n'
                     'from poolbook.speed import _divisor, CHUNK\nimport numpy as np\n'
                     'from poolbook import pooling\npooling._taps(1)\nnp.__name__\n'
                     'x = {}; x._private')
    assert private_uses(tree) == ['poolbook._checks', 'poolbook._checks',
                                  'poolbook.speed._divisor', 'pooling._taps']


def imported_from_package(tree):
    """(module, name) for every `from poolbook... import name` in the code."""
    return [(node.module, alias.name) for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or '').startswith('poolbook')
            for alias in node.names]


@pytest.mark.parametrize('path', NOTEBOOKS, ids=IDS)
def test_what_chapters_import_has_a_docstring(path):
    undocumented = []
    for cell in code_cells(read(path)):
        for module, name in imported_from_package(cell_ast(cell)):
            parent = importlib.import_module(module)
            thing = getattr(parent, name, None)
            if (thing is None and hasattr(parent, '__path__')
                    and importlib.util.find_spec(f'{module}.{name}') is not None):
                thing = importlib.import_module(f'{module}.{name}')  # a submodule
            if thing is None:
                undocumented.append(f'{module}.{name} (the package has no such name)')
            elif (callable(thing) or inspect.ismodule(thing)) and not inspect.getdoc(thing):
                undocumented.append(f'{module}.{name}')
    assert not undocumented, f'{path.name} imports names without a docstring: {undocumented}'


@pytest.mark.parametrize('path', NOTEBOOKS, ids=IDS)
def test_code_lines_fit_the_page(path):
    long = [f'code cell {i}, line {n} ({len(line)} columns): {line.strip()[:40]!r}...'
            for i, cell in enumerate(code_cells(read(path)))
            for n, line in enumerate(cell.source.splitlines(), 1) if len(line) > MAX_COLUMNS]
    assert not long, f'{path.name}: lines longer than {MAX_COLUMNS} columns: {long}'
