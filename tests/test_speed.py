"""The measuring helpers of chapter 5 and the benchmark: their logic, not the machine's
speed (nothing here asserts how fast anything is)."""
import numpy as np

from poolbook.speed import (count_bytecodes, interleaved_medians, peak_extra_memory,
                            traffic_bytes)


def spin(n):
    total = 0
    for i in range(n):
        total += i
    return total


def calls_spin(n):
    return spin(n)


def test_bytecodes_grow_by_the_same_amount_per_iteration():
    counts = [count_bytecodes(spin, n) for n in range(1, 5)]
    steps = np.diff(counts)
    assert steps[0] > 0 and (steps == steps[0]).all()


def test_bytecodes_of_called_functions_are_not_counted():
    assert count_bytecodes(calls_spin, 1) == count_bytecodes(calls_spin, 1000)


def test_tracing_is_switched_off_afterwards():
    import sys
    count_bytecodes(spin, 3)
    assert sys.gettrace() is None


def test_interleaved_medians_takes_turns_and_returns_one_median_each():
    order = []
    medians = interleaved_medians({'a': lambda: order.append('a'),
                                   'b': lambda: order.append('b')}, repeat=3)
    assert order == ['a', 'b'] * 3
    assert set(medians) == {'a', 'b'} and all(m >= 0 for m in medians.values())


def test_traffic_is_input_plus_output_bytes():
    X = np.zeros((2, 3, 8, 8), dtype=np.float32)   # 384 cells * 4 bytes = 1536
    Y = np.zeros((2, 3, 4, 4), dtype=np.float32)   # 96 cells * 4 bytes = 384
    assert traffic_bytes(X, Y) == 1536 + 384


def test_peak_memory_sees_a_numpy_allocation():
    peak = peak_extra_memory(lambda: np.ones(10**6))  # 8,000,000 bytes of float64
    assert 8_000_000 <= peak < 8_100_000
