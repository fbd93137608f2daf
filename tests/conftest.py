"""Fixtures shared by the book-level tests."""
import subprocess
import sys

import pytest

from notebooks import ROOT


@pytest.fixture(scope='session')
def built_book():
    """Build the whole book once per test session with the README's `dev.py book` (any
    Sphinx warning fails it) and return the path of _build/html."""
    result = subprocess.run([sys.executable, str(ROOT / 'dev.py'), 'book'],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert 'WARNING' not in result.stderr, result.stderr[-4000:]
    return ROOT / '_build' / 'html'
