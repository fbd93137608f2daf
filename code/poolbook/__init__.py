"""poolbook: the code of the book "Pooling, executed".

Every notebook imports its functions from here, and every function a chapter teaches is
the function shipped here (see tests/test_notebooks.py for the check that keeps them equal).
"""
from poolbook._checks import check_corr2d_args, check_pool2d_args
from poolbook.conv import corr2d
from poolbook.loops import pool2d

__all__ = ['pool2d', 'corr2d', 'check_pool2d_args', 'check_corr2d_args']
