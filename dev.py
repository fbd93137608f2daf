#!/usr/bin/env python3
"""The project's commands. Each one first makes sure the virtualenv `.venv` exists and
matches requirements.txt (creating or updating it when not), then runs inside it.

    python3 dev.py book                 build the HTML book into _build/html, with its PDF
    python3 dev.py pdf                  the whole book as one PDF, _build/pdf/book.pdf
    python3 dev.py test [PYTEST ARGS]   run the whole test suite (what CI runs): every
                                        test on this CPU, then the notebooks again as
                                        another CPU (--other-cpu)
    python3 dev.py test --quick [ARGS]  unit tests and static book checks only (seconds):
                                        no notebook re-execution, book build or browser
    python3 dev.py test --other-cpu     only the notebooks, re-run under nbval as on a
                                        reader's other CPU (see OTHER_CPU)
    python3 dev.py execute NOTEBOOK...  re-run notebooks in a fresh kernel, save outputs
    python3 dev.py sync [NOTEBOOK...]   rewrite every `shows:` cell from the package
                                        source and re-execute the notebooks it changed
    python3 dev.py bench                every benchmark in bench/, in turn (not a test)
    python3 dev.py mutants [NAME...]    deliberate one-line bugs in the package, each in a
                                        copy of the repository: does the suite catch
                                        them? (tools/mutants.py; minutes, not a test)

Standard library only at the top level, so that it runs on a machine with nothing but
Python 3.11; the commands themselves run inside .venv and may import what it holds.
"""
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent
VENV = ROOT / '.venv'
VENV_PYTHON = VENV / 'bin' / 'python'
STAMP = VENV / '.installed-requirements'
# The one supported Python, as in pyproject.toml, runtime.txt and the README: MXNet 1.9.1
# needs numpy < 1.24, which has no wheels for Python 3.12 or later, and requirements.txt
# pins every package (jupyter-book and the rest) for this version.
SUPPORTED = (3, 11)


def check_python():
    """Stop at once, with the fix, under a Python the pinned environment cannot use."""
    version = sys.version_info[:2]
    if version != SUPPORTED:
        sys.exit(f"dev.py: this is Python {version[0]}.{version[1]}, but the book needs "
                 f"Python 3.11 (MXNet 1.9.1 needs numpy < 1.24, which has no wheels for "
                 f"3.12 or later; requirements.txt is pinned for 3.11). Install Python 3.11 "
                 f"and run: python3.11 dev.py {' '.join(sys.argv[1:])}")


def wanted_stamp():
    """What the venv must have been installed from: the two files that define it."""
    digest = hashlib.sha256()
    for name in ('requirements.txt', 'pyproject.toml'):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_venv():
    """Create .venv and install requirements.txt into it, unless that is already done."""
    if not VENV_PYTHON.exists():
        print(f'dev.py: creating the virtualenv {VENV.name}/', flush=True)
        subprocess.run([sys.executable, '-m', 'venv', str(VENV)], check=True)
    if not STAMP.exists() or STAMP.read_text() != wanted_stamp():
        print('dev.py: installing requirements.txt into .venv (once; a few minutes)', flush=True)
        subprocess.run([str(VENV_PYTHON), '-m', 'pip', 'install', '--disable-pip-version-check',
                        '-q', '-r', 'requirements.txt'], cwd=ROOT, check=True)
        STAMP.write_text(wanted_stamp())


def in_venv():
    return pathlib.Path(sys.prefix).resolve() == VENV.resolve()


BUILD_LOG = ROOT / '_build' / 'sphinx-warnings.log'


def build_book():
    """Build the HTML book from the stored notebook outputs; any Sphinx warning fails it.
    Starts from an empty _build/html, so no page of an earlier build survives. Sphinx's
    warnings (all the build writes to stderr) also go to _build/sphinx-warnings.log, which
    the tests read: that file holds the build's messages alone, not pip's."""
    for stale in ('html', '.doctrees', 'jupyter_execute'):
        shutil.rmtree(ROOT / '_build' / stale, ignore_errors=True)
    BUILD_LOG.parent.mkdir(exist_ok=True)
    jb = VENV / 'bin' / 'jupyter-book'
    with subprocess.Popen([str(jb), 'build', str(ROOT), '--all', '-W', '--keep-going'],
                          cwd=ROOT, stderr=subprocess.PIPE, text=True) as build, \
            open(BUILD_LOG, 'w') as log:
        for line in build.stderr:
            sys.stderr.write(line)
            log.write(line)
    return build.returncode


# Tests that need the built book or a browser carry these markers (tests/conftest.py
# sets them from the fixtures a test uses), tests that start a fresh Python the marker
# `child`, and the exhaustive grids against a framework the marker `sweep` (2-D random
# cases against the same frameworks stay in); --quick leaves them all out, and the
# notebooks.
QUICK = ['tests', '-m', 'not book and not browser and not child and not sweep']

# A reader's other CPU, on this machine: every dispatch that another x86-64 processor
# could change, changed. MXNet's native kernel instead of oneDNN's (and oneDNN, where a
# child process turns it on, limited to SSE4.1); OpenBLAS's Prescott kernel on one
# thread (another kernel and summation order); numpy without its AVX and FMA loops;
# numba code for a generic x86-64; PyTorch's kernels without AVX2 or AVX-512; one
# OpenMP thread where this machine's default is one per core.
OTHER_CPU = {'MXNET_MKLDNN_ENABLED': '0', 'DNNL_MAX_CPU_ISA': 'SSE41',
             'OPENBLAS_CORETYPE': 'Prescott', 'OPENBLAS_NUM_THREADS': '1',
             'NUMBA_CPU_NAME': 'generic', 'ATEN_CPU_CAPABILITY': 'default',
             'OMP_NUM_THREADS': '1'}


