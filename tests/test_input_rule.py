"""Every public function of poolbook holds the package's input rule (poolbook/__init__.py,
implemented in poolbook/arrays.py): one table, a row per public function or class, found
by enumerating the package's modules as they are, so that a new function without a row
fails `test_every_public_function_has_a_row` (and a module that arrives, such as chapter
7's networks, arrives with its rows).

Each row says which kind of function it is:

* `Arrays`: it takes arrays. The test gives every array parameter in turn every kind the
  rule accepts (numpy in C and Fortran order, strided, read-only, byte-swapped, np.matrix
  for 2-D, mx.nd.NDArray, mx.np.ndarray), and every dtype: each accepted one must give
  the numpy C-order result (and, for `returns='kind'`, the kind that went in), each
  other one a TypeError naming the parameter. Then every refusal class: a list, a
  scalar, a string, a PyTorch tensor, a masked array, bools, complex numbers, objects, an
  empty axis, one axis too few, a sparse NDArray and an NDArray autograd is recording:
  a TypeError or ValueError whose message starts with the parameter's name. No call,
  accepted or refused, may change an array it was given.
* `Args`: it takes no array (sizes, names, settings, other objects): a good call runs,
  and each bad call raises the given error with a message naming the parameter.
* `NoArgs`: it takes nothing, so there is nothing to refuse (the test checks that).
* `Step`: a step of another public function, shown in a chapter as part of it, called
  with what that function has checked (the row and column passes, the bins, the steps of
  the backward pass, the kernel's passes, the frameworks' plumbing). It does not check
  again; the test checks that the function it names calls it (by its source), and that
  function's own row holds the rule.
* `Record`: a named tuple or data class, which holds values and checks nothing.
"""
import dataclasses
import importlib
import inspect
import pkgutil
import re
import warnings
from typing import Callable

import mxnet as mx
import numpy as np
import pytest
import torch
from mxnet import autograd, nd

import poolbook

# ------------------------------------------------------------------ the kinds of rows

FLOATS = ('float16', 'float32', 'float64')
INTS = ('int8', 'uint8', 'int32', 'int64')
REALS = FLOATS + INTS
F32_64 = ('float32', 'float64')
KINDS = ('numpy', 'fortran', 'strided', 'read-only', 'byte-swapped', 'matrix', 'ndarray',
         'mx.np')
NUMPY_KINDS = KINDS[:-2]  # what poolbook.tinynet takes (it imports nothing from MXNet)
REFUSALS = ('list', 'scalar', 'string', 'torch', 'masked', 'bool', 'complex', 'object',
            'empty', 'rank', 'sparse', 'recorded')


@dataclasses.dataclass
class Arrays:
    """A function of arrays. `call(**arrays)` calls it; `inputs` gives each array
    parameter a valid numpy array (small integers as float32, so that every dtype holds
    them); `dtypes` per parameter (or for all) the dtypes it accepts, the others being
    refused; `kinds` the kinds it accepts (the others, among KINDS, refused with a
    TypeError); `returns` 'kind' when the result (or a tuple's first item) is of the
    first parameter's kind, else 'value'; `same` whether every kind gives the numpy
    result; `rank` whether one axis fewer than `inputs` has is refused (ValueError);
    `fast` to try float32 numpy and NDArray inputs only (slow functions: figures,
    frameworks, training)."""
    call: Callable
    inputs: dict
    dtypes: object = REALS
    kinds: tuple = KINDS
    returns: str = 'kind'
    same: bool = True
    rank: bool = True
    fast: bool = False
    takes: tuple = ()  # refusal classes it takes all the same (agrees: two numbers)

    def accepted_dtypes(self, name):
        return self.dtypes.get(name, REALS) if isinstance(self.dtypes, dict) else self.dtypes


@dataclasses.dataclass
class Args:
    """A function without array parameters: `good()` runs (None where a good call takes
    seconds: a chapter or the function's own tests run it); each of `bad`, a tuple
    (call, error type, parameter name), raises that error naming the parameter."""
    good: Callable
    bad: list


@dataclasses.dataclass
class NoArgs:
    """A function of no arguments."""


@dataclasses.dataclass
class Step:
    """A step of the public function `of` ('module.name'), which calls it, directly or
    through the private functions or methods `via` ('module.name' or
    'module.Class.method'), each calling the next."""
    of: str
    via: tuple = ()


@dataclasses.dataclass
class Record:
    """A named tuple or data class."""


def ints(shape, low=-3, high=4, seed=0):
    """Small integers as float32, shape `shape`: every dtype of REALS holds them."""
    return np.random.default_rng(seed).integers(low, high, shape).astype(np.float32)


ROWS = {}


# ------------------------------------------------------------------ the rows
# Imported here, not at the top, so that the table reads as one block.
from poolbook import (adaptive, antialias, arrays, backward, cam, checks, conv,  # noqa: E402
                      explorer, figures, frameworks as fw, geometry, kernels, loops,
                      networks, player, pooling, receptive, regions, shift, speed,
                      threads, tinynet, training, unpool, variants)

X4, X3, X2 = ints((2, 3, 6, 6)), ints((3, 6, 6)), ints((6, 6))
SMALL = dict(frameworks=('pytorch', 'poolbook'))  # the frameworks run in this process

# adaptive.py
ROWS.update({
    'adaptive.chunks': Step('adaptive.global_pool2d'),
    'adaptive.global_pool2d': Arrays(lambda X: adaptive.global_pool2d(X, 'avg'), {'X': X4}),
    'adaptive.adaptive_bins': Step('adaptive.adaptive_pool2d'),
    'adaptive.ordinary_window': Args(lambda: adaptive.ordinary_window(7, 3), [
        (lambda: adaptive.ordinary_window(7, 0), ValueError, 'out'),
        (lambda: adaptive.ordinary_window(2.5, 1), TypeError, 'n'),
        (lambda: adaptive.ordinary_window(3, 5), ValueError, 'out')]),
    'adaptive.pool_bins': Step('adaptive.adaptive_pool2d'),
    'adaptive.adaptive_pool2d': Arrays(lambda X: adaptive.adaptive_pool2d(X, (2, 4)),
                                       {'X': X4}),
})
# antialias.py
ROWS.update({
    'antialias.binomial_filter': Args(lambda: antialias.binomial_filter(3), [
        (lambda: antialias.binomial_filter(0), ValueError, 'filter_size'),
        (lambda: antialias.binomial_filter(2.0), TypeError, 'filter_size')]),
    'antialias.blur_axis': Step('antialias.blur_pool2d'),
    'antialias.blur_pool2d': Arrays(lambda X: antialias.blur_pool2d(X), {'X': X4}),
    'antialias.max_blur_pool2d': Arrays(lambda X: antialias.max_blur_pool2d(X, 2),
                                        {'X': X4}),
})
# arrays.py: the rule itself; each refuses what it checks.
ROWS.update({
    'arrays.check_kind': Args(lambda: arrays.check_kind(X2), [
        (lambda: arrays.check_kind([1.0]), TypeError, 'X'),
        (lambda: arrays.check_kind(np.ma.masked_array(X2), 'K'), TypeError, 'K')]),
    'arrays.recorded': Step('arrays.check_kind'),
    'arrays.real_dtype': Args(lambda: arrays.real_dtype('>f4'), [
        (lambda: arrays.real_dtype(complex, 'out'), TypeError, 'out')]),
    'arrays.to_numpy': Args(lambda: arrays.to_numpy(X2), [
        (lambda: arrays.to_numpy(1.5, 'dY'), TypeError, 'dY')]),
    'arrays.map_chunks': Args(lambda: arrays.map_chunks(X4), [
        (lambda: arrays.map_chunks(X4.tolist()), TypeError, 'X'),
        (lambda: arrays.map_chunks(np.ones(3)), ValueError, 'X')]),
    'arrays.leading_axes_merge': Step('arrays.map_chunks'),
    'arrays.like_input': Step('pooling.pool2d'),
    'arrays.as_ndarray': Args(lambda: arrays.as_ndarray(X2, np.float64), [
        (lambda: arrays.as_ndarray([1.0]), TypeError, 'X'),
        (lambda: arrays.as_ndarray(X2, 'nonsense'), TypeError, 'dtype')]),
    'arrays.sum_dtype': Args(lambda: arrays.sum_dtype('int8'), [
        (lambda: arrays.sum_dtype('nonsense'), TypeError, 'dtype'),
        (lambda: arrays.sum_dtype(bool), TypeError, 'dtype')]),
    'arrays.mean_dtype': Args(lambda: arrays.mean_dtype('int8'), [
        (lambda: arrays.mean_dtype(complex), TypeError, 'dtype')]),
})
# backward.py
ROWS.update({name: Step('backward.pool2d_backward') for name in (
    'backward.axis_steps', 'backward.max_backward', 'backward.avg_backward')})
ROWS.update({'backward.steps': Step('backward.max_backward'),
             'backward.add_back': Step('backward.avg_backward'),
             'backward.window_max': Step('backward.max_backward')})
