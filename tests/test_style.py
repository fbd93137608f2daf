"""The code's style, checked: ruff over the code (its settings are in pyproject.toml), and
one docstring style, numpydoc's, for the public functions of the package's core modules.

A function a chapter shows (tag shows:poolbook.<module>.<name>) keeps the docstring the
chapter prints, a one-line summary; the others document their parameters, with their
defaults, under numpydoc's headings.
"""
import importlib
import inspect
import re
import subprocess
import sys

import pytest

from notebooks import ROOT, code_cells, notebook_paths, read, shown_object, shows_tags

# The modules whose public functions follow numpydoc (the others' owners are editing them).
CORE = ['arrays', 'checks', 'geometry', 'kernels', 'pooling', 'loops', 'conv', 'backward',
        'variants', 'networks', 'shift', 'tinynet', 'training', 'cam', 'threads']
# A check that lives in checks.py for a module being edited elsewhere (antialias).
OTHERS = {'checks.check_filter_size'}
LINTED = ['code', 'tests', 'tools', 'bench', 'sphinx_ext', 'dev.py']


def test_ruff_finds_nothing():
    paths = [p for p in LINTED if (ROOT / p).exists()]
    done = subprocess.run([sys.executable, '-m', 'ruff', 'check', '--no-cache', *paths],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def shown():
    """Every package function a chapter shows (wherever it lives now)."""
    return {inspect.unwrap(getattr(shown_object(tag), 'py_func', shown_object(tag)))
            for path in notebook_paths() for cell in code_cells(read(path))
            for tag in shows_tags(cell)}


def public_functions():
    """(qualified name, function) for the public functions each core module defines."""
    for name in CORE:
        module = importlib.import_module(f'poolbook.{name}')
        for attr, value in vars(module).items():
            if (not attr.startswith('_') and callable(value)
                    and getattr(value, '__module__', None) == module.__name__
                    and not isinstance(value, type)):
                yield f'{name}.{attr}', inspect.unwrap(getattr(value, 'py_func', value))


def parameters_section(doc):
    """{parameter name: its type line} from a numpydoc 'Parameters' section."""
    match = re.search(r'^Parameters\n-{10}\n(.*?)(?:\n\n[A-Z][a-z]+\n-+\n|\Z)', doc,
                      re.S | re.M)
    found = {}
    for line in (match.group(1) if match else '').splitlines():
        head = re.match(r'^([\w*][\w, *]*?)(?: : (.*))?$', line)
        if head and not line.startswith(' '):
            for name in head.group(1).split(', '):
                found[name.strip('*')] = head.group(2) or ''
    return found


FUNCTIONS = sorted(public_functions(), key=lambda item: item[0])
SHOWN = shown()


@pytest.mark.parametrize('name, function', FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_public_functions_have_numpydoc_docstrings(name, function):
    doc = inspect.getdoc(function)
    assert doc, f'{name} has no docstring'
    lines = doc.splitlines()
    if function in SHOWN or name in OTHERS:
        return  # the chapter's text (or another module's): see the module docstring
    assert len(lines) == 1 or lines[1] == '', f'{name}: the first line is not a summary'
    params = [p for p in inspect.signature(function).parameters.values()]
    if not params:
        return
    documented = parameters_section(doc)
    missing = [p.name for p in params if p.name not in documented]
    assert not missing, f'{name}: Parameters does not document {missing}'
    undefaulted = [p.name for p in params if p.default is not inspect.Parameter.empty
                   and not re.search(r'\b(default|optional)\b', documented[p.name])]
    assert not undefaulted, f'{name}: no default stated for {undefaulted}'
