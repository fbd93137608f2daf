"""The step budget (tests/steps.py) that replaces wall-clock limits: it stops a loop that
grows with a window, and lets a call that stays small through."""
import pytest

from steps import OverBudget, within_steps


def loop(n):
    total = 0
    for i in range(n):
        total += i
    return total


def test_a_long_python_loop_is_stopped_early():
    with pytest.raises(OverBudget, match='Python steps'):
        within_steps(lambda: loop(10**12))  # would run for hours unchecked


def test_a_short_call_returns_its_result():
    assert within_steps(lambda: loop(100)) == 4950