ROWS.update({
    'backward.backward_channels_last': Arrays(
        lambda X, dY: backward.backward_channels_last(X, dY, 2, strides=2),
        {'X': ints((2, 4, 4, 3)), 'dY': ints((2, 2, 2, 3), seed=1)}),
    'backward.check_gradient': Args(lambda: backward.check_gradient(X2, (6, 6)), [
        (lambda: backward.check_gradient(X2, (3, 3)), ValueError, 'dY'),
        (lambda: backward.check_gradient(X2.tolist(), (6, 6)), TypeError, 'dY')]),
    'backward.pool2d_backward': Arrays(
        lambda X, dY: backward.pool2d_backward(X, dY, 2, 'max', strides=2),
        {'X': X4, 'dY': ints((2, 3, 3, 3), seed=1)}),
})
# checks.py: the shared checks, each refusing what it checks.
ROWS.update({
    'checks.is_int': Args(lambda: checks.is_int(3), [
        (lambda: checks.is_int(3, 4), TypeError, 'is_int')]),
    'checks.as_pair': Args(lambda: checks.as_pair(2, 'strides', 1), [
        (lambda: checks.as_pair(0, 'strides', 1), ValueError, 'strides'),
        (lambda: checks.as_pair((1, 2, 3), 'padding', 0), ValueError, 'padding'),
        (lambda: checks.as_pair(1.5, 'pool_size', 1), TypeError, 'pool_size')]),
    'checks.check_mode': Args(lambda: checks.check_mode('avg'), [
        (lambda: checks.check_mode('min'), ValueError, 'mode')]),
    'checks.check_input': Args(lambda: checks.check_input(X2, (2,)), [
        (lambda: checks.check_input(X4, (2,)), ValueError, 'X'),
        (lambda: checks.check_input(X2 != 0, (2,), 'K'), TypeError, 'K')]),
    'checks.check_window_fits': Args(lambda: checks.check_window_fits((3, 3), (3, 3)), [
        (lambda: checks.check_window_fits((3, 3), (4, 3)), ValueError, 'pool_size')]),
    'checks.check_flag': Args(lambda: checks.check_flag(True, 'ceil_mode'), [
        (lambda: checks.check_flag(1, 'ceil_mode'), TypeError, 'ceil_mode')]),
    'checks.check_pool_args': Args(lambda: checks.check_pool_args(X2, 2, 'max'), [
        (lambda: checks.check_pool_args(X2, 2, 'max', padding=2), ValueError, 'padding'),
        (lambda: checks.check_pool_args([1.0], 2, 'max'), TypeError, 'X')]),
    'checks.check_padded_size': Args(lambda: checks.check_padded_size((6, 6), (1, 1)), [
        (lambda: checks.check_padded_size((6, 6), (2000, 2000)), ValueError, 'padding')]),
    'checks.check_output_cells': Args(lambda: checks.check_output_cells((4, 4)), [
        (lambda: checks.check_output_cells((2**40, 2**40)), ValueError, 'pool_size')]),
    'checks.check_values': Args(lambda: checks.check_values(np.ones(3)), [
        (lambda: checks.check_values(np.ones(0), 'a'), ValueError, 'a'),
        (lambda: checks.check_values(np.ones(3, bool), 'b'), TypeError, 'b')]),
    'checks.check_int': Args(lambda: checks.check_int(3, 'repeat', 1), [
        (lambda: checks.check_int(0, 'repeat', 1), ValueError, 'repeat'),
        (lambda: checks.check_int(True, 'n'), TypeError, 'n')]),
    'checks.check_number': Args(lambda: checks.check_number(0.5, 'rtol'), [
        (lambda: checks.check_number(float('nan'), 'rtol'), ValueError, 'rtol'),
        (lambda: checks.check_number(0, 'seconds', positive=True), ValueError, 'seconds'),
        (lambda: checks.check_number('1', 'value'), TypeError, 'value')]),
    'checks.check_callable': Args(lambda: checks.check_callable(len, 'fn'), [
        (lambda: checks.check_callable(3, 'fn'), TypeError, 'fn')]),
    'checks.check_texts': Args(lambda: checks.check_texts(['a'], 'lines'), [
        (lambda: checks.check_texts('a', 'lines'), TypeError, 'lines')]),
    'checks.check_mapping': Args(lambda: checks.check_mapping({}, 'panels', 'x'), [
        (lambda: checks.check_mapping([], 'panels', 'x'), TypeError, 'panels')]),
    'checks.check_filter_size': Args(lambda: checks.check_filter_size(3), [
        (lambda: checks.check_filter_size(6), ValueError, 'filter_size')]),
})
# conv.py
ROWS.update({
    'conv.check_corr2d_args': Args(lambda: conv.check_corr2d_args(X2, X2[:2, :2]), [
        (lambda: conv.check_corr2d_args(X2[:2, :2], X2), ValueError, 'K')]),
    'conv.corr2d': Arrays(lambda X, K: conv.corr2d(X, K),
                          {'X': ints((5, 6)), 'K': ints((2, 3), seed=1)}),
})
# explorer.py
ROWS.update({
    'explorer.View': Record(),
    'explorer.photo': Args(lambda: explorer.photo(4), [
        (lambda: explorer.photo(0), ValueError, 'size'),
        (lambda: explorer.photo(2.0), TypeError, 'size')]),
    'explorer.make_input': Args(lambda: explorer.make_input('3x3 arange'), [
        (lambda: explorer.make_input('cat'), ValueError, 'source')]),
    'explorer.axis_formula': Step('explorer.formula'),
    'explorer.formula': Step('explorer.explore'),
    'explorer.explore': Args(lambda: explorer.explore(source='3x3 arange', pool_size=2), [
        (lambda: explorer.explore(step=-1), ValueError, 'step'),
        (lambda: explorer.explore(step=1.5), TypeError, 'step'),
        (lambda: explorer.explore(source='cat'), ValueError, 'source')]),
    'explorer.png': Args(lambda: explorer.png(None), [
        (lambda: explorer.png('figure'), TypeError, 'figure')]),
    'explorer.describe': Args(
        lambda: explorer.describe(explorer.explore(source='3x3 arange', pool_size=2)),
        [(lambda: explorer.describe('view'), TypeError, 'view')]),
    'explorer.make_controls': Step('explorer.build_ui'),
    'explorer.arguments': Step('explorer.build_ui'),
    'explorer.build_ui': Args(lambda: explorer.build_ui(source='3x3 arange'), [
        (lambda: explorer.build_ui(step=-2), ValueError, 'step'),
        (lambda: explorer.build_ui(pool_size=9), ValueError, 'pool_size'),
        (lambda: explorer.build_ui(window=2), TypeError, 'window')]),
    'explorer.Explorer': Args(lambda: explorer.Explorer(source='3x3 arange'), [
        (lambda: explorer.Explorer(mode='min'), ValueError, 'mode')]),
    'explorer.page_settings': Step('explorer.page_html'),
    'explorer.check_settings': Step('explorer.page_html'),
    'explorer.page_html': Args(lambda: explorer.page_html(explorer.DEFAULTS), [
        (lambda: explorer.page_html({'strides': 0}), ValueError, 'strides'),
        (lambda: explorer.page_html('settings'), TypeError, 'settings')]),
})
# figures.py: drawings of arrays, each refusing what pool2d refuses.
FIG = dict(returns='value', same=False, fast=True)
ROWS.update({
    'figures.draw_pooling': Arrays(lambda X: figures.draw_pooling(X, 2), {'X': X3}, **FIG),
    'figures.draw_window_positions': Arrays(
        lambda X: figures.draw_window_positions(X, 2, strides=2), {'X': ints((4, 4))},
        **FIG),
    'figures.draw_windows': Arrays(lambda X: figures.draw_windows(X, 2, strides=2),
                                   {'X': ints((4, 4))}, **FIG),
    'figures.draw_arrays': Args(lambda: figures.draw_arrays({'X': X2}), [
        (lambda: figures.draw_arrays({'X': X2.tolist()}), TypeError, 'X'),
        (lambda: figures.draw_arrays([X2]), TypeError, 'arrays')]),
    'figures.plot_timings': Args(lambda: figures.plot_timings([1, 2], {'a': [1.0, 2.0]}), [
        (lambda: figures.plot_timings([1, 2], {'a': [1.0]}), ValueError, 'seconds')]),
    'figures.draw_gradients': Arrays(
        lambda X, dX: figures.draw_gradients(X, 2, {'dX': dX}),
        {'X': ints((4, 4)), 'dX': ints((4, 4), seed=1)}, **FIG),
    'figures.plot_beta_sweep': Args(
        lambda: figures.plot_beta_sweep([0, 1], {'a': [1.0, 2.0]}, {'max': 2.0}), [
            (lambda: figures.plot_beta_sweep([0, 1], {'a': [1.0]}, {}), ValueError,
             'curves')]),
    'figures.animate_pooling': Arrays(lambda X: figures.animate_pooling(X, 3),
                                      {'X': ints((3, 4))}, **FIG),
    'figures.draw_maps': Args(lambda: figures.draw_maps({'X': X2}), [
        (lambda: figures.draw_maps({'X': X2.tolist()}), TypeError, 'X'),
        (lambda: figures.draw_maps([X2]), TypeError, 'maps')]),
    'figures.plot_curves': Args(lambda: figures.plot_curves([1, 2], {'a': [1, 2]}, 'x', 'y'),
                                [(lambda: figures.plot_curves([1, 2], {'a': [1]}, 'x', 'y'),
                                  ValueError, 'curves')]),
    'figures.draw_adaptive_bins': Args(
        lambda: figures.draw_adaptive_bins({'7 cells': (7, *adaptive.adaptive_bins(7, 3))}),
        [(lambda: figures.draw_adaptive_bins({'a': 7}), TypeError, 'panels')]),
    'figures.plot_resolution': Args(lambda: figures.plot_resolution({'a': ([1, 2], [8, 4])}),
                                    [(lambda: figures.plot_resolution({'a': 8}), TypeError,
                                      'profiles')]),
    'figures.draw_setting': Arrays(lambda X: figures.draw_setting(X, 2, ceil_mode=True),
                                   {'X': ints((3, 3))}, **FIG),
    'figures.draw_small_multiples': Args(
        lambda: figures.draw_small_multiples([(X2, {'pool_size': 2})]), [
            (lambda: figures.draw_small_multiples([(X2.tolist(), {'pool_size': 2})]),
             TypeError, 'X'),
            (lambda: figures.draw_small_multiples([X2]), TypeError, 'cases')]),
    'figures.draw_class_activation_maps': Args(
        lambda: figures.draw_class_activation_maps([ints((8, 8))], [ints((2, 2))], ['a']), [
            (lambda: figures.draw_class_activation_maps([[[1.0]]], [ints((2, 2))], ['a']),
             TypeError, 'images'),
            (lambda: figures.draw_class_activation_maps([ints((8, 8))], [ints((3, 3))],
                                                        ['a']), ValueError, 'sides')]),
    'figures.plot_tracking': Args(
        lambda: figures.plot_tracking([1, 2], {'truth': [1, 2]}, {'a': [1, 2]}, 'x', 'y'), [
            (lambda: figures.plot_tracking([1, 2], {'t': [1, 2]}, {'a': [1]}, 'x', 'y'),
             ValueError, 'curves'),
            (lambda: figures.plot_tracking([1, 2], [1, 2], {'a': [1, 2]}, 'x', 'y'),
             TypeError, 'truth')]),
    'figures.plot_runs': Args(lambda: figures.plot_runs({'loss': {'a': [[1, 2]]}}, 'epoch'), [
        (lambda: figures.plot_runs([[1, 2]], 'epoch'), TypeError, 'panels')]),
    'figures.plot_seeds': Args(lambda: figures.plot_seeds({'acc': {'a': [1, 2]}}), [
        (lambda: figures.plot_seeds({'acc': [1, 2]}), TypeError, 'panels')]),
    'figures.plot_aliasing': Args(
        lambda: figures.plot_aliasing({'blur': {3: (0.5, 0.1)}}, 'x', 'y'), [
            (lambda: figures.plot_aliasing([(0.5, 0.1)], 'x', 'y'), TypeError,
             'families')]),
    'figures.draw_roi_sampling': Arrays(
        lambda image: figures.draw_roi_sampling(image, (0, 0, 3, 3), 2),
        {'image': ints((6, 6))}, **FIG),
    'figures.draw_receptive_fields': Arrays(
        lambda image: figures.draw_receptive_fields(image, {'a': (0, 1, 0, 1)}),
        {'image': ints((6, 6))}, **FIG),
})
# frameworks.py: every framework called like pool2d; results are numpy arrays (or a
# Refused), whatever went in. float32 and float64, as every framework pools.
FW = dict(dtypes=F32_64, returns='value', fast=True)
ROWS.update({
    'frameworks.default_torch_threads': NoArgs(),
    'frameworks.Refused': Record(),
    'frameworks.check_shape4': Step('frameworks.onnx_model'),
    'frameworks.check_model': Step('frameworks.ort_session'),
    'frameworks.one_line': Args(lambda: fw.one_line('a\nb'), [
        (lambda: fw.one_line('a', limit=2), ValueError, 'limit')]),
    'frameworks.maps_of': Arrays(lambda X: fw.maps_of(X), {'X': X3}, **FW),
    'frameworks.like_x': Step('frameworks.torch_pool2d'),
    'frameworks.Geometry': Record(),
    'frameworks.geometry': Args(lambda: fw.geometry(2), [
        (lambda: fw.geometry(2, 'min'), ValueError, 'mode'),
        (lambda: fw.geometry(0), ValueError, 'pool_size')]),
    'frameworks.mxnet_kernel_here': NoArgs(),
    'frameworks.mxnet_run': Step('frameworks.mxnet_call'),
    'frameworks.MXNetWorker': Args(lambda: fw.MXNetWorker('native'), [
        (lambda: fw.MXNetWorker('fast'), ValueError, 'kernel')]),
    'frameworks.close_workers': NoArgs(),
    'frameworks.start_workers': NoArgs(),
    'frameworks.mxnet_call': Step('frameworks.mxnet_pool2d'),
    'frameworks.mxnet_options': Step('frameworks.mxnet_pool2d'),
    'frameworks.mxnet_pool2d': Arrays(lambda X: fw.mxnet_pool2d(X, 2), {'X': X3}, **FW),
    'frameworks.torch_call': Step('frameworks.torch_forward'),
    'frameworks.torch_forward': Step('frameworks.torch_pool2d'),
    'frameworks.torch_pool2d': Arrays(lambda X: fw.torch_pool2d(X, 2), {'X': X3}, **FW),
    'frameworks.onnx_model': Args(lambda: fw.onnx_model((1, 1, 4, 4), 2), [
        (lambda: fw.onnx_model((4, 4), 2), ValueError, 'shape'),
        (lambda: fw.onnx_model((1, 1, 4, 4), 2, dtype='int8'), TypeError, 'dtype')]),
    'frameworks.build_onnx': Step('frameworks.onnx_model'),
    'frameworks.ort_session': Args(lambda: fw.ort_session(fw.onnx_model((1, 1, 4, 4), 2)), [
        (lambda: fw.ort_session('model'), TypeError, 'model')]),
    'frameworks.onnxruntime_run': Args(
        lambda: fw.onnxruntime_run(fw.onnx_model((1, 1, 4, 4), 2), ints((1, 1, 4, 4))), [
            (lambda: fw.onnxruntime_run('model', ints((1, 1, 4, 4))), TypeError, 'model'),
            (lambda: fw.onnxruntime_run(fw.onnx_model((1, 1, 4, 4), 2), [1.0]), TypeError,
             'X')]),
    'frameworks.onnxruntime_pool2d': Arrays(lambda X: fw.onnxruntime_pool2d(X, 2),
                                            {'X': X3}, **FW),
    'frameworks.mlas_pool_kernel': Args(lambda: fw.mlas_pool_kernel((1, 1, 4, 4), 2), [
        (lambda: fw.mlas_pool_kernel((4,), 2), ValueError, 'shape'),
        (lambda: fw.mlas_pool_kernel((1, 1, 4, 4), 0), ValueError, 'pool_size')]),
    'frameworks.onnx_reference_pool2d': Arrays(lambda X: fw.onnx_reference_pool2d(X, 2),
                                               {'X': X3}, **FW),
    'frameworks.poolbook_pool2d': Arrays(lambda X: fw.poolbook_pool2d(X, 2), {'X': X3},
                                         **FW),
    'frameworks.pool2d_in': Arrays(lambda X: fw.pool2d_in('pytorch', X, 2), {'X': X3}, **FW),
    'frameworks.agree': Args(lambda: fw.agree(X2, X2), [
        (lambda: fw.agree(X2, X2, rtol=-1), ValueError, 'rtol')]),
    'frameworks.number': Args(lambda: fw.number(1.5, 3), [
        (lambda: fw.number(1.5, 0), ValueError, 'digits'),
        (lambda: fw.number('x', 3), TypeError, 'value')]),
    'frameworks.show': Args(lambda: fw.show(X2), [
        (lambda: fw.show(X2, digits=0), ValueError, 'digits')]),
    'frameworks.Comparison': Args(lambda: fw.Comparison({'poolbook': X2}), [
        (lambda: fw.Comparison([X2]), TypeError, 'results')]),
    'frameworks.compare': Arrays(lambda X: fw.compare(X, 2, **SMALL), {'X': X3}, **FW),
    'frameworks.nan_passes': Arrays(lambda X: fw.nan_passes(X, 2, **SMALL),
                                    {'X': ints((3, 3))}, **FW),
    'frameworks.Atlas': Args(lambda: fw.Atlas([('a', fw.Comparison({'poolbook': X2}))]), [
        (lambda: fw.Atlas([('a', X2)]), TypeError, 'rows')]),
    'frameworks.torch_meta_shape': Step('frameworks.output_shapes'),
    'frameworks.mxnet_inferred_shape': Step('frameworks.output_shapes'),
    'frameworks.onnx_inferred_shape': Step('frameworks.output_shapes'),
    'frameworks.output_shapes': Args(lambda: fw.output_shapes((1, 1, 4, 4), 2), [
        (lambda: fw.output_shapes((4, 4), 2), ValueError, 'shape'),
        (lambda: fw.output_shapes((1, 1, 4, 4), 2, strides=0), ValueError, 'strides')]),
    'frameworks.ort_declared_shape': Step('frameworks.output_shapes'),
    'frameworks.pool2d_gradient': Arrays(
        lambda X, dY: fw.pool2d_gradient('pytorch', X, 2, dY=dY),
        {'X': X3, 'dY': ints((3, 5, 5), seed=1)}, **FW),
    'frameworks.compare_gradients': Arrays(lambda X: fw.compare_gradients(X, 2, **SMALL),
                                           {'X': X3}, **FW),
    'frameworks.adaptive_pool2d_in': Arrays(
        lambda X: fw.adaptive_pool2d_in('pytorch', X, 2), {'X': X3}, **FW),
    'frameworks.run_global_onnx': Step('frameworks.adaptive_pool2d_in'),
    'frameworks.compare_adaptive': Arrays(lambda X: fw.compare_adaptive(X, 2, **SMALL),
                                          {'X': X3}, **FW),
    'frameworks.legacy_onnx_mapping_tables': NoArgs(),
    'frameworks.legacy_onnx_mapping': NoArgs(),
    'frameworks.Collect': NoArgs(),
    'frameworks.export_gluon': Args(
        None, [
            (lambda: fw.export_gluon('net', (1, 1, 28, 28)), TypeError, 'net'),
            (lambda: fw.export_gluon(mx.gluon.nn.MaxPool2D(), (28, 28)), ValueError,
             'input_shape')]),
    'frameworks.torch_threads_across_mxnet_import': Args(None, [
        (lambda: fw.torch_threads_across_mxnet_import(threads=0), ValueError, 'threads')]),
})
# geometry.py: integer arithmetic the checked functions call with checked numbers.
ROWS.update({name: Step(of) for name, of in (
    ('geometry.output_size', 'pooling.pool2d'), ('geometry.mxnet_output_size',
                                                  'networks.predicted_shape'),
    ('geometry.output_shape', 'variants.window_cells'),
    ('geometry.padded_size', 'checks.check_window_fits'),
    ('geometry.window_offsets', 'geometry.axis_taps'), ('geometry.axis_taps',
                                                        'pooling.pool2d'),
    ('geometry.cell_taps', 'backward.axis_steps'), ('geometry.divisor', 'pooling.pool2d'),
    )})