def simd_features():
    """numpy's SIMD features that this CPU has, named as NPY_DISABLE_CPU_FEATURES takes
    them (only features the CPU has may be listed there)."""
    from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    return ' '.join(f for f in __cpu_dispatch__ if __cpu_features__.get(f)
                    and (f.startswith('AVX') or f == 'FMA3'))


def workers():
    """pytest-xdist workers: one per core, at most four (each runs notebook kernels)."""
    return str(min(os.cpu_count() or 1, 4))


def pytest(args, env=None):
    """Run pytest from the root with `args`, files spread over the workers (a notebook's
    cells stay together, in order, on one worker)."""
    command = [sys.executable, '-m', 'pytest', '-n', workers(), '--dist', 'loadfile', *args]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def other_cpu(args):
    """Every chapter under nbval again, in the environment OTHER_CPU describes."""
    env = dict(os.environ, **OTHER_CPU, NPY_DISABLE_CPU_FEATURES=simd_features())
    shown = ' '.join(f'{k}={v}' for k, v in sorted(env.items())
                     if k in OTHER_CPU or k == 'NPY_DISABLE_CPU_FEATURES')
    print(f'dev.py: the notebooks again, as another CPU: {shown}', flush=True)
    return pytest(['chapters', *args], env)


def run_tests(args):
    """Everything: unit tests, nbval over every chapter, the book build, the browser,
    then the chapters as another CPU. --quick: the unit tests and the static checks of
    the notebooks only. --other-cpu: the chapters as another CPU only."""
    if '--quick' in args:
        return pytest(QUICK + [a for a in args if a != '--quick'])
    if '--other-cpu' in args:
        return other_cpu([a for a in args if a != '--other-cpu'])
    print('dev.py: every test, on this CPU', flush=True)
    status = pytest(args)
    return other_cpu([]) or status


def execute(paths):
    """Run each notebook top to bottom in a fresh kernel and save it with its outputs."""
    import nbclient
    import nbformat

    for name in paths:
        path = pathlib.Path(name).resolve()
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(nb, timeout=1200, kernel_name='python3',
                                         record_timing=False, coalesce_streams=True,
                                         store_widget_state=False,
                                         resources={'metadata': {'path': str(path.parent)}})
        client.execute()
        nb.metadata.kernelspec = {'name': 'python3', 'display_name': 'Python 3 (ipykernel)',
                                  'language': 'python'}
        nbformat.write(nb, path)
        print(f'dev.py: executed {shown(path)}')
    return 0


def shown(path):
    """`path` relative to the repository when it is inside it, for messages."""
    path = pathlib.Path(path).resolve()
    return path.relative_to(ROOT) if ROOT in path.parents else path


def sync(paths):
    """Rewrite every cell tagged shows:poolbook.<module>.<name> from the package source
    (inspect.getsource), then re-execute the notebooks that changed, and only those."""
    import nbformat

    sys.path.insert(0, str(ROOT / 'tests'))
    import notebooks  # the one implementation, shared with tests/test_notebooks.py

    changed = []
    for path in [pathlib.Path(p).resolve() for p in paths] or notebooks.notebook_paths():
        nb = notebooks.read(path)
        tags = notebooks.sync(nb)
        if tags:
            nbformat.write(nb, path)
            changed.append(path)
            print(f'dev.py: {shown(path)}: rewrote the cells of {", ".join(tags)}', flush=True)
    if not changed:
        print('dev.py: every shown cell already equals the package source')
        return 0
    return execute(changed)


def bench(args):
    """Every benchmark script bench/*.py in turn (tables of times and memory, not tests)."""
    status = 0
    for script in sorted((ROOT / 'bench').glob('*.py')):
        print(f'dev.py: running {script.relative_to(ROOT)}', flush=True)
        status |= subprocess.run([sys.executable, str(script), *args], cwd=ROOT).returncode
    return status


def pdf(args):
    """The whole book as _build/pdf/book.pdf, printed offline by Chromium (tools/bookpdf.py)."""
    from tools import bookpdf  # the repository root, this file's folder, is on sys.path

    return bookpdf.main(args)


def mutants(args):
    """Every deliberate bug of tools/mutants.py (or those named), each run in a copy of
    the repository against the tests that should catch it; --list names them."""
    from tools import mutants as tool  # the repository root, this file's folder, is on sys.path

    return tool.main(args)


def book(args):
    """The PDF (skipped with a note on a machine without Chromium), then the HTML book,
    which links the PDF and holds a copy of it (sphinx_ext/book_pdf.py)."""
    print('dev.py: printing the book to _build/pdf/book.pdf (tools/bookpdf.py)', flush=True)
    status = pdf(['--if-browser'])
    if status:
        return status
    print('dev.py: building the HTML book into _build/html (jupyter-book build)', flush=True)
    return build_book()


COMMANDS = {
    'book': book,
    'test': run_tests,
    'execute': execute,
    'sync': sync,
    'bench': bench,
    'pdf': pdf,
    'mutants': mutants,
}


def main():
    check_python()
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    if not in_venv():
        ensure_venv()
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(ROOT / 'dev.py'), *sys.argv[1:]])
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))


if __name__ == '__main__':
    main()
