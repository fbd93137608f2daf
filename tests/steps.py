"""A bound on work that does not depend on the machine: the number of Python steps a
call takes, counted with sys.settrace, instead of its wall-clock time.

The package promises that no function runs long because a window is huge and the input
tiny. A loop over a huge window's offsets or windows would take millions of Python steps
(or never end); `within_steps` stops it with OverBudget as soon as it passes its budget,
so a regression fails at once, on a fast or a loaded machine alike.
"""
import sys


class OverBudget(AssertionError):
    """A call took more Python steps (calls, lines, returns) than its budget."""


def within_steps(fn, budget=20_000):
    """Run fn() and return its result, failing with OverBudget once it has taken more
    than `budget` Python steps (trace events: calls, lines, returns, exceptions)."""
    steps = 0

    def trace(frame, event, arg):
        nonlocal steps
        steps += 1
        if steps > budget:
            raise OverBudget(f'more than {budget:,} Python steps: the work grows with the '
                             f'window, not with the input and output')
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        return fn()
    finally:
        sys.settrace(previous)
