"""The measuring helpers of chapter 5 and the benchmark: their logic, not the machine's
speed (nothing here asserts how fast anything is)."""
import numpy as np
import pytest

from poolbook.speed import (bound_multiples, count_bytecodes, fastest, fastest_counts,
                            fb_traffic_bytes, interleaved_medians, interleaved_runs,
                            listed, load_note, marked, parallel_copy, peak_extra_memory,
                            quartiles, rate_verdict, relation, relation_tally,
                            spread_note, spread_table, traffic_bytes, winner)


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


def leaf(x):
    return x + 1


def two_calls(x):
    return leaf(x) * leaf(x)


def test_bytecodes_of_callees_are_counted_on_request_by_hand():
    # dis.dis lists, under Python 3.11 (runtime.txt), 11 instructions for two_calls:
    # RESUME, then twice LOAD_GLOBAL leaf, LOAD_FAST x, PRECALL, CALL, then BINARY_OP *
    # and RETURN_VALUE; and 5 for leaf: RESUME, LOAD_FAST x, LOAD_CONST 1, BINARY_OP +,
    # RETURN_VALUE. Python reports no opcode event for RESUME (its 'call' event stands
    # for it): 10 in two_calls' own body, 4 in each of the two calls of leaf.
    assert count_bytecodes(two_calls, 2) == 10
    assert count_bytecodes(two_calls, 2, callees=True) == 10 + 2 * 4


def test_bytecodes_of_callees_agree_with_the_disassembler():
    # Straight-line functions run each of their instructions once.
    import dis
    listed = lambda f: sum(i.opname != 'RESUME' for i in dis.get_instructions(f))
    assert count_bytecodes(leaf, 1) == listed(leaf)
    assert count_bytecodes(two_calls, 1, callees=True) == (listed(two_calls)
                                                           + 2 * listed(leaf))


def test_bytecodes_of_callees_grow_with_their_loops():
    # calls_spin's own body runs the same bytecodes for any n; spin's loop adds the same
    # number per iteration, counted only with callees=True.
    steps = np.diff([count_bytecodes(calls_spin, n, callees=True) for n in range(1, 5)])
    assert steps[0] > 0 and (steps == steps[0]).all()
    assert steps[0] == count_bytecodes(spin, 2) - count_bytecodes(spin, 1)


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


def test_interleaved_runs_keep_every_time_in_turn_order():
    clock = iter(range(100))
    order = []
    runs = interleaved_runs({'a': lambda: order.append(next(clock)),
                             'b': lambda: order.append(next(clock))}, repeat=4)
    assert order == list(range(8))
    assert [len(t) for t in runs.values()] == [4, 4]
    assert all(t >= 0 for ts in runs.values() for t in ts)


def test_quartiles_by_hand():
    assert quartiles([1.0, 2.0, 3.0, 4.0, 5.0]) == (2.0, 3.0, 4.0)
    assert quartiles([5.0, 1.0, 4.0, 2.0, 3.0]) == (2.0, 3.0, 4.0)  # any order
    # 7 values: quartiles at positions 1.5 and 4.5 of the sorted list (0-based)
    assert quartiles([1, 2, 3, 4, 5, 6, 100]) == (2.5, 4, 5.5)
    assert quartiles([2.0, 4.0]) == (2.5, 3.0, 3.5)
    assert quartiles([7.0]) == (7.0, 7.0, 7.0)


def test_bound_multiples_divide_by_the_bound_of_the_median_copy():
    # 100 bytes to move; the copy moves 1000 bytes in 2, 4 and 3 s: a median of 3 s, a
    # bandwidth of 1000 / 3 B/s, a bound of 100 / (1000 / 3) = 0.3 s.
    runs = {'a': [0.6, 0.3, 0.9], 'copy': [2.0, 4.0, 3.0], 'b': [0.3, 0.3, 0.3]}
    got = bound_multiples(runs, 100, 1000)
    assert set(got) == {'a', 'b'}
    assert got['a'] == pytest.approx([2.0, 1.0, 3.0])
    assert got['b'] == pytest.approx([1.0, 1.0, 1.0])
    assert bound_multiples({'x': [3.0], 'c': [1.0]}, 10, 10, copy='c') == {'x': [3.0]}


