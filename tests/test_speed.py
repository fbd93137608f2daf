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


def test_relation_words_follow_the_numbers():
    from poolbook.speed import relation
    assert relation(1.0, 3.0) == '3.0 times faster than'
    assert relation(2.5, 1.0) == '2.5 times slower than'
    assert relation(1.0, 1.04) == 'about as fast as'
    assert relation(1.04, 1.0) == 'about as fast as'


LOG = [  # lines as oneDNN 2.4 prints them with DNNL_VERBOSE=1 (MXNet 1.9.1)
    'dnnl_verbose,info,oneDNN v2.4.4 (commit 5818c40f07bdb6307f9bc64e929836fe036da644)',
    'dnnl_verbose,info,cpu,runtime:OpenMP',
    'dnnl_verbose,info,cpu,isa:Intel AVX-512 with Intel DL Boost and bfloat16 support',
    'dnnl_verbose,exec,cpu,pooling_v2,jit:avx512_core,forward_inference,src_f32::blocked:'
    'abcd:f0 dst_f32::blocked:abcd:f0 ws_undef::undef::f0,,alg:pooling_max,mb32ic64_ih56oh28'
    'kh3sh2dh0ph1_iw56ow28kw3sw2dw0pw1,7.86304',
    'dnnl_verbose,exec,cpu,reorder,simple:any,undef,src_f32::blocked:abcd:f0,,,2x2,0.01',
    'dnnl_verbose,exec,cpu,pooling_v2,ref:any,forward_inference,...,0.5',
]


def test_onednn_log_gives_the_pooling_kernels_and_the_isa():
    from poolbook.speed import onednn_isa, onednn_pooling_kernels
    assert onednn_pooling_kernels(LOG) == ['jit:avx512_core', 'ref:any']
    assert onednn_pooling_kernels(LOG[:3]) == []
    assert onednn_isa(LOG) == 'Intel AVX-512 with Intel DL Boost and bfloat16 support'
    assert onednn_isa(LOG[3:]) is None


def test_onednn_choice_says_switched_off_known_or_unknown():
    from poolbook.speed import onednn_choice
    assert onednn_choice(LOG, {}) == "oneDNN's jit:avx512_core and ref:any implementation"
    assert onednn_choice([], {}).startswith('unknown')
    assert onednn_choice(LOG, {'MXNET_MKLDNN_ENABLED': '0'}).startswith('none: oneDNN is')


def test_child_environment_sets_one_thread_the_kernel_and_the_log():
    from poolbook.speed import child_env
    env = child_env(native=True, verbose=True)
    assert env['OMP_NUM_THREADS'] == '1' and env['MXNET_MKLDNN_ENABLED'] == '0'
    assert env['DNNL_VERBOSE'] == env['MKLDNN_VERBOSE'] == '1'
    assert 'DNNL_VERBOSE' not in child_env()


def test_native_child_times_mxnet_without_any_onednn_kernel():
    from poolbook.speed import mxnet_in_child, onednn_pooling_kernels
    seconds, log = mxnet_in_child((1, 1, 8, 8), 2, 2, 0, native=True, verbose=True,
                                  repeat=3)
    assert seconds > 0 and onednn_pooling_kernels(log) == []


def test_cpu_model_is_a_name():
    from poolbook.speed import cpu_model
    assert isinstance(cpu_model(), str) and cpu_model().strip()