ROWS.update({
    'geometry.divisors': Args(
        lambda: geometry.divisors((4, 4), (2, 2), strides=(2, 2), padding=(0, 0)), [
            (lambda: geometry.divisors((4, 4), (2, 2), strides=0, padding=0), ValueError,
             'strides'),
            (lambda: geometry.divisors((4, 4), 2, strides=1, padding=0, ceil_mode=1),
             TypeError, 'ceil_mode')]),
    'geometry.lowest': Args(lambda: geometry.lowest('int8'), [
        (lambda: geometry.lowest(bool), TypeError, 'dtype')]),
})
# kernels.py
ROWS.update({
    'kernels.cache_warning': Step('kernels.njit'),
    'kernels.GuardedCache': Step('kernels.njit'),
    'kernels.njit': Args(lambda: kernels.njit(lambda x: x), [
        (lambda: kernels.njit(3), TypeError, 'njit')]),
    'kernels.enabled': NoArgs(),
    'kernels.numpy_only': NoArgs(),
    'kernels.handles': Step('pooling.pool2d'),
    'kernels.pool_rows': Step('kernels.pool_maps'),
    'kernels.pool_columns': Step('kernels.pool_maps'),
    'kernels.pool_maps': Step('kernels.pool'),
    'kernels.pool': Step('pooling.pool2d'),
    'kernels.warm': Args(lambda: kernels.warm((np.float32,)), [
        (lambda: kernels.warm(np.float32), TypeError, 'dtypes'),
        (lambda: kernels.warm(('int8',)), TypeError, 'dtypes')]),
    'kernels.adaptive': Step('adaptive.adaptive_pool2d'),
    'kernels.adaptive_maps': Step('kernels.adaptive'),
    'kernels.backward': Step('backward.pool2d_backward'),
    'kernels.max_backward_maps': Step('kernels.backward'),
    'kernels.avg_backward_maps': Step('kernels.backward'),
    'kernels.avg_backward_disjoint': Step('kernels.backward'),
    'kernels.max_backward_2x2': Step('kernels.backward'),
    'kernels.pool_channels_last': Step('pooling.pool2d_channels_last'),
    'kernels.pool_nhwc': Step('kernels.pool_channels_last'),
    'kernels.running_max': Step('speed.comparison_rate'),
})
# loops.py: the teaching loops take float32 and float64 only; chapter 1's also refuse
# mx.np arrays (their cells cannot be stored into an NDArray).
LOOP = dict(dtypes=F32_64)
ROWS.update({
    'loops.check_loop_args': Args(lambda: loops.check_loop_args(X2, 2, 'max'), [
        (lambda: loops.check_loop_args(X2.astype(int), 2, 'max'), TypeError, 'X')]),
    'loops.check_float': Args(lambda: loops.check_float(X2), [
        (lambda: loops.check_float(X2.astype(np.float16), 'K'), TypeError, 'K')]),
    'loops.check_pool2d_args': Args(lambda: loops.check_pool2d_args(X2, 2, 'max'), [
        (lambda: loops.check_pool2d_args(X3, 2, 'max'), ValueError, 'X')]),
    'loops.check_strided_args': Args(lambda: loops.check_strided_args(X2, 2, 'max', 1, 0), [
        (lambda: loops.check_strided_args(X2, 2, 'max', 0, 0), ValueError, 'strides')]),
    'loops.pool2d': Arrays(lambda X: loops.pool2d(X, 2), {'X': ints((3, 4))},
                           kinds=tuple(k for k in KINDS if k != 'mx.np'), **LOOP),
    'loops.pool2d_strided': Arrays(lambda X: loops.pool2d_strided(X, 2, 'avg', 2, 1),
                                   {'X': ints((3, 4))}, **LOOP),
    'loops.pool2d_numpy': Arrays(lambda X: loops.pool2d_numpy(X, 2), {'X': ints((3, 4))},
                                 kinds=tuple(k for k in KINDS if k != 'mx.np'), **LOOP),
    'loops.loop_njit': Step('loops.pool2d_njit'),
    'loops.pool2d_njit': Arrays(lambda X: loops.pool2d_njit(X, 2), {'X': ints((3, 4))},
                                kinds=tuple(k for k in KINDS if k != 'mx.np'), **LOOP),
    'loops.pool2d_offsets': Arrays(lambda X: loops.pool2d_offsets(X, 2, 'max', 2, 1),
                                   {'X': X4}, **LOOP),
})
# networks.py
ROWS.update({
    'networks.Layer': Record(),
    'networks.lenet': NoArgs(),
    'networks.check_layer': Step('networks.predicted_shape'),
    'networks.check_network': Step('networks.trace'),
    'networks.book_networks': NoArgs(),
    'networks.pair': Step('networks.as_layer'),
    'networks.graph_shapes': Step('networks.trace'),
    'networks.depths': Step('networks.trace'),
    'networks.as_layer': Step('networks.trace'),
    'networks.trace': Args(lambda: networks.trace(networks.lenet(), (1, 1, 28, 28)), [
        (lambda: networks.trace('net', (1, 1, 28, 28)), TypeError, 'net'),
        (lambda: networks.trace(networks.lenet(), (28, 28)), ValueError, 'input_shape')]),
    'networks.lowers_resolution': Args(lambda: networks.lowers_resolution(LAYER), [
        (lambda: networks.lowers_resolution('layer'), TypeError, 'layer')]),
    'networks.describe_layer': Args(lambda: networks.describe_layer(LAYER), [
        (lambda: networks.describe_layer(('conv',)), TypeError, 'layer')]),
    'networks.predicted_shape': Args(lambda: networks.predicted_shape(LAYER), [
        (lambda: networks.predicted_shape(None), TypeError, 'layer')]),
    'networks.resolution_profile': Args(lambda: networks.resolution_profile([LAYER]), [
        (lambda: networks.resolution_profile([]), ValueError, 'layers'),
        (lambda: networks.resolution_profile(LAYER), TypeError, 'layers')]),
    'networks.vgg16': NoArgs(),
    'networks.graph': Args(lambda: networks.graph(networks.lenet(), (1, 1, 28, 28)), [
        (lambda: networks.graph(3, (1, 1, 28, 28)), TypeError, 'net')]),
})
LAYER = networks.Layer('Convolution', (3, 3), (1, 1), (1, 1), 'valid', False, None,
                       (1, 1, 8, 8), (1, 2, 8, 8), 1)