def test_load_note_warns_above_half_a_core_below_the_cores():
    assert load_note(1.0, 2).startswith('The machine had a load average of 1.0 on 2')
    assert load_note(1.5, 2).startswith('The machine had')  # not above 1.5
    assert load_note(1.6, 2).startswith('The machine was busy')
    assert load_note(3.2, 4).startswith('The machine had')
    assert load_note(3.6, 4).startswith('The machine was busy')
    assert 'a load average of 3.6 on 4 cores' in load_note(3.6, 4)
    assert ' on ' in load_note(0.0)  # the cores this process may run on


def test_load_note_on_threads_bounds_the_other_processes_by_hand():
    # The page counts for 1 to 2 threads: others took load - 2 to load - 1 cores.
    assert load_note(1.4, 2, threads=2).endswith(
        "1 to 2 threads included: other processes took less than half a core on average.")
    assert load_note(1.5, 2, threads=2).endswith('took up to 0.5 of a core on average, '
                                                 'which may have slowed the threads.')
    assert load_note(2.5, 2, threads=2).endswith('took up to 1.5 of a core on average, '
                                                 'which may have slowed the threads.')
    assert 'took more than half a core' in load_note(2.6, 2, threads=2)
    assert 'took more than half a core' in load_note(4.6, 8, threads=4)
    assert 'a load average of 1.4 on 2 cores' in load_note(1.44, 2, threads=2)


def test_relation_tally_counts_relation_words_by_hand():
    pairs = [(1.0, 3.0), (1.0, 1.02), (2.0, 1.0), (1.0, 2.0)]  # faster, tie, slower, faster
    assert relation_tally(pairs) == 'faster on 2, about as fast on 1, slower on 1'
    assert relation_tally([(2.0, 1.0)]) == 'slower on 1'


def test_spread_note_says_a_ranking_may_flip_from_the_printed_5_percent():
    start = ('From turn to turn each entry varied by at most ±{}% of its median (half the '
             'width of its middle half, as printed)')
    assert spread_note(4.4) == start.format(4) + ', less than the 5% that makes a tie'
    flip = (", so where a row's first two are closer than that, another run may rank "
            'them the other way')
    assert spread_note(4.6) == start.format(5) + flip  # printed as 5%: no "less than"
    assert spread_note(53) == start.format(53) + flip
    assert spread_note(0) == start.format(0) + ', less than the 5% that makes a tie'


def test_listed_names_in_words():
    assert listed(['a']) == 'a'
    assert listed(('a', 'b')) == 'a and b'
    assert listed(['a', 'b', 3]) == 'a, b and 3'


def test_rate_verdict_groups_the_layers_by_hand():
    needs = {'a': 0.45, 'b': 0.2, 'c': 0.75}
    words = ('more', 'about', 'less')
    # 2.32 / 0.75 = 3.1: every layer covered
    assert rate_verdict(2.32, needs, words) == 'on the a, b and c layers, more'
    # 0.518 covers 0.45 (1.15) and 0.2, not 0.75 (0.69)
    assert rate_verdict(0.518, needs, words) == ('on the a and b layers, more; '
                                                 'on the c layer, less')
    # 0.46 / 0.45 = 1.02: within 5%
    assert rate_verdict(0.46, needs, words) == ('on the b layer, more; on the a layer, '
                                                'about; on the c layer, less')
    # the 5% edge as relation draws it: 1.05 covers, 1 / 1.05 falls short
    assert rate_verdict(1.05, {'x': 1.0}, words) == 'on the x layer, more'
    assert rate_verdict(1 / 1.05, {'x': 1.0}, words) == 'on the x layer, less'


def test_spread_table_prints_medians_and_half_their_middle_half_by_hand():
    # x on (a, max): 1..5, quartiles 2, 3, 4: median 3.00, half the middle half 1 = 33%
    # of 3; every other entry is constant: 0%. z is missing from (b, avg): left out.
    table = {('a', 'max'): {'x': [1.0, 2.0, 3.0, 4.0, 5.0], 'y': [2.0, 2.0, 2.0],
                            'z': [1.0]},
             ('b', 'avg'): {'x': [2.0, 2.0], 'y': [4.0, 4.0]}}
    text, widest = spread_table(table)
    assert text.splitlines() == ['             a          b',
                                 '           max        avg',
                                 'x    3.00 ±33%   2.00 ±0%',
                                 'y     2.00 ±0%   4.00 ±0%']
    assert widest == pytest.approx(100 / 3)


