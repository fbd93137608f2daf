"""The shared argument checks (poolbook.checks), where the functions that use them do not
already show them: pool2d's tests check every refusal through pool2d itself."""
import pathlib

import numpy as np
import pytest

from poolbook import backward, checks, conv, loops, pooling, variants
from poolbook.checks import (as_pair, check_int, check_output_cells, check_padded_size,
                             check_window_fits, is_int)


@pytest.mark.parametrize('value, want', [
    (3, True), (np.int8(3), True), (np.uint64(3), True), (10**30, True), (True, False),
    (np.bool_(True), False), (3.0, False), (np.float32(3), False), ('3', False),
    (None, False), (np.array(3), False)])
def test_is_int_is_one_rule(value, want):
    assert is_int(value) is want


def test_check_int_takes_both_bounds_and_refuses_one_past_each():
    # The bounds are included (the docstring): 1 to 17 takes 1 and 17, not 0 or 18.
    assert check_int(1, 'digits', minimum=1, maximum=17) == 1
    assert check_int(17, 'digits', minimum=1, maximum=17) == 17
    assert check_int(np.int64(17), 'digits', maximum=17) == 17
    assert check_int(-5, 'n') == -5  # no bounds: any int
    for value, bounds, words in [(0, dict(minimum=1, maximum=17), 'from 1 to 17, got 0'),
                                 (18, dict(minimum=1, maximum=17), 'from 1 to 17, got 18'),
                                 (-1, dict(minimum=0), 'at least 0, got -1'),
                                 (7, dict(maximum=6), 'at most 6, got 7')]:
        with pytest.raises(ValueError, match=f'digits must be an int {words}'):
            check_int(value, 'digits', **bounds)
    with pytest.raises(TypeError, match='digits must be an int, got True'):
        check_int(True, 'digits', minimum=0, maximum=1)


def test_as_pair_refuses_sizes_no_array_could_index():
    assert as_pair(2**60, 'pool_size', 1) == (2**60, 2**60)
    with pytest.raises(ValueError, match=r'strides must be at most 2\*\*60'):
        as_pair((1, 2**60 + 1), 'strides', 1)


def test_check_window_fits_names_the_padded_shape():
    check_window_fits((4, 5), (6, 5), (1, 0))   # 4 + 2 = 6 rows: fits exactly
    with pytest.raises(ValueError, match=r'pool_size \(7, 5\) does not fit in the input '
                       r'padded by \(1, 0\), whose spatial shape is \(6, 5\)'):
        check_window_fits((4, 5), (7, 5), (1, 0))


def test_check_padded_size_counts_the_padded_map():
    check_padded_size((2, 2), (1023, 1023))   # 2048 x 2048 = 2**22 cells: the limit
    # 2048 x 2050 cells: over it
    with pytest.raises(ValueError, match=r'padding \(1023, 1024\).*4,198,400'):
        check_padded_size((2, 2), (1023, 1024))


def test_large_inputs_with_modest_padding_are_fine():
    check_padded_size((4096, 4096), (1, 1))      # 17 million cells, hardly any padding
    check_padded_size((1024, 1024), (512, 512))  # (2 x 1024)**2 = 4 times the map: allowed
    with pytest.raises(ValueError, match='mostly padding'):
        check_padded_size((1024, 1024), (1024, 1024))


def test_check_output_cells():
    check_output_cells((2**20, 2**20))
    with pytest.raises(ValueError, match='pool_size, strides and padding'):
        check_output_cells((2**40, 2**40))


def test_checks_that_moved_are_still_found_here():
    # Chapters 4 to 6 import some of these from poolbook.checks, where they used to live.
    modules = {'pooling': pooling, 'loops': loops, 'conv': conv, 'backward': backward,
               'variants': variants}
    for name, module in checks.MOVED.items():
        assert getattr(checks, name) is getattr(modules[module], name), name
    assert 'check_p_value' in checks.MOVED and 'check_gradient' in checks.MOVED
    with pytest.raises(AttributeError, match='no attribute'):
        checks.check_nothing


def test_checks_does_not_import_mxnet():
    assert 'mxnet' not in pathlib.Path(checks.__file__).read_text()
