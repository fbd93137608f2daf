"""Does the test suite catch bugs? Deliberate one-line bugs ("mutants") in the package, each
run against the tests that should catch it: `python3 dev.py mutants`.

Each entry of MUTANTS names a file of code/poolbook/, an exact fragment of its source
(which must occur there exactly once), the fragment's replacement (a bug that changes
what the code computes or refuses, never a comment or dead code) and the test files that
should fail. For each mutant the tool

1. copies the repository's code/, tests/, tools/ and pyproject.toml (pytest's settings)
   into a temporary directory, always the same path, and applies the replacement there:
   the real tree is never edited;
2. runs `pytest -x -q -p no:cacheprovider -p no:randomly -m "not book and not browser"`
   on the mutant's test files in that copy, with .venv's Python, and with the copy's
   code/ first on PYTHONPATH (the editable install points at the real tree; the tool
   checks that `import poolbook` finds the copy);
3. reports it caught (naming the first failing test) or SURVIVED, with the time.

The unmutated copy runs every mutant's test files once first and must pass; otherwise
the tool stops (every mutant would look caught). The exit status is non-zero if a mutant
survives.

numba's on-disk cache is keyed by the source file's path and time stamp, so every run
gets a fresh NUMBA_CACHE_DIR of its own (tests/conftest.py compiles the kernels at the
start of a run that sets one). A mutant of a file that holds numba code (kernels.py,
loops.py) starts from an empty one: everything is compiled again, the mutated code
included, and the tool checks that numba wrote the mutated file's index there. Any other
mutant's fresh directory starts as a copy of the unmutated run's cache: its compiled
files are byte for byte the unmutated ones, at the same path with the same time stamps
(the copy keeps them), and the compiled code calls no Python module (kernels.py's
docstring), so the cached machine code is theirs; this saves about 40 s of compiling
per mutant.

tests/test_mutants.py checks, in well under a second, that every fragment still occurs
exactly once, so that the list cannot silently rot when the code changes.
"""
import argparse
import collections
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = 'code/poolbook'
# What a copy holds: the package, the tests and their helpers, the tools (tests import
# them from the root) and pyproject.toml (pytest's settings, markers and warning filters).
COPIED = ('code', 'tests', 'tools', 'pyproject.toml')
IGNORED = shutil.ignore_patterns('__pycache__', '*.pyc', '.pytest_cache', '.hypothesis',
                                 '*.egg-info')
PYTEST = ['-m', 'pytest', '-x', '-q', '-rfE', '-p', 'no:cacheprovider', '-p', 'no:randomly',
          '-m', 'not book and not browser']
TIMEOUT = 1200  # seconds for one pytest run; a mutant that hangs the tests is caught

Mutant = collections.namedtuple('Mutant', 'name path fragment replacement tests what')


def mutant(name, module, fragment, replacement, tests, what):
    """One entry of MUTANTS; `module` is a file name in code/poolbook/."""
    return Mutant(name, f'{PACKAGE}/{module}', fragment, replacement, tuple(tests), what)