def test_traffic_is_input_plus_output_bytes():
    X = np.zeros((2, 3, 8, 8), dtype=np.float32)   # 384 cells * 4 bytes = 1536
    Y = np.zeros((2, 3, 4, 4), dtype=np.float32)   # 96 cells * 4 bytes = 384
    assert traffic_bytes(X, Y) == 1536 + 384


def test_peak_memory_sees_a_numpy_allocation():
    peak = peak_extra_memory(lambda: np.ones(10**6))  # 8,000,000 bytes of float64
    assert 8_000_000 <= peak < 8_100_000


def test_relation_words_follow_the_numbers():
    from poolbook.speed import relation
    assert relation(1.0, 3.0) == '3 times faster than'
    assert relation(2.5, 1.0) == '2.5 times slower than'
    assert relation(1.0, 1.04) == 'about as fast as'
    assert relation(1.04, 1.0) == 'about as fast as'
    # two significant digits: 385 / 1.92 = 200.5, 36.04, 1.449, 9.96 -> 10
    assert relation(385.0, 1.92) == '200 times slower than'
    assert relation(1.0, 36.04) == '36 times faster than'
    assert relation(1.0, 1.449) == '1.4 times faster than'
    assert relation(1.0, 9.96) == '10 times faster than'
    assert relation(1.0, 12345.0) == '12,000 times faster than'
    # at the 5% edge the ratio never shows as 1
    assert relation(1.0, 1.05) == '1.1 times faster than'
    assert relation(1.05, 1.0) == '1.1 times slower than'


LOG = [  # lines as oneDNN 2.4 prints them with DNNL_VERBOSE=1 (MXNet 1.9.1), the fields
    # as its documentation lists them: marker, operation, engine, primitive, implementation,
    # propagation, formats, attributes, auxiliary information, problem, time in ms
    'dnnl_verbose,info,oneDNN v2.4.4 (commit 5818c40f07bdb6307f9bc64e929836fe036da644)',
    'dnnl_verbose,info,cpu,runtime:OpenMP',
    'dnnl_verbose,info,cpu,isa:Intel AVX-512 with Intel DL Boost and bfloat16 support',
    'dnnl_verbose,exec,cpu,pooling_v2,jit:avx512_core,forward_inference,src_f32::blocked:'
    'abcd:f0 dst_f32::blocked:abcd:f0 ws_undef::undef::f0,,alg:pooling_max,mb32ic64_ih56oh28'
    'kh3sh2dh0ph1_iw56ow28kw3sw2dw0pw1,7.86304',
    'dnnl_verbose,exec,cpu,reorder,simple:any,undef,src_f32::blocked:abcd:f0,,,2x2,0.01',
    'dnnl_verbose,exec,cpu,pooling_v2,simple_nchw:any,forward_inference,src_f32::blocked:'
    'abcd:f0 dst_f32::blocked:abcd:f0 ws_undef::undef::f0,,alg:pooling_max,mb1ic1_ih8oh6'
    'kh3sh1dh0ph0_iw8ow6kw3sw1dw0pw0,0.00805664',
    'dnnl_verbose,exec,cpu,pooling_v2,ref:any,forward_inference',  # cut short
]
RESNET_SIZED = ((32, 64, 56, 56), 3, 2, 1)  # the layer of LOG[3]
ONE_MAP = ((1, 1, 8, 8), 3, 1, 0)           # the layer of LOG[5]


def test_onednn_log_gives_the_pooling_kernels_and_the_isa():
    from poolbook.speed import onednn_isa, onednn_pooling_kernels
    assert onednn_pooling_kernels(LOG) == ['jit:avx512_core', 'ref:any', 'simple_nchw:any']
    assert onednn_pooling_kernels(LOG[:3]) == []
    assert onednn_isa(LOG) == 'Intel AVX-512 with Intel DL Boost and bfloat16 support'
    assert onednn_isa(LOG[3:]) is None


def test_onednn_log_gives_each_run_with_its_problem():
    from poolbook.speed import onednn_pooling_runs
    runs = onednn_pooling_runs(LOG)
    assert [kernel for kernel, _ in runs] == ['jit:avx512_core', 'simple_nchw:any',
                                              'ref:any']
    assert runs[0][1] == {'mb': 32, 'ic': 64, 'ih': 56, 'oh': 28, 'kh': 3, 'sh': 2,
                          'dh': 0, 'ph': 1, 'iw': 56, 'ow': 28, 'kw': 3, 'sw': 2,
                          'dw': 0, 'pw': 1, 'dt': 'f32'}
    assert runs[2][1] == {}


