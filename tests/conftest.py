"""Fixtures shared by the tests: the unit tests' random generator, array kinds and
hypothesis profile; the book-level and browser tests' built book and browser; the markers
of slow tests."""
import fcntl
import os
import subprocess
import sys
import zlib

import numpy as np
import pytest
from hypothesis import settings

import pagecheck
from notebooks import ROOT

BUILD_LOG = ROOT / '_build' / 'sphinx-warnings.log'  # written by dev.py book


# ------------------------------------------------------------------ the unit tests

PACKAGE = ROOT / 'code' / 'poolbook'
# The functions numba caches on disk (kernels.py, and loops.py's copy of chapter 1's
# compiled loop): their index files, in numba's cache next to the source.
CACHED = {'kernels.py': 'kernels.pool_maps-*.nbi', 'loops.py': 'loops.loop_njit-*.nbi'}


def numba_cache_is_fresh():
    """True when numba's disk cache holds an index for each cached function, newer than
    its source (numba recompiles a function whose source changed)."""
    if os.environ.get('NUMBA_CACHE_DIR') or os.environ.get('POOLBOOK_COMPILED') == '0':
        return os.environ.get('POOLBOOK_COMPILED') == '0'  # elsewhere: warm to be sure
    for source, pattern in CACHED.items():
        indexes = list((PACKAGE / '__pycache__').glob(pattern))
        if not indexes or max(p.stat().st_mtime for p in indexes) < (
                PACKAGE / source).stat().st_mtime:
            return False
    return True


def pytest_sessionstart(session):
    """Compile the numba code once per test run, before pytest-xdist starts its workers,
    when the disk cache lacks it (a fresh clone, an edited kernel): the workers then load
    it instead of each compiling it again. The workers themselves skip this."""
    if hasattr(session.config, 'workerinput') or numba_cache_is_fresh():
        return
    # One fresh Python per dtype, side by side: each compiles on a core of its own (numba
    # compiles on one), and kernels.GuardedCache locks a function's cache index while
    # one of them adds its entry. This package's source, whichever checkout runs.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(PACKAGE.parent), *filter(None, [os.environ.get('PYTHONPATH')])]))
    children = [subprocess.Popen([sys.executable, '-c', WARM, dtype], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for dtype in ('float32', 'float64')]
    for child in children:
        output = child.communicate()[0]
        if child.returncode:
            raise RuntimeError(f'compiling the kernels failed:\n{output}')


WARM = """import sys
import numpy as np
import poolbook
from poolbook import kernels, loops
assert poolbook.__file__.startswith(sys.path[1]), (poolbook.__file__, sys.path)
kernels.warm((sys.argv[1],))
loops.pool2d_njit(np.zeros((2, 2), sys.argv[1]), 2)
"""

# Every run tries the same hypothesis cases (no example database, no randomness between
# runs), with no deadline: a case's time depends on the machine's load, not on the code.
# Each test sets its own max_examples, measured to keep the suite's time where it was.
settings.register_profile('poolbook', deadline=None, database=None, derandomize=True,
                          print_blob=True)
settings.load_profile('poolbook')


@pytest.fixture
def rng(request):
    """A numpy random generator seeded from the test's id: the same numbers on every run,
    other numbers in every test."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


def ndarray_of(A):
    """The numpy array A as an mx.nd.NDArray of its dtype (MXNet is imported here, on
    first use: the book-level tests never need it)."""
    from mxnet import nd
    return nd.array(A, dtype=A.dtype)


ARRAY_KINDS = {'numpy': lambda A: A, 'ndarray': ndarray_of}


@pytest.fixture(params=list(ARRAY_KINDS))
def as_kind(request):
    """A function that turns a numpy array into each kind of array the package takes in
    turn: the numpy array itself, then an mx.nd.NDArray of the same dtype."""
    return ARRAY_KINDS[request.param]


@pytest.fixture(scope='session')
def built_book():
    """Build the whole book once per test run with the README's `dev.py book` and return
    the path of _build/html. Any Sphinx warning fails the build (-W); the log of Sphinx's
    own messages must hold none either (pip's, when dev.py sets up .venv, are not
    Sphinx's and do not count). With pytest-xdist, the first worker that needs the book
    builds it while the others wait on a lock, and the run's id marks it as built."""
    BUILD_LOG.parent.mkdir(exist_ok=True)
    run = os.environ.get('PYTEST_XDIST_TESTRUNUID')  # one id per run, shared by workers
    marker = BUILD_LOG.parent / 'built-for-run'
    with open(BUILD_LOG.parent / 'build.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if run is None or not marker.exists() or marker.read_text() != run:
            marker.unlink(missing_ok=True)
            result = subprocess.run([sys.executable, str(ROOT / 'dev.py'), 'book'],
                                    cwd=ROOT, capture_output=True, text=True)
            assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
            if run is not None:
                marker.write_text(run)
    warnings = BUILD_LOG.read_text()
    assert 'WARNING' not in warnings, warnings[-4000:]
    return ROOT / '_build' / 'html'


# The fixtures that build the book or start Chromium, and the marker a test using one
# (directly or through another fixture) gets; `dev.py test --quick` leaves both out.
SLOW_FIXTURES = {'built_book': 'book',
                 'pdf': 'book',  # tests/test_pdf.py: the book printed by Chromium
                 'browser': 'browser', 'new_context': 'browser', 'page': 'browser'}


def pytest_collection_modifyitems(items):
    """Mark each test `book` and/or `browser` from the fixtures it uses."""
    for item in items:
        for fixture in set(getattr(item, 'fixturenames', ())) & SLOW_FIXTURES.keys():
            item.add_marker(SLOW_FIXTURES[fixture])


# pytest-playwright provides `browser`, `new_context` and `page` (a fresh context per
# test); these two fixtures point it at the system's Chromium and the book's settings.

@pytest.fixture(scope='session')
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium (never a downloaded one), or skip/fail without it."""
    pagecheck.skip_or_fail_without_browser()
    return {**browser_type_launch_args, **pagecheck.launch_args()}


@pytest.fixture(scope='session')
def browser_context_args(browser_context_args):
    """Every test's context: the book's viewport, no service workers."""
    return {**browser_context_args, **pagecheck.CONTEXT_ARGS}


try:
    import pytest_playwright  # noqa: F401  (the plugin, loaded by pytest itself)
except ImportError:  # without playwright the browser tests skip, or fail in CI
    @pytest.fixture
    def page():
        pagecheck.skip_or_fail_without_browser()

    new_context = page