# player.py: the HTML of matplotlib's animation player.
HTML = 'not a player'
ROWS.update({
    'player.check_html': Step('player.without_remote_icons'),
    'player.without_remote_icons': Args(lambda: player.without_remote_icons(HTML), [
        (lambda: player.without_remote_icons(3), TypeError, 'html')]),
    'player.player_id': Args(None, [
        (lambda: player.player_id(HTML), ValueError, 'html'),
        (lambda: player.player_id(None), TypeError, 'html')]),
    'player.with_stable_id': Args(None, [
        (lambda: player.with_stable_id(HTML), ValueError, 'html')]),
    'player.with_print_note': Args(None, [
        (lambda: player.with_print_note(HTML), ValueError, 'html')]),
    'player.frame_size': Args(None, [
        (lambda: player.frame_size(HTML), ValueError, 'html')]),
    'player.at_pixel_ratio': Args(None, [
        (lambda: player.at_pixel_ratio(HTML, 2), ValueError, 'html'),
        (lambda: player.at_pixel_ratio(HTML, 0), ValueError, 'pixel_ratio')]),
    'player.offline_player': Args(None, [
        (lambda: player.offline_player(HTML), ValueError, 'html'),
        (lambda: player.offline_player(3), TypeError, 'html')]),
})
# pooling.py
ROWS.update({
    'pooling.check_p_value': Args(lambda: pooling.check_p_value(2, 'lp'), [
        (lambda: pooling.check_p_value(4, 'lp'), ValueError, 'p_value'),
        (lambda: pooling.check_p_value(2.0, 'lp'), TypeError, 'p_value')]),
    'pooling.pool_axis': Step('pooling.pool2d'),
    'pooling.pool_numpy': Step('pooling.pool2d'),
    'pooling.first_zero_signs': Step('pooling.pool2d'),
    'pooling.check_layout': Args(lambda: pooling.check_layout('NHWC'), [
        (lambda: pooling.check_layout('NWHC'), ValueError, 'layout')]),
    'pooling.pool2d_channels_last': Arrays(
        lambda X: pooling.pool2d_channels_last(X, 2, strides=2), {'X': ints((2, 4, 4, 3))}),
    'pooling.pool2d': Arrays(lambda X: pooling.pool2d(X, 3, 'avg', strides=2, padding=1),
                             {'X': X4}),
})
# receptive.py: fields of traced networks.
ROWS.update({
    'receptive.Field': Record(),
    'receptive.through_window': Step('receptive.node_fields'),
    'receptive.merge': Step('receptive.node_fields'),
    'receptive.window_of': Step('receptive.node_fields'),
    'receptive.node_fields': Step('receptive.network_fields'),
    'receptive.network_fields': Args(
        lambda: receptive.network_fields(networks.lenet(), (1, 1, 28, 28)), [
            (lambda: receptive.network_fields('net', (1, 1, 28, 28)), TypeError, 'net')]),
    'receptive.field_cells': Args(
        lambda: receptive.field_cells(receptive.INPUT, (0, 0), (4, 4)), [
            (lambda: receptive.field_cells('field', (0, 0), (4, 4)), TypeError, 'field'),
            (lambda: receptive.field_cells(receptive.INPUT, (0, 0, 1), (4, 4)), ValueError,
             'cell')]),
    'receptive.linear_copy': Step('receptive.gradient_support'),
    'receptive.gradient_support': Args(
        lambda: receptive.gradient_support(networks.lenet(), (1, 1, 28, 28), 0, [(0, 0)]),
        [(lambda: receptive.gradient_support(networks.lenet(), (1, 1, 28, 28), 9, [(0, 0)]),
          ValueError, 'layer'),
         (lambda: receptive.gradient_support(networks.lenet(), (1, 1, 28, 28), 0, [(99, 0)]),
          ValueError, 'cells')]),
})
# regions.py
ROIS = np.array([[0, 0, 0, 3, 3], [1, 1, 1, 4, 5]], np.float32)
ROWS.update({
    'regions.check_rois': Args(lambda: regions.check_rois(ROIS, 2, 1.0), [
        (lambda: regions.check_rois(ROIS, 1, 1.0), ValueError, 'rois'),
        (lambda: regions.check_rois(ROIS, 2, 0.0), ValueError, 'spatial_scale')]),
    'regions.check_roi_args': Args(lambda: regions.check_roi_args(X4, ROIS, 2, 1.0), [
        (lambda: regions.check_roi_args(X4, ROIS, 0, 1.0), ValueError, 'pooled_size')]),
    'regions.check_weight_cells': Args(lambda: regions.check_weight_cells((2, 2), (6, 6)), [
        (lambda: regions.check_weight_cells((2**20, 2**20), (2**10, 2**10)), ValueError,
         'pooled_size')]),
    'regions.roi_pool': Arrays(lambda X, rois: regions.roi_pool(X, rois, 2),
                               {'X': X4, 'rois': ROIS}, rank='fewer',
                               dtypes={'rois': REALS}),
    'regions.roi_align': Arrays(lambda X, rois: regions.roi_align(X, rois, 2),
                                {'X': X4, 'rois': ROIS}, rank='fewer'),
    'regions.spp_paper_window': Args(lambda: regions.spp_paper_window(13, 3), [
        (lambda: regions.spp_paper_window(13, 0), ValueError, 'n'),
        (lambda: regions.spp_paper_window(1.5, 3), TypeError, 'a')]),
    'regions.spp_window': Args(lambda: regions.spp_window(13, 3), [
        (lambda: regions.spp_window(13, 0), ValueError, 'n')]),
    'regions.pyramid_pool2d': Arrays(lambda X: regions.pyramid_pool2d(X), {'X': X4}),
})
ROWS.update({name: Step(of) for name, of in (
    ('regions.round_half_away', 'regions.roi_pool'),
    ('regions.roi_pool_bins', 'regions.roi_pool'),
    ('regions.max_over_bins', 'regions.roi_pool'),
    ('regions.align_grid', 'regions.align_weights'),
    ('regions.sample_range', 'regions.align_weights'),
    ('regions.sample_points', 'regions.align_weights'),
    ('regions.bilinear_taps', 'regions.align_weights'),
    ('regions.align_weights', 'regions.roi_align'),
    ('regions.weighted_sum', 'regions.roi_align'))})
