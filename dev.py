#!/usr/bin/env python3
"""The project's commands. Each one first makes sure the virtualenv `.venv` exists and
matches requirements.txt (creating or updating it when not), then runs inside it.

    python3 dev.py book                 build the HTML book into _build/html
    python3 dev.py test [PYTEST ARGS]   run the whole test suite (what CI runs)
    python3 dev.py execute NOTEBOOK...  re-run notebooks in a fresh kernel, save outputs
    python3 dev.py bench                the speed benchmark against MXNet (not a test)

Standard library only, so that it runs on a machine with nothing but Python 3.11.
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
SUPPORTED = ((3, 9), (3, 11))  # jupyter-book 1.0 needs 3.9; numpy 1.23 stops at 3.11


def check_python():
    """Stop at once, with the fix, under a Python the pinned environment cannot use."""
    version = sys.version_info[:2]
    if not SUPPORTED[0] <= version <= SUPPORTED[1]:
        sys.exit(f"dev.py: this is Python {version[0]}.{version[1]}, but the book needs "
                 f"Python 3.9 to 3.11 (MXNet 1.9.1 needs numpy < 1.24, which has no wheels "
                 f"for 3.12 or later). Install Python 3.11 and run: python3.11 dev.py "
                 f"{' '.join(sys.argv[1:])}")


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


def build_book():
    """Build the HTML book from the stored notebook outputs; any Sphinx warning fails it.
    Starts from an empty _build/html, so no page of an earlier build survives."""
    for stale in ('html', '.doctrees', 'jupyter_execute'):
        shutil.rmtree(ROOT / '_build' / stale, ignore_errors=True)
    jb = VENV / 'bin' / 'jupyter-book'
    return subprocess.run([str(jb), 'build', str(ROOT), '--all', '-W', '--keep-going'],
                          cwd=ROOT).returncode


def run_tests(args):
    """Everything: unit tests, nbval over every chapter, the book build."""
    return subprocess.run([sys.executable, '-m', 'pytest', *args], cwd=ROOT).returncode


def execute(paths):
    """Run each notebook top to bottom in a fresh kernel and save it with its outputs."""
    import nbclient
    import nbformat

    for name in paths:
        path = pathlib.Path(name).resolve()
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(nb, timeout=1200, kernel_name='python3',
                                         record_timing=False, coalesce_streams=True,
                                         resources={'metadata': {'path': str(path.parent)}})
        client.execute()
        nb.metadata.kernelspec = {'name': 'python3', 'display_name': 'Python 3 (ipykernel)',
                                  'language': 'python'}
        nbformat.write(nb, path)
        print(f'dev.py: executed {path.relative_to(ROOT)}')
    return 0


def bench(args):
    """The benchmark of bench/pooling_speed.py: a table of times and ratios, not a test."""
    return subprocess.run([sys.executable, str(ROOT / 'bench' / 'pooling_speed.py'), *args],
                          cwd=ROOT).returncode


COMMANDS = {
    'book': lambda args: build_book(),
    'test': run_tests,
    'execute': execute,
    'bench': bench,
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