def test_kernels_of_one_layer_are_those_of_its_shape_window_and_dtype():
    from poolbook.speed import layer_problem, onednn_pooling_kernels
    assert layer_problem(ONE_MAP) == {'mb': 1, 'ic': 1, 'ih': 8, 'iw': 8, 'kh': 3, 'kw': 3,
                                      'sh': 1, 'sw': 1, 'ph': 0, 'pw': 0, 'dt': 'f32'}
    assert onednn_pooling_kernels(LOG, RESNET_SIZED) == ['jit:avx512_core']
    assert onednn_pooling_kernels(LOG, ONE_MAP) == ['simple_nchw:any']
    assert onednn_pooling_kernels(LOG, ONE_MAP + ('float64',)) == []   # dtype differs
    assert onednn_pooling_kernels(LOG, ((1, 1, 8, 8), 3, 2, 0)) == []  # stride differs
    assert onednn_pooling_kernels(LOG, ((1, 1, 9, 8), 3, 1, 0)) == []  # height differs


def test_mxnet_kernel_in_words_says_switched_off_onednn_or_native():
    from poolbook.speed import kernels_by_layer, mxnet_kernel, onednn_choice
    off = {'MXNET_MKLDNN_ENABLED': '0'}
    assert mxnet_kernel(['jit:avx2'], {}) == "oneDNN's jit:avx2 implementation"
    assert mxnet_kernel([], {}).startswith('its native kernel (the oneDNN log shows no')
    assert mxnet_kernel(['jit:avx2'], off).startswith('its native kernel (oneDNN is '
                                                      'switched off')
    assert onednn_choice(LOG, {}, RESNET_SIZED) == "oneDNN's jit:avx512_core implementation"
    assert onednn_choice(LOG, {}) == ("oneDNN's jit:avx512_core and ref:any and "
                                      "simple_nchw:any implementation")
    assert kernels_by_layer(LOG, [ONE_MAP, RESNET_SIZED], ['a', 'b'], {}) == (
        "oneDNN's simple_nchw:any implementation on a; "
        "oneDNN's jit:avx512_core implementation on b")
    assert kernels_by_layer(LOG, [ONE_MAP, ONE_MAP], ['a', 'b'], {}) == (
        "oneDNN's simple_nchw:any implementation on all of them")
    assert kernels_by_layer(LOG, [ONE_MAP], ['a'], {}, every='') == (
        "oneDNN's simple_nchw:any implementation")


def test_a_layer_is_a_shape_window_stride_padding_and_dtype():
    from poolbook.speed import as_layer
    assert as_layer(([1, 2, 3, 4], 3, 2, 1)) == ((1, 2, 3, 4), 3, 2, 1, 'float32')
    assert as_layer(((1, 2, 3, 4), 3, 2, 1, 'float64'))[-1] == 'float64'
    for bad in [((3, 4), 3, 2, 1), ((1, 2, 3, 4), 3, 2, 1, 'float64', 0)]:
        with pytest.raises(ValueError, match='a layer is'):
            as_layer(bad)


def test_child_environment_sets_one_thread_the_kernel_and_the_log(monkeypatch):
    from poolbook.speed import child_env
    env = child_env(native=True, verbose=True)
    assert env['OMP_NUM_THREADS'] == '1' and env['MXNET_MKLDNN_ENABLED'] == '0'
    assert env['DNNL_VERBOSE'] == env['MKLDNN_VERBOSE'] == '1'
    assert 'DNNL_VERBOSE' not in child_env()
    monkeypatch.setenv('MXNET_MKLDNN_ENABLED', '0')  # this process runs MXNet's native
    assert child_env()['MXNET_MKLDNN_ENABLED'] == '0'       # as this process
    assert 'MXNET_MKLDNN_ENABLED' not in child_env(native=False)  # MXNet's default


@pytest.mark.child
def test_native_child_times_mxnet_without_any_onednn_kernel():
    from poolbook.speed import mxnet_in_child, onednn_pooling_kernels
    seconds, log = mxnet_in_child((1, 1, 8, 8), 2, 2, 0, native=True, verbose=True,
                                  repeat=3)
    assert seconds > 0 and onednn_pooling_kernels(log) == []