# threads.py: the compiled kernels' threads.
ROWS.update({
    'threads.available_cores': NoArgs(),
    'threads.get_num_threads': NoArgs(),
    'threads.check_num_threads': Args(lambda: threads.check_num_threads(2), [
        (lambda: threads.check_num_threads(0), ValueError, 'n'),
        (lambda: threads.check_num_threads(1.5), TypeError, 'n')]),
    'threads.set_num_threads': Args(
        lambda: threads.set_num_threads(threads.get_num_threads()), [
            (lambda: threads.set_num_threads(0), ValueError, 'n'),
            (lambda: threads.set_num_threads(True), TypeError, 'n')]),
    'threads.parts': Step('threads.run_parts'),
    'threads.run_parts': Step('kernels.adaptive'),
})
# cam.py (chapter 10): class activation maps.
ROWS.update({
    'cam.check_cam_args': Step('cam.class_activation_map'),
    'cam.class_activation_map': Arrays(
        lambda maps, weights: cam.class_activation_map(maps, weights, 1),
        {'maps': ints((2, 3, 4, 4)), 'weights': ints((5, 3), seed=1)}),
})
# shift.py (chapter 7)
POOL = lambda A: pooling.pool2d(A, 2, strides=2)  # noqa: E731
ROWS.update({
    'shift.shift': Arrays(lambda X: shift.shift(X, 1, 2, (3, 3)), {'X': X4}),
    'shift.relative_change': Arrays(lambda Y, Z: shift.relative_change(Y, Z),
                                    {'Y': ints((2, 3, 4), 1, 5), 'Z': ints((2, 3, 4))},
                                    returns='value'),
    'shift.shift_change': Arrays(lambda X: shift.shift_change(POOL, X, 1, 1, (8, 8), 2),
                                 {'X': ints((2, 10, 10), 1, 9)}, returns='value'),
    'shift.periodic_output': Arrays(lambda X: shift.periodic_output(POOL, X),
                                    {'X': ints((8, 8))}, returns='value'),
    'shift.half_cell_shift': Arrays(lambda Y: shift.half_cell_shift(Y), {'Y': ints((3, 4))},
                                    returns='value', rank=False),
    'shift.without_nyquist': Arrays(lambda Y: shift.without_nyquist(Y), {'Y': ints((3, 4))},
                                    returns='value', rank=False),
    'shift.split_shift': Arrays(lambda Y0, Y1: shift.split_shift(Y0, Y1),
                                {'Y0': ints((3, 4)), 'Y1': ints((3, 4), seed=1)},
                                returns='value'),
    'shift.detail': Arrays(lambda M: shift.detail(M), {'M': ints((4, 5))}, returns='value'),
    'shift.aliasing': Arrays(lambda S, A: shift.aliasing(S, A),
                             {'S': ints((4, 4)), 'A': ints((4, 4), seed=1)},
                             returns='value'),
    'shift.ideal_downsample': Arrays(lambda X: shift.ideal_downsample(X),
                                     {'X': ints((4, 6))}, returns='value'),
    'shift.detail_kept': Arrays(lambda S, X: shift.detail_kept(S, X),
                                {'S': ints((2, 3)), 'X': ints((4, 6), seed=1)},
                                returns='value'),
    'shift.shift_aliasing': Arrays(lambda X: shift.shift_aliasing(POOL, X),
                                   {'X': ints((8, 8))}, returns='value'),
    'shift.consistency': Arrays(lambda a, b: shift.consistency(a, b),
                                {'a': ints((6,)), 'b': ints((6,), seed=1)},
                                returns='value', rank=False),
})
# speed.py (chapter 5 and the benchmarks): timing helpers.
ROWS.update({
    'speed.count_bytecodes': Args(lambda: speed.count_bytecodes(lambda: None), [
        (lambda: speed.count_bytecodes(3), TypeError, 'fn'),
        (lambda: speed.count_bytecodes(lambda: None, callees=1), TypeError, 'callees')]),
    'speed.interleaved_runs': Args(lambda: speed.interleaved_runs({'a': int}, 1), [
        (lambda: speed.interleaved_runs({'a': int}, 0), ValueError, 'repeat'),
        (lambda: speed.interleaved_runs([int]), TypeError, 'functions'),
        (lambda: speed.interleaved_runs({'a': 3}), TypeError, 'functions')]),
    'speed.quartiles': Args(lambda: speed.quartiles([1.0, 2.0]), [
        (lambda: speed.quartiles([]), TypeError, 'values'),
        (lambda: speed.quartiles(np.ones(3)), TypeError, 'values'),
        (lambda: speed.quartiles([1.0, 'x']), TypeError, 'values')]),
    'speed.bound_multiples': Args(
        lambda: speed.bound_multiples({'a': [1.0], 'copy': [2.0]}, 10, 20), [
            (lambda: speed.bound_multiples([1.0], 10, 20), TypeError, 'runs'),
            (lambda: speed.bound_multiples({'a': [1.0]}, 10, 20), ValueError, 'runs'),
            (lambda: speed.bound_multiples({'a': [], 'copy': [2.0]}, 10, 20),
             ValueError, 'runs'),
            (lambda: speed.bound_multiples({'a': [0.0], 'copy': [2.0]}, 10, 20),
             ValueError, 'runs'),
            (lambda: speed.bound_multiples({'a': [1.0], 'copy': [2.0]}, 0, 20),
             ValueError, 'traffic'),
            (lambda: speed.bound_multiples({'a': [1.0], 'copy': [2.0]}, 10, 2.0),
             TypeError, 'copied')]),
    'speed.load_note': Args(lambda: speed.load_note(1.0, 2), [
        (lambda: speed.load_note(-1.0, 2), ValueError, 'load'),
        (lambda: speed.load_note('1.0', 2), TypeError, 'load'),
        (lambda: speed.load_note(1.0, 0), ValueError, 'cores'),
        (lambda: speed.load_note(1.0, 2, 0), ValueError, 'threads')]),
    'speed.interleaved_medians': Args(lambda: speed.interleaved_medians({'a': int}, 1), [
        (lambda: speed.interleaved_medians({'a': int}, 0), ValueError, 'repeat'),
        (lambda: speed.interleaved_medians([int]), TypeError, 'functions')]),
    'speed.traffic_bytes': Args(lambda: speed.traffic_bytes(X2, X2), [
        (lambda: speed.traffic_bytes([1.0], X2), TypeError, 'X')]),
    'speed.peak_extra_memory': Args(lambda: speed.peak_extra_memory(lambda: None), [
        (lambda: speed.peak_extra_memory(3), TypeError, 'fn')]),
    'speed.rounded': Args(lambda: speed.rounded(1.23456), [
        (lambda: speed.rounded('1.2'), TypeError, 'value'),
        (lambda: speed.rounded(1.2, 0), ValueError, 'digits')]),
    'speed.loglog_slope': Args(lambda: speed.loglog_slope((1, 2), (1.0, 2.0)), [
        (lambda: speed.loglog_slope((1, 1), (1.0, 2.0)), ValueError, 'sizes'),
        (lambda: speed.loglog_slope((1, 2), (0.0, 2.0)), ValueError, 'times')]),
    'speed.growth_words': Args(lambda: speed.growth_words(1.0), [
        (lambda: speed.growth_words(float('nan')), ValueError, 'slope')]),
    'speed.growth_groups': Args(lambda: speed.growth_groups({'a': 1.0}), [
        (lambda: speed.growth_groups([1.0]), TypeError, 'slopes')]),
    'speed.relation': Args(lambda: speed.relation(1.0, 2.0), [
        (lambda: speed.relation(0.0, 2.0), ValueError, 'seconds'),
        (lambda: speed.relation(1.0, -2.0), ValueError, 'reference')]),
    'speed.child_env': Args(lambda: speed.child_env(), [
        (lambda: speed.child_env(native='yes'), TypeError, 'native')]),
    'speed.as_layer': Args(lambda: speed.as_layer(((1, 1, 8, 8), 2, 2, 0)), [
        (lambda: speed.as_layer(((8, 8), 2, 2, 0)), ValueError, 'layer')]),
    'speed.mxnet_layers_in_child': Args(None, [
        (lambda: speed.mxnet_layers_in_child([((8, 8), 2, 2, 0)]), ValueError, 'layer'),
        (lambda: speed.mxnet_layers_in_child([((1, 1, 8, 8), 2, 2, 0)], 'min'), ValueError,
         'mode')]),
    'speed.mxnet_in_child': Args(None, [
        (lambda: speed.mxnet_in_child((8, 8), 2, 2, 0), ValueError, 'layer')]),
    'speed.onednn_pooling_runs': Args(lambda: speed.onednn_pooling_runs(['a,b']), [
        (lambda: speed.onednn_pooling_runs('a,b'), TypeError, 'lines')]),
    'speed.layer_problem': Args(lambda: speed.layer_problem(((1, 1, 8, 8), 2, 2, 0)), [
        (lambda: speed.layer_problem(((8, 8), 2, 2, 0)), ValueError, 'layer')]),
    'speed.onednn_pooling_kernels': Args(lambda: speed.onednn_pooling_kernels([]), [
        (lambda: speed.onednn_pooling_kernels('log'), TypeError, 'lines')]),
    'speed.mxnet_kernel': Args(lambda: speed.mxnet_kernel([]), [
        (lambda: speed.mxnet_kernel('jit'), TypeError, 'kernels')]),
    'speed.onednn_choice': Args(lambda: speed.onednn_choice([]), [
        (lambda: speed.onednn_choice('log'), TypeError, 'lines')]),
    'speed.kernels_by_layer': Args(
        lambda: speed.kernels_by_layer([], [((1, 1, 8, 8), 2, 2, 0)], ['8x8']), [
            (lambda: speed.kernels_by_layer([], [((1, 1, 8, 8), 2, 2, 0)], []), ValueError,
             'labels')]),
    'speed.onednn_isa': Args(lambda: speed.onednn_isa([]), [
        (lambda: speed.onednn_isa('log'), TypeError, 'lines')]),
    'speed.cpu_model': NoArgs(),
    'speed.ready': Step('speed.forward_calls'),
    'speed.fb_traffic_bytes': Args(lambda: speed.fb_traffic_bytes(X4, X4[..., ::2], 'max'), [
        (lambda: speed.fb_traffic_bytes([1.0], X4, 'max'), TypeError, 'X'),
        (lambda: speed.fb_traffic_bytes(X4, 'Y', 'max'), TypeError, 'Y'),
        (lambda: speed.fb_traffic_bytes(X4, X4, 'min'), ValueError, 'mode')]),
    'speed.fastest': Args(lambda: speed.fastest({'a': 2.0, 'b': 1.0}), [
        (lambda: speed.fastest([1.0]), TypeError, 'times'),
        (lambda: speed.fastest({}), ValueError, 'times'),
        (lambda: speed.fastest({'a': 0.0}), ValueError, 'times')]),
    'speed.fastest_counts': Args(lambda: speed.fastest_counts([{'a': 2.0, 'b': 1.0}]), [
        (lambda: speed.fastest_counts([]), TypeError, 'rows'),
        (lambda: speed.fastest_counts({'a': 1.0}), TypeError, 'rows'),
        (lambda: speed.fastest_counts([[1.0]]), TypeError, 'rows'),
        (lambda: speed.fastest_counts([{'a': -1.0}]), ValueError, 'rows')]),
    'speed.relation_tally': Args(lambda: speed.relation_tally([(1.0, 2.0)]), [
        (lambda: speed.relation_tally([]), ValueError, 'pairs'),
        (lambda: speed.relation_tally([1.0]), TypeError, 'pairs'),
        (lambda: speed.relation_tally([(0.0, 1.0)]), ValueError, 'seconds')]),
    'speed.spread_table': Args(lambda: speed.spread_table({('a', 'max'): {'x': [1.0]}}), [
        (lambda: speed.spread_table([]), TypeError, 'table'),
        (lambda: speed.spread_table({}), ValueError, 'table'),
        (lambda: speed.spread_table({'a': {'x': [1.0]}}), ValueError, 'table'),
        (lambda: speed.spread_table({('a', 'max'): [1.0]}), TypeError, 'table'),
        (lambda: speed.spread_table({('a', 'max'): {'x': [1.0]}}, 3), ValueError,
         'width')]),
    'speed.listed': Args(lambda: speed.listed(['a', 'b']), [
        (lambda: speed.listed([]), TypeError, 'names'),
        (lambda: speed.listed('ab'), TypeError, 'names')]),
    'speed.spread_note': Args(lambda: speed.spread_note(4.0), [
        (lambda: speed.spread_note(-1.0), ValueError, 'widest'),
        (lambda: speed.spread_note('4'), TypeError, 'widest')]),
    'speed.rate_verdict': Args(lambda: speed.rate_verdict(1.0, {'a': 0.5}, ('x', 'y', 'z')), [
        (lambda: speed.rate_verdict(0.0, {'a': 0.5}, ('x', 'y', 'z')), ValueError, 'rate'),
        (lambda: speed.rate_verdict(1.0, [0.5], ('x', 'y', 'z')), TypeError, 'needs'),
        (lambda: speed.rate_verdict(1.0, {}, ('x', 'y', 'z')), ValueError, 'needs'),
        (lambda: speed.rate_verdict(1.0, {'a': -0.5}, ('x', 'y', 'z')), ValueError,
         'needs'),
        (lambda: speed.rate_verdict(1.0, {'a': 0.5}, ('x', 'y')), TypeError, 'words')]),
    'speed.winner': Args(lambda: speed.winner({'a': 2.0, 'b': 1.0}), [
        (lambda: speed.winner([1.0]), TypeError, 'times'),
        (lambda: speed.winner({}), ValueError, 'times'),
        (lambda: speed.winner({'a': 'fast'}), TypeError, 'times'),
        (lambda: speed.winner({'a': -1.0}), ValueError, 'times')]),
    'speed.marked': Args(lambda: speed.marked({'a': 2.0}, 1.0), [
        (lambda: speed.marked({'a': 0.0}, 1.0), ValueError, 'times'),
        (lambda: speed.marked({'a': 2.0}, 0.0), ValueError, 'bound'),
        (lambda: speed.marked({'a': 2.0}, 1.0, -1), ValueError, 'digits')]),
    'speed.onnxruntime_session': Args(
        lambda: speed.onnxruntime_session((1, 1, 6, 6), 2, 'max', 2, 0), [
            (lambda: speed.onnxruntime_session((6, 6), 2, 'max', 2, 0), ValueError, 'shape'),
            (lambda: speed.onnxruntime_session((1, 1, 6, 6), 2, 'min', 2, 0), ValueError,
             'mode')]),
    'speed.forward_calls': Args(lambda: speed.forward_calls(X4, 2, 2, 0, 'max'), [
        (lambda: speed.forward_calls(X4.tolist(), 2, 2, 0, 'max'), TypeError, 'X'),
        (lambda: speed.forward_calls(X4.astype(np.float64), 2, 2, 0, 'max'), TypeError, 'X'),
        (lambda: speed.forward_calls(np.asfortranarray(X4), 2, 2, 0, 'max'), TypeError, 'X'),
        (lambda: speed.forward_calls(nd.array(X4), 2, 2, 0, 'max'), TypeError, 'X'),
        (lambda: speed.forward_calls(X3, 2, 2, 0, 'max'), ValueError, 'X'),
        (lambda: speed.forward_calls(X4, 0, 2, 0, 'max'), ValueError, 'k'),
        (lambda: speed.forward_calls(X4, 7, 2, 0, 'max'), ValueError, 'k'),
        (lambda: speed.forward_calls(X4, 2, 2.0, 0, 'max'), TypeError, 's'),
        (lambda: speed.forward_calls(X4, 2, 2, 2, 'max'), ValueError, 'p'),
        (lambda: speed.forward_calls(X4, 2, 2, 0, 'sum'), ValueError, 'mode')]),
    'speed.forward_backward_calls': Args(
        lambda: speed.forward_backward_calls(X4, X4[..., :3, :3].copy(), 2, 2, 0, 'avg'), [
            (lambda: speed.forward_backward_calls(X4, X4, 2, 2, 0, 'avg'), ValueError, 'dY'),
            (lambda: speed.forward_backward_calls(X4, X3, 2, 2, 0, 'avg'), ValueError, 'dY'),
            (lambda: speed.forward_backward_calls(X3, X3, 2, 2, 0, 'avg'), ValueError, 'X'),
            (lambda: speed.forward_backward_calls(X4, X4[..., :3, :3].copy(), 2, 2, 0,
                                                  'lp'), ValueError, 'mode')]),
    'speed.adaptive_calls': Args(lambda: speed.adaptive_calls(X4, 3, 'avg'), [
        (lambda: speed.adaptive_calls(X4[..., ::2], 3, 'avg'), TypeError, 'X'),
        (lambda: speed.adaptive_calls(X4, 0, 'avg'), ValueError, 'out'),
        (lambda: speed.adaptive_calls(X4, 3, 'median'), ValueError, 'mode')]),
    'speed.parallel_copy': Args(
        lambda: speed.parallel_copy(np.zeros(8, np.float32), np.ones(8, np.float32)), [
            (lambda: speed.parallel_copy([0.0], np.ones(1)), TypeError, 'dst'),
            (lambda: speed.parallel_copy(np.zeros(8), np.ones((2, 4))), TypeError, 'src'),
            (lambda: speed.parallel_copy(np.zeros(8), np.ones(4)), ValueError, 'dst'),
            (lambda: speed.parallel_copy(np.zeros(8, np.float32), np.ones(8)), ValueError,
             'dst'),
            (lambda: speed.parallel_copy(np.broadcast_to(np.zeros(1), (8,)), np.ones(8)),
             TypeError, 'dst'),
            (lambda: speed.parallel_copy(np.zeros(8)[::-1], np.ones(8)), TypeError, 'dst')]),
    'speed.sum_repeatedly': Step('speed.addition_rate', via=('speed._sum_kernel',)),
    'speed.addition_rate': Args(lambda: speed.addition_rate(64, 2), [
        (lambda: speed.addition_rate(0), ValueError, 'cells'),
        (lambda: speed.addition_rate(64, 1.5), TypeError, 'repeat'),
        (lambda: speed.addition_rate(2**12, 2**12), ValueError, 'cells')]),
    'speed.comparison_rate': Args(lambda: speed.comparison_rate(64, 2), [
        (lambda: speed.comparison_rate(0), ValueError, 'cells'),
        (lambda: speed.comparison_rate(64, 1.5), TypeError, 'repeat')]),
})
# training.py (chapter 7): the classifier in Gluon and PyTorch, and its data.
DIGITS = ints((4, 8, 8), 0, 2)
THETA = tinynet.init_params('max')
CANVASES, LABELS = ints((2, 1, 16, 16), 0, 2), np.array([3, 7])
GLUON_NET, TORCH_NET = training.gluon_net('max', THETA), training.torch_net('max', THETA)
ROWS.update({
    'training.digits': NoArgs(),
    'training.check_corners': Args(lambda: training.check_corners([0, 3], 'rows', 2, 3), [
        (lambda: training.check_corners([0, 4], 'rows', 2, 3), ValueError, 'rows'),
        (lambda: training.check_corners([0.5, 1], 'cols', 2, 3), TypeError, 'cols')]),
    'training.place': Arrays(lambda images: training.place(images, [0, 1, 2, 3], [3, 2, 1, 0]),
                             {'images': DIGITS}, returns='value', rank='fewer'),
    'training.moved_corners': Args(lambda: training.moved_corners(3, [1, 2], 0), [
        (lambda: training.moved_corners(-1, [1], 0), ValueError, 'n'),
        (lambda: training.moved_corners(True, [1], 0), TypeError, 'n'),
        (lambda: training.moved_corners(3, [], 0), ValueError, 'distances'),
        (lambda: training.moved_corners(3, [1], 0, margin=-1), ValueError, 'margin')]),
    'training.BlurPool2D': Args(lambda: training.BlurPool2D(2), [
        (lambda: training.BlurPool2D(0), ValueError, 'channels'),
        (lambda: training.BlurPool2D(2, filter_size=9), ValueError, 'filter_size')]),
    'training.downsampling': Args(lambda: training.downsampling('max', 8), [
        (lambda: training.downsampling('min', 8), ValueError, 'kind'),
        (lambda: training.downsampling('max-blur', 0), ValueError, 'channels')]),
    'training.make_net': Args(lambda: training.make_net('avg'), [
        (lambda: training.make_net(3), ValueError, 'kind'),
        (lambda: training.make_net('max', 'flat'), ValueError, 'head')]),
    'training.gluon_net': Arrays(lambda theta: training.gluon_net('max', theta),
                                 {'theta': THETA}, kinds=NUMPY_KINDS, returns='value',
                                 same=False, rank=False, fast=True),
    'training.gluon_loss_and_gradient': Arrays(
        lambda X, labels: training.gluon_loss_and_gradient(GLUON_NET, X, labels),
        {'X': CANVASES, 'labels': LABELS}, dtypes={'labels': INTS}, returns='value',
        fast=True),
    'training.check_batch': Step('training.gluon_loss_and_gradient'),
    'training.as_values': Step('training.agrees'),
    'training.TorchBlurPool2d': Args(lambda: training.TorchBlurPool2d(2), [
        (lambda: training.TorchBlurPool2d(0), ValueError, 'channels')]),
    'training.torch_downsampling': Args(lambda: training.torch_downsampling('avg', 8), [
        (lambda: training.torch_downsampling('min', 8), ValueError, 'kind'),
        (lambda: training.torch_downsampling('max-blur', 0), ValueError, 'channels')]),
    'training.make_torch_net': Args(lambda: training.make_torch_net('max'), [
        (lambda: training.make_torch_net('max', 'flat'), ValueError, 'head')]),
    'training.torch_net': Arrays(lambda theta: training.torch_net('max', theta),
                                 {'theta': THETA}, kinds=NUMPY_KINDS, returns='value',
                                 same=False, rank=False, fast=True),
    'training.torch_loss_and_gradient': Arrays(
        lambda X, labels: training.torch_loss_and_gradient(TORCH_NET, X, labels),
        {'X': CANVASES, 'labels': LABELS}, dtypes={'labels': INTS}, returns='value',
        fast=True),
    'training.standard_errors': Arrays(lambda a, b: training.standard_errors(a, b),
                                       {'a': ints((5,)), 'b': ints((4,), seed=1)},
                                       returns='value', rank=False),
    'training.clear_compare': Arrays(lambda a, b: training.clear_compare(a, b),
                                     {'a': ints((5,)), 'b': ints((4,), seed=1) + 20},
                                     returns='value', rank=False),
    'training.agrees': Arrays(lambda ours, reference: training.agrees(ours, reference),
                              {'ours': ints((2, 3)), 'reference': ints((2, 3), seed=1)},
                              returns='value', rank=False, takes=('scalar',)),
    'training.compare': Arrays(lambda a, b: training.compare(a, b),
                               {'a': ints((5,)), 'b': ints((4,), seed=1)}, returns='value',
                               rank=False),
})
# tinynet.py (chapters 7 and 10): the engine that trains the classifier, the same bits on
# every CPU. It imports nothing from MXNet (a test loads it alone): numpy arrays only.
ENGINE = dict(kinds=NUMPY_KINDS, returns='value')
ROWS.update({
    'tinynet.check_array': Step('tinynet.unpack'),
    'tinynet.kind_code': Args(lambda: tinynet.kind_code('avg'), [
        (lambda: tinynet.kind_code('min'), ValueError, 'kind')]),
    'tinynet.check_head': Args(lambda: tinynet.check_head('global'), [
        (lambda: tinynet.check_head('flat'), ValueError, 'head')]),
    'tinynet.param_shapes': Args(lambda: tinynet.param_shapes('max'), [
        (lambda: tinynet.param_shapes('min'), ValueError, 'kind')]),
    # unpack's arrays are views of theta, in theta's byte order: compared by value below
    'tinynet.unpack': Arrays(lambda theta: {k: v.astype(v.dtype.newbyteorder('='))
                                            for k, v in tinynet.unpack(theta, 'max').items()},
                             {'theta': THETA}, rank=False, **ENGINE),
    'tinynet.init_params': Args(lambda: tinynet.init_params('avg', seed=1), [
        (lambda: tinynet.init_params('avg', head='flat'), ValueError, 'head')]),
    'tinynet.exp': Step('tinynet.loss_and_gradient',
                        via=('tinynet.Networks.loss_and_grad', 'tinynet._softmax_loss')),
    'tinynet.log': Step('tinynet.loss_and_gradient',
                        via=('tinynet.Networks.loss_and_grad', 'tinynet._softmax_loss')),
    'tinynet.adam_step': Step('tinynet.train_seeds'),
    'tinynet.Networks': Step('tinynet.train_seeds'),
    'tinynet.batch_last': Step('tinynet.loss_and_gradient'),
    'tinynet.digits_last': Step('tinynet.logits', via=('tinynet._forward_batches',)),
    'tinynet.check_digits': Args(lambda: tinynet.check_digits(DIGITS, [[0, 0]] * 4), [
        (lambda: tinynet.check_digits(DIGITS[:, :4], [[0, 0]] * 4), ValueError, 'images'),
        (lambda: tinynet.check_digits(DIGITS, [[0, 9]] * 4), ValueError, 'corners')]),
    'tinynet.logits': Arrays(lambda theta, X: tinynet.logits(theta, 'max', X),
                             {'theta': THETA, 'X': CANVASES}, dtypes=FLOATS + INTS,
                             rank=False, **ENGINE),
    'tinynet.predict': Arrays(lambda X: tinynet.predict(THETA, 'max', X),
                              {'X': CANVASES}, rank='fewer', **ENGINE),
    'tinynet.loss_and_gradient': Arrays(
        lambda X, labels: tinynet.loss_and_gradient(THETA, 'max', X, labels),
        {'X': CANVASES, 'labels': LABELS}, dtypes={'labels': INTS}, rank='fewer',
        **ENGINE),
    'tinynet.gap_maps': Arrays(
        lambda X: tinynet.gap_maps(tinynet.init_params('max', 'global'), 'max', X),
        {'X': CANVASES}, rank='fewer', **ENGINE),
    'tinynet.check_training_args': Args(
        lambda: tinynet.check_training_args(DIGITS, np.arange(4), 1, 2, 0.01), [
            (lambda: tinynet.check_training_args(DIGITS, np.arange(4), 0, 2, 0.01),
             ValueError, 'epochs'),
            (lambda: tinynet.check_training_args(DIGITS, np.arange(3), 1, 2, 0.01),
             ValueError, 'labels')]),
    'tinynet.train_seeds': Arrays(
        lambda images, labels: tinynet.train_seeds('max', images, labels, seeds=[0],
                                                   epochs=1),
        {'images': DIGITS, 'labels': np.arange(4)}, dtypes={'labels': INTS},
        rank='fewer', fast=True, **ENGINE),
    'tinynet.train': Arrays(
        lambda images, labels: tinynet.train('max', images, labels, epochs=1),
        {'images': DIGITS, 'labels': np.arange(4)}, dtypes={'labels': INTS},
        rank='fewer', fast=True, **ENGINE),
})
# unpool.py
ROWS.update({
    'unpool.window_argmax': Step('unpool.pool2d_with_indices'),
    'unpool.pool2d_with_indices': Arrays(
        lambda X: unpool.pool2d_with_indices(X, 2, strides=2), {'X': X4}),
    'unpool.check_indices': Args(
        lambda: unpool.check_indices(X2[:2, :2], np.zeros((2, 2), int), 4), [
            (lambda: unpool.check_indices(X2[:2, :2], np.full((2, 2), 16), 4), ValueError,
             'indices')]),
    'unpool.max_unpool2d': Arrays(
        lambda Y, indices: unpool.max_unpool2d(Y, indices, (4, 4)),
        {'Y': ints((2, 3, 2, 2)), 'indices': np.tile(np.array([[0, 3], [9, 14]]),
                                                        (2, 3, 1, 1))},
        dtypes={'indices': INTS}),
})
# variants.py (chapter 4's exercises)
ROWS.update({
    'variants.check_beta': Args(lambda: variants.check_beta(1.0), [
        (lambda: variants.check_beta(-1.0), ValueError, 'beta'),
        (lambda: variants.check_beta(True), TypeError, 'beta')]),
    'variants.check_finite': Args(lambda: variants.check_finite(X2), [
        (lambda: variants.check_finite(np.array([np.nan]), 'K'), ValueError, 'K')]),
    'variants.check_shape': Args(lambda: variants.check_shape((1, 4, 4)), [
        (lambda: variants.check_shape((1, 4)), ValueError, 'shape')]),
    'variants.check_relu_window': Args(lambda: variants.check_relu_window(3), [
        (lambda: variants.check_relu_window(40), ValueError, 'pool_size')]),
    'variants.check_relu_range': Args(lambda: variants.check_relu_range(X2), [
        (lambda: variants.check_relu_range(np.array([1e302])), ValueError, 'X')]),
    'variants.check_window_cells': Args(
        lambda: variants.check_window_cells((4, 4), (2, 2)), [
            (lambda: variants.check_window_cells((2**12, 2**12), (2, 2)), ValueError,
             'pool_size')]),
    'variants.float_ndarray': Step('variants.avg_pool_as_conv'),
    'variants.avg_pool_as_conv': Arrays(lambda X: variants.avg_pool_as_conv(X, 2),
                                        {'X': X4}, rank='fewer'),
    'variants.count_pool_ops': Arrays(lambda X: variants.count_pool_ops(X, 2, 'avg'),
                                      {'X': X3}),
    'variants.pool_cost': Args(lambda: variants.pool_cost((1, 4, 4), 2), [
        (lambda: variants.pool_cost((1, 4, 4), 5), ValueError, 'pool_size')]),
    'variants.negated': Step('variants.min_pool'),
    'variants.min_pool': Arrays(lambda X: variants.min_pool(X, 2), {'X': X4}),
    'variants.window_cells': Step('variants.softmax_pool'),
    'variants.pooled_like': Step('variants.softmax_pool'),
    'variants.softmax_pool': Arrays(lambda X: variants.softmax_pool(X, 2), {'X': X4}),
    'variants.smooth_max_pool': Arrays(lambda X: variants.smooth_max_pool(X, 2), {'X': X4}),
    'variants.pair_max_weights': Step('variants.relu_max_weights'),
    'variants.relu_max_weights': Args(lambda: variants.relu_max_weights(2), [
        (lambda: variants.relu_max_weights(0), ValueError, 'pool_size')]),
    'variants.max_pool_by_relu': Arrays(lambda X: variants.max_pool_by_relu(X, 2),
                                        {'X': X4}, rank='fewer'),
    'variants.relu_max_counts': Args(lambda: variants.relu_max_counts(2), [
        (lambda: variants.relu_max_counts(1.5), TypeError, 'pool_size')]),
    'variants.beta_sweep': Arrays(lambda window: variants.beta_sweep(window, [0.0, 1.0]),
                                  {'window': ints((2, 2))}, returns='value'),
})


