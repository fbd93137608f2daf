"""Chapter 5's names for the compiled code, where the chapter imports and shows them.

The compiled loop of chapter 1 (`loop_njit`, `pool2d_njit`) lives beside the loops it
compiles, in poolbook.loops; the kernel behind pool2d (`pool_maps`, `pool_rows`,
`pool_columns`), the switch (`enabled`, `numpy_only`) and the decision (`handles`) in
poolbook.kernels, with those of the backward pass (`backward`) and adaptive pooling
(`adaptive`). New code imports them from there.
"""
from poolbook.kernels import (NUMBA_ERROR, adaptive, backward, enabled,  # noqa: F401
                              handles, numpy_only, pool, pool_columns, pool_maps,
                              pool_rows)
from poolbook.loops import loop_njit, pool2d_njit  # noqa: F401