MUTANTS = [
    mutant('output-size-off-by-one', 'geometry.py',
           '        return span // s + 1', '        return span // s',
           ['tests/test_geometry.py'],
           "output_size forgets the + 1 of floor((n + 2p - k) / s) + 1"),
    mutant('ceil-mode-keeps-a-window-starting-in-the-padding', 'geometry.py',
           'if (out - 1) * s >= n + p:', 'if (out - 1) * s > n + p:',
           ['tests/test_geometry.py'],
           "ceil mode keeps a last window that starts on the first trailing padding cell"),
    mutant('divisor-counts-the-padding-always', 'geometry.py',
           'if count_include_pad and (out - 1) * s + k <= n + 2 * p:',
           'if (out - 1) * s + k <= n + 2 * p:',
           ['tests/test_geometry.py'],
           "divisor returns k whenever the windows fit, even with count_include_pad=False"),
    mutant('pool2d-column-divisor-from-the-rows', 'pooling.py',
           'div_w = divisor(n_w, k_w, s_w, p_w, out_w, count_include_pad)',
           'div_w = divisor(n_h, k_w, s_w, p_w, out_w, count_include_pad)',
           ['tests/test_pooling.py'],
           "pool2d's average takes the column divisors from the map's height"),
    mutant('numpy-path-max-starts-from-zero', 'pooling.py',
           "Y.fill(0 if mode != 'max' else -np.inf if Y.dtype.kind == 'f'",
           "Y.fill(0 if mode != 'max' else 0 if Y.dtype.kind == 'f'",
           ['tests/test_pooling.py'],
           "pool_axis starts a float maximum from 0, not -inf, when no offset reaches "
           "every output"),
    mutant('zero-sign-of-the-last-zero', 'pooling.py',
           'first = -pool_ints(np.where(M == 0, -index, -n_h * n_w))',
           'first = pool_ints(np.where(M == 0, index, -n_h * n_w))',
           ['tests/test_pooling.py'],
           "first_zero_signs gives a zero maximum the sign of its window's last zero"),
    mutant('kernel-tall-window-ignores-the-stride', 'kernels.py',
           'Rv[i, t] = _combine(Rv[i, t], Av[s_h * i + a, t], is_max)',
           'Rv[i, t] = _combine(Rv[i, t], Av[i + a, t], is_max)',
           ['tests/test_kernels.py'],
           "the forward kernel reads rows 4 and on of a tall window without the stride"),
    mutant('kernel-edge-window-drops-its-last-column', 'kernels.py',
           'b0, b1 = max(0, -left), min(k_w, R.shape[1] - left)',
           'b0, b1 = max(0, -left), min(k_w, R.shape[1] - left - 1)',
           ['tests/test_kernels.py'],
           "the forward kernel's edge windows leave out the map's last column"),
    mutant('backward-kernel-max-overwrites-overlaps', 'kernels.py',
           'd[t + left[j] + k[j]] += g[j]', 'd[t + left[j] + k[j]] = g[j]',
           ['tests/test_backward.py'],
           "the max backward kernel stores each gradient where overlapping windows "
           "must add"),
    mutant('backward-kernel-avg-divides-by-the-window', 'kernels.py',
           'row[j] = np.float64(g_row[j]) / d_row[j]',
           'row[j] = np.float64(g_row[j]) / (k_h * k_w)',
           ['tests/test_backward.py'],
           "the avg backward kernel shares by k_h k_w, whatever count_include_pad says"),
    mutant('backward-ties-share-the-gradient', 'backward.py',
           'hit = ~taken[block] & ((V == Y[block]) | np.isnan(V))',
           'hit = (V == Y[block]) | np.isnan(V)',
           ['tests/test_backward.py'],
           "max_backward (numpy steps) gives the gradient to every tied maximum"),
    mutant('adaptive-bin-end-rounded-down', 'adaptive.py',
           'return i * n // out, -(-(i + 1) * n // out)',
           'return i * n // out, (i + 1) * n // out',
           ['tests/test_adaptive.py'],
           "adaptive_bins ends bin i at floor((i + 1) n / out), not the ceiling"),
    mutant('strided-loop-window-width-k_h', 'loops.py',
           'window = P[i * s_h: i * s_h + k_h, j * s_w: j * s_w + k_w]',
           'window = P[i * s_h: i * s_h + k_h, j * s_w: j * s_w + k_h]',
           ['tests/test_loops.py'],
           "chapter 2's strided loop cuts its windows k_h columns wide"),
    mutant('recorded-arrays-let-through', 'arrays.py',
           'if not autograd.is_recording():', 'if autograd.is_recording():',
           ['tests/test_arrays.py'],
           "check_kind no longer refuses an NDArray autograd is recording"),
    mutant('check-int-refuses-its-maximum', 'checks.py',
           'and value > maximum):', 'and value >= maximum):',
           ['tests/test_checks.py'],
           "check_int refuses its own maximum"),
    mutant('indices-name-the-last-maximum', 'unpool.py',
           'take = ((index[block] < 0) & (V == Y[block])) | nan',
           'take = (V == Y[block]) | nan',
           ['tests/test_unpool.py'],
           "pool2d_with_indices names a window's last maximum on ties, not its first"),
    mutant('roi-box-without-its-last-cell', 'regions.py',
           'size = end - start + 1', 'size = end - start',
           ['tests/test_regions.py'],
           "roi_pool_bins leaves out the box's last row and column (MXNet's + 1)"),
    mutant('blur-pads-the-wrong-side', 'antialias.py',
           'pad[axis] = ((f - 1) // 2, f // 2)', 'pad[axis] = (f // 2, (f - 1) // 2)',
           ['tests/test_antialias.py'],
           "blur_axis pads an even filter's extra cell before the map instead of after"),
]