# ------------------------------------------------------------------ the test machinery

def public_names():
    """('module.name', object) for every public function and class each module of the
    package defines, in the modules present."""
    for info in sorted(pkgutil.iter_modules(poolbook.__path__), key=lambda i: i.name):
        module = importlib.import_module(f'poolbook.{info.name}')
        for name, value in vars(module).items():
            if (not name.startswith('_') and callable(value)
                    and getattr(value, '__module__', None) == module.__name__):
                yield f'{info.name}.{name}', value


PUBLIC = dict(public_names())


def as_kind(A, kind):
    """The numpy array A as `kind` (one of KINDS), with A's values and dtype; None when
    the kind has no such array (np.matrix beyond 2-D)."""
    if kind == 'numpy':
        return A.copy()
    if kind == 'fortran':
        return np.asfortranarray(A)
    if kind == 'strided':
        return np.repeat(A, 2, axis=-1)[..., ::2]
    if kind == 'read-only':
        B = A.copy()
        B.flags.writeable = False
        return B
    if kind == 'byte-swapped':
        return A.astype(A.dtype.newbyteorder())
    if kind == 'matrix':
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', PendingDeprecationWarning)
            return np.asmatrix(A) if A.ndim == 2 else None
    if kind == 'ndarray':
        return nd.array(A, dtype=A.dtype)
    if kind == 'mx.np':
        return mx.np.array(A, dtype=A.dtype)
    raise ValueError(kind)


