"""poolbook.compiled: chapter 5's names for the compiled code are the objects that live in
poolbook.loops (the compiled loop) and poolbook.kernels (pool2d's kernel); the tests of
those modules test them."""
from poolbook import compiled, kernels, loops


def test_chapter_5s_names_are_the_kernels_and_the_loops():
    for name in ('enabled', 'handles', 'numpy_only', 'pool', 'pool_maps', 'pool_rows',
                 'pool_columns', 'NUMBA_ERROR'):
        assert getattr(compiled, name) is getattr(kernels, name), name
    for name in ('loop_njit', 'pool2d_njit'):
        assert getattr(compiled, name) is getattr(loops, name), name