def mutated(text, entry):
    """The source `text` with the mutant's fragment replaced.

    Parameters
    ----------
    text : str
        The source of the mutant's file.
    entry : Mutant
        The mutant.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        When the fragment does not occur exactly once in `text`.
    """
    count = text.count(entry.fragment)
    if count != 1:
        raise ValueError(f'{entry.name}: the fragment {entry.fragment!r} occurs {count} '
                         f'times in {entry.path}, not once')
    return text.replace(entry.fragment, entry.replacement)


def problems(root=ROOT, mutants=MUTANTS):
    """What is wrong with the list of mutants against the source under `root`.

    Parameters
    ----------
    root : pathlib.Path, default ROOT
        The repository whose code/ and tests/ the mutants must fit.
    mutants : list of Mutant, default MUTANTS

    Returns
    -------
    list of str
        One message per problem: a name used twice, a fragment that does not occur exactly
        once, a replacement that changes nothing or does not compile, a missing test file.
    """
    found = []
    names = collections.Counter(m.name for m in mutants)
    found += [f'{name}: the name is used {n} times' for name, n in names.items() if n > 1]
    for entry in mutants:
        if entry.replacement == entry.fragment:
            found.append(f'{entry.name}: the replacement is the fragment')
        path = root / entry.path
        try:
            text = mutated(path.read_text(), entry)
            compile(text, str(path), 'exec')
        except (OSError, ValueError, SyntaxError) as error:
            found.append(f'{entry.name}: {error}')
        if not entry.tests:
            found.append(f'{entry.name}: no test file named')
        found += [f'{entry.name}: no test file {t}' for t in entry.tests
                  if not (root / t).is_file()]
    return found


def holds_numba_code(path):
    """True when the source file at `path` defines numba-compiled functions."""
    return 'njit' in pathlib.Path(path).read_text()


def copy_repository(dest):
    """Copy what the tests need (COPIED) to `dest`, emptied first; files keep their time
    stamps (numba's cache of an unchanged file stays valid across copies)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=IGNORED)
        else:
            shutil.copy2(source, dest / name)


def python():
    """The worktree's .venv Python (dev.py's), or this one when there is none."""
    venv = ROOT / '.venv' / 'bin' / 'python'
    return str(venv) if venv.exists() else sys.executable


def environment(copy, cache):
    """The environment of a run in the copy: its code/ first on the path, its own numba
    cache, the compiled kernels on (as the test suite runs them)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PYTHONDONTWRITEBYTECODE='1',
               PYTHONPATH=os.pathsep.join(p for p in (str(copy / 'code'),
                                                      os.environ.get('PYTHONPATH')) if p))
    env.pop('POOLBOOK_COMPILED', None)
    return env


def check_imports_copy(copy, cache):
    """Stop unless `import poolbook` in the copy's environment finds the copy's package."""
    done = subprocess.run([python(), '-c', 'import importlib.util as u; '
                           'print(u.find_spec("poolbook").origin)'],
                          cwd=copy, env=environment(copy, cache), capture_output=True,
                          text=True)
    origin = pathlib.Path(done.stdout.strip() or '.').resolve()
    if (copy / 'code').resolve() not in origin.parents:
        sys.exit(f'mutants: in the copy, poolbook is imported from {origin}, not from '
                 f'{copy / "code"}: the mutants would not be tested\n{done.stderr}')


def run_pytest(copy, tests, cache, log):
    """Run PYTEST on `tests` in the copy; return (exit code or None on timeout, seconds).

    pytest's output goes to the file `log`. On a timeout its whole process group (pytest
    and any process a test started) is killed.
    """
    start = time.perf_counter()
    with open(log, 'w') as out:
        proc = subprocess.Popen([python(), *PYTEST, *tests], cwd=copy, stdout=out,
                                stderr=subprocess.STDOUT, env=environment(copy, cache),
                                start_new_session=True)
        try:
            code = proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = None
    return code, time.perf_counter() - start


def first_failure(output):
    """The node id of the first failing test in pytest's `-rfE` summary, or None."""
    match = re.search(r'^(?:FAILED|ERROR) (\S+)', output, re.M)
    return match.group(1) if match else None


def verdict(code, output):
    """('caught', how), ('SURVIVED', '') or ('ERROR', why) from a mutant's pytest run."""
    if code == 0:
        return 'SURVIVED', ''
    if code is None:
        return 'caught', f'the tests ran past {TIMEOUT} s (a hang)'
    if code < 0:
        return 'caught', f'the test process died of signal {-code}'
    failed = first_failure(output)
    if code in (1, 2) and failed:
        return 'caught', failed
    return 'ERROR', f'pytest exited with {code} and named no failing test'


