"""The list of deliberate bugs that `python3 dev.py mutants` runs (tools/mutants.py) still
fits the source: every fragment occurs exactly once, every replacement changes it and
compiles, every test file named exists. (Running the mutants takes minutes: not a test.)"""
import pytest

from tools import mutants


def test_every_mutant_fits_the_current_source():
    assert mutants.problems() == []


def test_the_mutants_are_spread_over_the_packages_core():
    files = {m.path.rsplit('/', 1)[1] for m in mutants.MUTANTS}
    assert {'geometry.py', 'pooling.py', 'kernels.py', 'backward.py', 'adaptive.py',
            'loops.py', 'arrays.py', 'checks.py', 'antialias.py'} <= files


def make(fragment, replacement='x = 2', path='code/poolbook/geometry.py',
         tests=('tests/test_geometry.py',)):
    """A mutant of a file in a temporary repository."""
    return mutants.Mutant('m', path, fragment, replacement, tests, 'a test mutant')


def test_problems_are_found(tmp_path):
    (tmp_path / 'code' / 'poolbook').mkdir(parents=True)
    (tmp_path / 'tests').mkdir()
    (tmp_path / 'code' / 'poolbook' / 'geometry.py').write_text('x = 1\ny = 1\n')
    (tmp_path / 'tests' / 'test_geometry.py').write_text('')
    assert mutants.problems(tmp_path, [make('x = 1')]) == []
    cases = {'occurs 2 times': make('= 1'), 'occurs 0 times': make('z = 1'),
             'the replacement is the fragment': make('x = 1', 'x = 1'),
             'invalid syntax': make('x = 1', 'x = = 1'),
             'no test file tests/test_x.py': make('x = 1', tests=('tests/test_x.py',)),
             'No such file': make('x = 1', path='code/poolbook/nothing.py')}
    for words, entry in cases.items():
        found = mutants.problems(tmp_path, [entry])
        assert len(found) == 1 and words in found[0], (words, found)
    assert 'used 2 times' in mutants.problems(tmp_path, [make('x = 1'), make('y = 1')])[0]


def test_mutated_replaces_the_one_occurrence_or_refuses():
    assert mutants.mutated('a = 1\nb = 2\n', make('b = 2', 'b = 3')) == 'a = 1\nb = 3\n'
    with pytest.raises(ValueError, match='occurs 2 times'):
        mutants.mutated('a = 1\na = 1\n', make('a = 1'))


@pytest.mark.parametrize('code, output, want', [
    (0, '1 passed', ('SURVIVED', '')),
    (1, 'FAILED tests/test_a.py::test_b[1-2] - AssertionError\n1 failed',
     ('caught', 'tests/test_a.py::test_b[1-2]')),
    (2, 'ERROR tests/test_a.py - ImportError\nInterrupted', ('caught', 'tests/test_a.py')),
    (-11, 'Fatal Python error', ('caught', 'the test process died of signal 11')),
    (5, 'no tests ran', ('ERROR', 'pytest exited with 5 and named no failing test'))])
def test_verdict_reads_pytests_result(code, output, want):
    assert mutants.verdict(code, output) == want