@pytest.mark.child
def test_default_child_runs_onednn_for_float32_only():
    # MXNet 1.9.1 hands float32 pooling to oneDNN (when it is on, its default) and pools
    # float64 with its own kernel; one child times both layers, in order.
    from poolbook.speed import mxnet_layers_in_child, onednn_pooling_kernels
    layers = [((1, 1, 8, 8), 2, 2, 0, 'float32'), ((1, 1, 8, 8), 2, 2, 0, 'float64')]
    seconds, log = mxnet_layers_in_child(layers, native=False, verbose=True, repeat=1)
    assert len(seconds) == 2 and min(seconds) > 0
    assert onednn_pooling_kernels(log, layers[0]) != []
    assert onednn_pooling_kernels(log, layers[1]) == []


def test_rounded_keeps_significant_digits():
    from poolbook.speed import rounded
    assert rounded(137.66994666689746) == 138.0
    assert rounded(0.046012345) == 0.046
    assert rounded(5.1234, 2) == 5.1


def test_slope_of_power_laws():
    from poolbook.speed import loglog_slope
    assert loglog_slope((64, 256), (2.0, 8.0)) == pytest.approx(1.0)
    assert loglog_slope((64, 256), (2.0, 2.0)) == 0.0
    assert loglog_slope((10, 1000), (1.0, 10.0)) == pytest.approx(0.5)


def test_growth_words_follow_the_slope():
    from poolbook.speed import growth_groups, growth_words
    assert growth_words(-0.3).startswith('not growing')
    assert growth_words(0.0).startswith('nearly flat')
    assert growth_words(0.1).startswith('nearly flat')
    assert growth_words(0.5).startswith('growing more slowly')
    assert growth_words(0.99).startswith('growing in proportion')
    assert growth_words(1.15).startswith('growing faster')
    text = growth_groups({'a': 1.0, 'b': 0.2, 'c': 0.95})
    assert text.startswith('nearly flat') and text.endswith('(slope 0.85 to 1.15): a, c')
    assert text.count(';') == 1


def test_cpu_model_is_a_name():
    from poolbook.speed import cpu_model
    assert isinstance(cpu_model(), str) and cpu_model().strip()


def test_the_forward_and_backward_bound_counts_both_passes_by_hand():
    # X 1536 bytes, Y 384: forward reads X, writes Y (1920); backward reads dY (384),
    # writes dX (1536) and, for the maximum, reads X again (1536).
    X = np.zeros((2, 3, 8, 8), dtype=np.float32)
    Y = np.zeros((2, 3, 4, 4), dtype=np.float32)
    assert fb_traffic_bytes(X, Y, 'avg') == 1920 + 384 + 1536
    assert fb_traffic_bytes(X, Y, 'max') == 1920 + 384 + 1536 + 1536


def test_winner_and_marked_follow_the_numbers():
    times = {'a': 3.0, 'b': 1.5, 'c': 2.0}
    assert fastest(times) == ['b'] and winner(times) == 'b'
    assert marked(times, 0.5) == {'a': '6.00', 'b': '**3.00**', 'c': '4.00'}
    assert marked({'x': 1.0}, 4.0, digits=1) == {'x': '**0.2**'}


def test_ties_within_five_percent_are_named_together():
    # 1.04 is within 5% of 1.0, 1.06 is not; equal times tie, listed in the order given.
    times = {'MXNet': 1.04, 'pool2d': 1.0, 'ONNX Runtime': 1.06, 'PyTorch': 2.0}
    assert fastest(times) == ['pool2d', 'MXNet']
    assert winner(times) == 'pool2d and MXNet (within 5%)'
    assert winner({'a': 1.0, 'b': 1.0, 'c': 1.01}) == 'a, b and c (within 5%)'
    assert marked({'a': 1.0, 'b': 1.0}, 1.0, 0) == {'a': '**1**', 'b': '**1**'}


def test_winner_ties_exactly_where_relation_says_about_as_fast_as():
    # Both rules read the same ratio: no pair of times gets a tie from one and a
    # "faster" from the other, at and around the 5% edge.
    for slower in (1.0, 1.0 + 1e-12, 1.0499999, 1.05, 1.0500001, 1 / 0.95, 1.2):
        tied = len(fastest({'best': 1.0, 'other': slower})) == 2
        assert tied == (relation(slower, 1.0) == 'about as fast as'), slower


