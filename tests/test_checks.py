"""Tests of poolbook.checks not covered through the functions that use them."""
import numpy as np
import pytest

from poolbook.checks import (WINDOW_CELLS, as_pair, check_finite, check_float,
                              check_output_cells, check_padded_size, check_shape,
                              check_window_cells, is_int)


@pytest.mark.parametrize('value, want', [
    (3, True), (np.int8(3), True), (np.uint64(3), True), (10**30, True), (True, False),
    (np.bool_(True), False), (3.0, False), (np.float32(3), False), ('3', False),
    (None, False), (np.array(3), False)])
def test_is_int_is_one_rule(value, want):
    assert is_int(value) is want


def test_as_pair_refuses_sizes_no_array_could_index():
    assert as_pair(2**60, 'pool_size', 1) == (2**60, 2**60)
    with pytest.raises(ValueError, match=r'strides must be at most 2\*\*60'):
        as_pair((1, 2**60 + 1), 'strides', 1)


def test_check_padded_size_counts_the_padded_map():
    check_padded_size((2, 2), (1023, 1023))   # 2048 x 2048 = 2**22 cells: the limit
    # 2048 x 2050 cells: over it
    with pytest.raises(ValueError, match=r'padding \(1023, 1024\).*4,198,400'):
        check_padded_size((2, 2), (1023, 1024))


def test_check_window_cells_counts_every_window_of_every_output():
    assert WINDOW_CELLS == 2**22
    check_window_cells((2, 64, 64), (16, 32))   # 2 * 64 * 64 * 16 * 32 = 2**22: the limit
    # one output cell more: 2 * 64 * 65 * 512 = 4,259,840 cells, over it
    with pytest.raises(ValueError, match=r'pool_size \(16, 32\) over an output of shape '
                       r'\(2, 64, 65\) gathers 4,259,840 window cells, more than the '
                       r'4,194,304'):
        check_window_cells((2, 64, 65), (16, 32))
    with pytest.raises(ValueError, match='gathers 12 window cells, more than the 11'):
        check_window_cells((3,), (2, 2), limit=11)


def test_check_output_cells():
    check_output_cells((2**20, 2**20))
    with pytest.raises(ValueError, match='pool_size, strides and padding'):
        check_output_cells((2**40, 2**40))


@pytest.mark.parametrize('dtype', ['float16', 'int64', 'uint8'])
def test_check_float_names_the_dtype(dtype):
    with pytest.raises(TypeError, match=f'X must be float32 or float64.*{dtype}'):
        check_float(np.zeros(2, dtype))


def test_check_finite_counts_bad_values():
    with pytest.raises(ValueError, match='window must hold finite numbers, got 2'):
        check_finite(np.array([np.nan, 1.0, -np.inf]), 'window')


@pytest.mark.parametrize('shape, error', [((1, 2), ValueError), ((1, 2, 2.0), TypeError),
                                          ((1, True, 2), TypeError), ((0, 2, 2), ValueError)])
def test_check_shape(shape, error):
    with pytest.raises(error, match='shape'):
        check_shape(shape)


def test_large_inputs_with_modest_padding_are_fine():
    check_padded_size((4096, 4096), (1, 1))          # 17 million cells, hardly any padding
    check_padded_size((1024, 1024), (512, 512))      # (2 x 1024)**2 = 4 times the map: still allowed
    with pytest.raises(ValueError, match='mostly padding'):
        check_padded_size((1024, 1024), (1024, 1024))