def tail(text, lines=30):
    """The last `lines` lines of `text`, indented, for a report."""
    return '\n'.join('    ' + line for line in text.splitlines()[-lines:])


def run(mutants, work):
    """Run the unmutated copy, then every mutant, in the directory `work`; print the
    table; return the exit status (0: every mutant caught)."""
    copy, base_cache = work / 'repo', work / 'cache-unmutated'
    tests = sorted({t for m in mutants for t in m.tests})
    copy_repository(copy)
    check_imports_copy(copy, base_cache)
    print(f'mutants: the unmutated copy, {len(tests)} test files ({python()})', flush=True)
    code, seconds = run_pytest(copy, tests, base_cache, work / 'unmutated.log')
    output = (work / 'unmutated.log').read_text()
    if code != 0:
        print(f'mutants: the unmutated copy fails its tests (exit {code}), so every mutant '
              f'would look caught; stopping:\n{tail(output)}')
        return 2
    print(f'mutants: the unmutated copy passes ({seconds:.0f} s)\n', flush=True)
    width = max(len(m.name) for m in mutants)
    print(f'{"mutant":{width}}  {"file":12}  {"s":>4}  result', flush=True)
    counts = collections.Counter()
    for entry in mutants:
        copy_repository(copy)
        target = copy / entry.path
        target.write_text(mutated(target.read_text(), entry))
        cache = work / f'cache-{entry.name}'
        fresh = holds_numba_code(target)
        if not fresh:  # its compiled files unchanged: the unmutated machine code holds
            shutil.copytree(base_cache, cache)
        log = work / f'{entry.name}.log'
        code, seconds = run_pytest(copy, entry.tests, cache, log)
        output = log.read_text()
        result, how = verdict(code, output)
        if fresh:  # the mutated file compiled afresh: numba wrote its index here
            stem = target.stem
            if not list(cache.rglob(f'{stem}.*.nbi')):
                result, how = 'ERROR', f'numba wrote no index for {stem}.py: not compiled?'
            else:
                how += ' (compiled afresh)'
        counts[result] += 1
        print(f'{entry.name:{width}}  {pathlib.Path(entry.path).name:12}  {seconds:4.0f}  '
              f'{result}{": " + how if how else ""}', flush=True)
        if result != 'caught':
            print(f'  {entry.what}; pytest said:\n{tail(output)}', flush=True)
    print(f'\nmutants: {counts["caught"]} of {len(mutants)} caught'
          + ''.join(f', {counts[k]} {k}' for k in ('SURVIVED', 'ERROR') if counts[k]))
    return 0 if counts['caught'] == len(mutants) else 1


def main(args):
    """dev.py mutants [--list] [--keep] [NAME ...]: run the mutants (all, or those named).

    Parameters
    ----------
    args : list of str
        The command line after `dev.py mutants`.

    Returns
    -------
    int
        0 when every mutant was caught, 1 when one survived (or a run went wrong), 2 when
        the unmutated copy fails its tests or the list does not fit the source.
    """
    parser = argparse.ArgumentParser(prog='dev.py mutants', description=__doc__.split(
        '\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('names', nargs='*', metavar='NAME', help='run only these mutants')
    parser.add_argument('--list', action='store_true', help='list the mutants and stop')
    parser.add_argument('--keep', action='store_true',
                        help='keep the temporary directory (copies, caches, logs)')
    options = parser.parse_args(args)
    if options.list:
        for m in MUTANTS:
            print(f'{m.name}  ({m.path}; {", ".join(m.tests)})\n    {m.what}')
        return 0
    unknown = set(options.names) - {m.name for m in MUTANTS}
    if unknown:
        parser.error(f'no mutant named {", ".join(sorted(unknown))} (see --list)')
    chosen = [m for m in MUTANTS if not options.names or m.name in options.names]
    found = problems(mutants=chosen)
    if found:
        print('mutants: the list does not fit the source:\n  ' + '\n  '.join(found))
        return 2
    start = time.perf_counter()
    work = pathlib.Path(tempfile.mkdtemp(prefix='poolbook-mutants-'))
    try:
        status = run(chosen, work)
    finally:
        if options.keep:
            print(f'mutants: kept {work}')
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f'mutants: {time.perf_counter() - start:.0f} s in all')
    return status


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
