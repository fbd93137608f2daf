"""Measuring pooling: interpreter work per output, timings, the memory-bandwidth bound and
peak memory. Used by chapter 5 and by bench/pooling_speed.py; never by the tests' verdicts
(tests check these helpers' logic, not the machine's speed)."""
import statistics
import sys
import time
import tracemalloc

import numpy as np


def count_bytecodes(fn, *args):
    """Run fn(*args) and count the bytecode instructions Python executes in fn's own body
    (not inside the functions it calls)."""
    code, count = fn.__code__, 0

    def trace(frame, event, arg):
        nonlocal count
        if frame.f_code is not code:
            return None  # do not trace other functions
        frame.f_trace_opcodes = True
        count += event == 'opcode'
        return trace

    sys.settrace(trace)
    try:
        fn(*args)
    finally:
        sys.settrace(None)
    return count


def interleaved_medians(functions, repeat=11):
    """Time each of `functions` (a dict name -> no-argument callable) `repeat` times,
    taking turns so that all of them see the same machine state; return median seconds."""
    times = {name: [] for name in functions}
    for _ in range(repeat):
        for name, fn in functions.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def copy_bandwidth(nbytes=256 * 2**20, repeat=5):
    """Measured memory bandwidth in bytes per second: a large np.copyto reads and writes
    every byte once, so it moves 2 * nbytes per call."""
    src = np.ones(nbytes // 4, dtype=np.float32)
    dst = np.empty_like(src)
    seconds = interleaved_medians({'copy': lambda: np.copyto(dst, src)}, repeat)['copy']
    return 2 * src.nbytes / seconds


def traffic_bytes(X, Y):
    """The least memory traffic of pooling X into Y: read every input once, write every
    output once."""
    return X.nbytes + Y.nbytes


def peak_extra_memory(fn):
    """Run fn() and return the peak number of bytes it allocated beyond what it started
    with, as numpy reports its allocations to tracemalloc."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
