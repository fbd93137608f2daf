"""poolbook: the code of the book "Pooling, executed".

Every notebook imports its functions from here, and every function a chapter teaches is
the function shipped here (see tests/test_notebooks.py for the check that keeps them equal).

* `pool2d`: the general, fast pooling function (pooling.py), checked against MXNet;
* `poolbook.loops`: the plain loops the chapters build first;
* `corr2d`: cross-correlation (conv.py); `poolbook.figures`: every drawing in the book.
"""
from poolbook._checks import check_corr2d_args, check_pool2d_args, check_strided_args
from poolbook.conv import corr2d
from poolbook.pooling import output_size, pool2d

__all__ = ['pool2d', 'output_size', 'corr2d', 'check_pool2d_args', 'check_strided_args',
           'check_corr2d_args']