def test_fastest_counts_count_sole_winners_and_ties_by_hand():
    rows = [{'pool2d': 1.0, 'MXNet': 2.0, 'PyTorch': 3.0},    # pool2d alone
            {'pool2d': 2.0, 'MXNet': 3.0, 'PyTorch': 1.0},    # PyTorch alone
            {'pool2d': 1.0, 'MXNet': 1.03, 'PyTorch': 3.0},   # pool2d and MXNet tie
            {'pool2d': 1.02, 'MXNet': 1.0, 'PyTorch': 3.0},   # the same tie, MXNet first
            {'pool2d': 1.0, 'MXNet': 5.0, 'PyTorch': 1.5}]    # pool2d alone
    assert fastest_counts(rows) == ('pool2d on 2; PyTorch on 1; '
                                    'pool2d and MXNet tied on 2')
    assert fastest_counts(rows[:1]) == 'pool2d on 1'
    # a group is named as winner names it on its first row: fastest first
    assert fastest_counts(rows[3:1:-1]) == 'MXNet and pool2d tied on 2'
    assert winner(rows[3]) == 'MXNet and pool2d (within 5%)'


@pytest.mark.parametrize('calls, keys', [
    ('forward', {'pool2d', 'MXNet', 'PyTorch NCHW', 'PyTorch channels-last',
                 'ONNX Runtime', 'pool2d NHWC'}),
    ('forward_backward', {'pool2d', 'MXNet', 'PyTorch NCHW', 'PyTorch channels-last'}),
])
def test_the_peers_compute_the_same_pooling(calls, keys):
    # Each call runs; the forward ones give pool2d's numbers (channels last moved back).
    import torch
    from poolbook import pool2d
    from poolbook.speed import forward_backward_calls, forward_calls
    rng = np.random.default_rng(5)
    X = rng.standard_normal((2, 3, 9, 9)).astype(np.float32)
    dY = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    for mode in ('max', 'avg'):
        made = (forward_calls(X, 3, 2, 1, mode) if calls == 'forward' else
                forward_backward_calls(X, dY, 3, 2, 1, mode))
        assert set(made) == keys
        want = pool2d(X, 3, mode, strides=2, padding=1)
        for name, call in made.items():
            out = call()
            if calls != 'forward':
                continue
            got = out[0] if isinstance(out, list) else out  # ONNX Runtime: a list
            got = got.asnumpy() if hasattr(got, 'asnumpy') else (
                got.numpy() if isinstance(got, torch.Tensor) else np.asarray(got))
            if name == 'pool2d NHWC':
                got = np.moveaxis(got, -1, 1)
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=name)


def test_adaptive_calls_compute_adaptive_pooling():
    from poolbook import adaptive_pool2d
    from poolbook.speed import adaptive_calls
    X = np.random.default_rng(6).standard_normal((2, 3, 10, 10)).astype(np.float32)
    for mode in ('max', 'avg'):
        made = adaptive_calls(X, 3, mode)
        assert ('MXNet' in made) == (mode == 'avg')
        for name, call in made.items():
            out = call()
            got = out.asnumpy() if hasattr(out, 'asnumpy') else (
                out.contiguous().numpy() if hasattr(out, 'contiguous') else out)
            np.testing.assert_allclose(got, adaptive_pool2d(X, 3, mode), rtol=1e-6,
                                       atol=1e-6, err_msg=name)


def test_parallel_copy_copies_every_cell():
    from poolbook import threads
    src = np.arange(300_000, dtype=np.float32)
    dst = np.zeros_like(src)
    saved = list(threads._chosen)
    try:
        threads.set_num_threads(2)
        parallel_copy(dst, src)
    finally:
        threads._chosen[:] = saved
    np.testing.assert_array_equal(dst, src)


def test_the_timed_sum_is_vectorized_with_several_accumulators():
    # addition_rate times this loop; it measures an arithmetic peak only if LLVM turned
    # the additions into packed vector instructions (addps, or vaddps with AVX) adding
    # into more than one register: independent running sums, not one chain.
    import re

    from poolbook import kernels
    from poolbook.speed import _sum_kernel, sum_repeatedly
    b = np.ones(64, np.float32)
    assert sum_repeatedly(b, 3) == 192  # the plain Python loop: 64 ones, 3 times
    kernel = _sum_kernel()
    if not kernels.enabled():  # POOLBOOK_COMPILED=0: addition_rate times numpy's sum
        assert kernel is None
        return
    assert kernel(b, 3) == 192
    asm = kernel.inspect_asm(kernel.signatures[0])
    targets = set(re.findall(r'\bv?addps\s+[^\n]*%([xyz]mm\d+)\s*$', asm, re.M))
    assert len(targets) >= 2, targets