def refused_input(A, refusal):
    """What refusal class `refusal` (one of REFUSALS) passes instead of the valid A."""
    return {
        'list': lambda: A.tolist(),
        'scalar': lambda: 1.5,
        'string': lambda: 'X',
        'torch': lambda: torch.from_numpy(A.copy()),
        'masked': lambda: np.ma.masked_array(A, mask=A < 0),
        'bool': lambda: A != 0,
        'complex': lambda: A.astype(np.complex64),
        'object': lambda: A.astype(object),
        'empty': lambda: np.zeros(A.shape[:-1] + (0,), A.dtype),
        'sparse': lambda: nd.array(A).tostype('row_sparse'),
        'recorded': lambda: nd.array(A),
    }[refusal]()


REFUSAL_ERRORS = {'empty': ValueError, 'rank': ValueError}  # the others: TypeError


def plain(value):
    """A result with every MXNet array as numpy, for comparing."""
    if isinstance(value, nd.NDArray):
        return value.asnumpy()
    if isinstance(value, (tuple, list)):
        return type(value)(plain(v) for v in value) if not hasattr(value, '_fields') \
            else type(value)(*(plain(v) for v in value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def assert_same(got, want, where):
    """got equals want: arrays in values (NaN equal to NaN), dtype and shape."""
    if isinstance(want, np.ndarray):
        got = np.asarray(got)
        assert got.dtype == want.dtype and got.shape == want.shape, (where, got, want)
        assert np.array_equal(got, want, equal_nan=want.dtype.kind in 'fc'), where
    elif isinstance(want, (tuple, list)):
        assert len(got) == len(want), where
        for g, w in zip(got, want):
            assert_same(g, w, where)
    elif isinstance(want, dict):
        assert got.keys() == want.keys(), where
        for key in want:
            assert_same(got[key], want[key], where)
    elif isinstance(want, float) and want != want:
        assert got != got, where
    else:
        assert got == want, where


def snapshot(value):
    """A copy of an array's values (and numpy's write flag), to check it later."""
    if isinstance(value, nd.NDArray):
        return ('mx', value.asnumpy().copy())
    if isinstance(value, np.ndarray):
        return ('np', np.array(value, copy=True), value.flags.writeable)
    return None


def assert_unchanged(value, before, where):
    """The array `value` still holds what `snapshot` saw."""
    if before is None:
        return
    now = snapshot(value)
    assert now[0] == before[0] and now[2:] == before[2:], f'{where}: flags changed'
    assert now[1].dtype == before[1].dtype and np.array_equal(
        now[1], before[1], equal_nan=before[1].dtype.kind in 'fc'), f'{where}: changed'


def call_with(row, name, value, recording=False):
    """Call row's function with `value` for array parameter `name` (the others valid,
    numpy float32); check no array changed; return the result."""
    args = {key: A.copy() for key, A in row.inputs.items()}
    args[name] = value
    before = {key: snapshot(v) for key, v in args.items()}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # numpy's, matplotlib's: not what is tested
            if recording:
                value.attach_grad()
                with autograd.record():
                    return row.call(**args)
            return row.call(**args)
    finally:
        for key, v in args.items():
            assert_unchanged(v, before[key], f'{key} of {name}')


def names_parameter(message, name):
    """True when the error message begins with the parameter's name (or 'A and name')."""
    return re.match(rf'(\w+ and )?{re.escape(name)}\b', message) is not None


def result_kind(value):
    """'numpy', 'ndarray' or 'mx.np': the kind of a result."""
    if isinstance(value, mx.np.ndarray):
        return 'mx.np'
    if isinstance(value, nd.NDArray):
        return 'ndarray'
    assert type(value) is np.ndarray, f'a numpy input gave a {type(value).__name__}'
    return 'numpy'


# ------------------------------------------------------------------ the tests

def test_every_public_function_has_a_row():
    missing = sorted(set(PUBLIC) - set(ROWS))
    assert not missing, f'public functions without a row in this table: {missing}'
    stale = sorted(set(ROWS) - set(PUBLIC))
    assert not stale, f'rows for functions the package no longer has: {stale}'


ARRAY_ROWS = sorted(name for name, row in ROWS.items() if isinstance(row, Arrays))


@pytest.mark.parametrize('name', ARRAY_ROWS)
def test_every_accepted_kind_and_dtype_gives_the_same_result(name):
    row = ROWS[name]
    first = next(iter(row.inputs))
    for param, A in row.inputs.items():
        want = plain(call_with(row, param, A.copy()))
        kinds = ('numpy', 'ndarray') if row.fast else KINDS
        for kind in kinds:
            value = as_kind(A, kind)
            if value is None:
                continue
            if kind not in row.kinds:
                with pytest.raises(TypeError) as info:
                    call_with(row, param, value)
                assert names_parameter(str(info.value), param), (kind, str(info.value))
                continue
            got = call_with(row, param, value)
            if row.returns == 'kind' and param == first:
                result = got[0] if isinstance(got, tuple) else got
                expected = kind if kind in ('ndarray', 'mx.np') else 'numpy'
                assert result_kind(result) == expected, (param, kind)
            if row.same:
                assert_same(plain(got), want, f'{param} as {kind}')
        for dtype in (('float32',) if row.fast else REALS):
            value = A.astype(dtype)
            if dtype in row.accepted_dtypes(param):
                call_with(row, param, value)
            else:
                with pytest.raises(TypeError) as info:
                    call_with(row, param, value)
                assert names_parameter(str(info.value), param), (dtype, str(info.value))


@pytest.mark.parametrize('name', ARRAY_ROWS)
def test_every_refusal_class_is_refused_naming_the_parameter(name):
    row = ROWS[name]
    for param, A in row.inputs.items():
        for refusal in REFUSALS:
            if refusal in row.takes:
                continue
            if refusal == 'rank':
                value = A[(0,) * (A.ndim - 1)] if row.rank is True else A[0]
                if not row.rank or np.ndim(value) in (0, A.ndim):
                    continue  # a scalar ('scalar' covers it), or A itself (1-D)
            else:
                value = refused_input(A, refusal)
            with pytest.raises((TypeError, ValueError)) as info:
                call_with(row, param, value, recording=refusal == 'recorded')
            error = REFUSAL_ERRORS.get(refusal, TypeError)
            assert isinstance(info.value, error), (param, refusal, repr(info.value))
            assert names_parameter(str(info.value), param), (param, refusal,
                                                             str(info.value))


ARGS_ROWS = sorted(name for name, row in ROWS.items() if isinstance(row, Args))


@pytest.mark.parametrize('name', ARGS_ROWS)
def test_functions_without_arrays_refuse_bad_arguments_naming_them(name):
    row = ROWS[name]
    assert row.bad, 'a row of Args needs at least one bad call'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        if row.good is not None:  # None: too slow here (a chapter runs it)
            row.good()
        for call, error, param in row.bad:
            with pytest.raises(error) as info:
                call()
            assert re.search(rf'\b{re.escape(param)}\b', str(info.value)), (
                param, str(info.value))


@pytest.mark.parametrize('name', sorted(n for n, r in ROWS.items() if isinstance(r, NoArgs)))
def test_functions_of_no_arguments_take_none(name):
    parameters = inspect.signature(PUBLIC[name]).parameters.values()
    assert all(p.default is not inspect.Parameter.empty or p.kind in (p.VAR_POSITIONAL,
                                                                       p.VAR_KEYWORD)
               for p in parameters), name


@pytest.mark.parametrize('name', sorted(n for n, r in ROWS.items() if isinstance(r, Step)))
def test_every_step_is_called_by_the_function_it_names(name):
    row = ROWS[name]
    assert row.of in ROWS and not isinstance(ROWS[row.of], Record), row.of
    chain = [row.of, *row.via, name]
    for caller, callee in zip(chain, chain[1:]):
        module, *path = caller.split('.')
        function = importlib.import_module(f'poolbook.{module}')
        for attr in path:
            function = getattr(function, attr)
        source = inspect.getsource(getattr(function, 'py_func', function))
        assert re.search(rf'\b{re.escape(callee.split(".")[-1])}\b', source), (callee,
                                                                               caller)


@pytest.mark.parametrize('name', sorted(n for n, r in ROWS.items() if isinstance(r, Record)))
def test_records_are_named_tuples_or_data_classes(name):
    value = PUBLIC[name]
    assert dataclasses.is_dataclass(value) or (issubclass(value, tuple)
                                               and hasattr(value, '_fields')), name
