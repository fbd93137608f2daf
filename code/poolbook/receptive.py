"""Receptive fields: which input cells each cell of a layer's output depends on.

A layer's receptive field is described by three numbers per axis (Araujo et al., 2019):
its size r, its effective stride S (how far the field moves when the output cell moves
by one) and its effective padding P, so that output cell i depends on the input cells
i S - P to i S - P + r - 1 (clipped to the input). A window layer (convolution or
pooling) with kernel k, dilation d, stride s and padding p turns (r, S, P) into

    r + d (k - 1) S,    S s,    P + p S,

the input's field being (1, 1, 0). Where paths merge (a residual sum), the field is the
smallest interval holding every path's; their strides must agree. The fields are
computed from the graph of a Gluon network (poolbook.networks.graph) and checked by
autograd (`gradient_support`): through a copy of the graph with one channel, all-ones
kernels and average pooling, nothing cancels, so the input cells with a nonzero
gradient are exactly the field.
"""
from collections import namedtuple

from mxnet import autograd, nd

from poolbook.checks import as_pair, check_int
from poolbook.networks import TRACED_OPS, graph, pair, trace

Field = namedtuple('Field', 'size stride padding')
Field.__doc__ = """The receptive field of a map's cells, each entry an (h, w) pair:
size r, effective stride S and effective padding P; cell i covers i S - P to
i S - P + r - 1."""

INPUT = Field((1, 1), (1, 1), (0, 0))  # each input cell sees itself


def through_window(field, kernel, stride, pad, dilate=(1, 1)):
    """The field after a window layer: r + d (k - 1) S, S s, P + p S per axis."""
    axes = [(r + d * (k - 1) * S, S * s, P + p * S) for r, S, P, k, s, p, d in
            zip(field.size, field.stride, field.padding, kernel, stride, pad, dilate)]
    return Field(*(tuple(v) for v in zip(*axes)))


def merge(fields):
    """The field of a sum of maps: the smallest interval holding each input's field."""
    if len({f.stride for f in fields}) > 1:
        raise ValueError(f"maps with different effective strides cannot be added, got "
                         f"{[f.stride for f in fields]}")
    padding = tuple(max(f.padding[a] for f in fields) for a in (0, 1))
    end = tuple(max(f.size[a] - f.padding[a] for f in fields) for a in (0, 1))
    return Field(tuple(e + p for e, p in zip(end, padding)), fields[0].stride, padding)


def window_of(node, shape_in):
    """Kernel, stride, padding and dilation of a convolution or pooling node (a global
    pooling's window is its whole input map)."""
    attrs = node.get('attrs', {})
    if attrs.get('global_pool') == 'True':
        return tuple(shape_in[2:]), (1, 1), (0, 0), (1, 1)
    get = lambda key, default: pair(attrs.get(key, default))
    return (get('kernel', '(1, 1)'), get('stride', '(1, 1)'), get('pad', '(0, 0)'),
            get('dilate', '(1, 1)'))


def node_fields(nodes, shapes):
    """The Field of every graph node's output, in order; None for a node whose output
    is not a map of the input (a parameter, a dense layer and what follows it)."""
    fields = []
    for node in nodes:
        sources = [i for i, _, _ in node['inputs'] if fields[i] is not None]
        if node['op'] == 'null':
            field = INPUT if node['name'] == 'data' else None
        elif node['op'] in ('FullyConnected', 'Flatten') or not sources:
            field = None
        elif node['op'] in ('Convolution', 'Pooling'):
            field = through_window(fields[sources[0]],
                                   *window_of(node, shapes[sources[0]]))
        else:  # elementwise: activations, normalization, residual sums
            field = merge([fields[i] for i in sources])
        fields.append(field)
    return fields


def network_fields(net, input_shape):
    """Every convolution and pooling layer of net, as networks.trace lists it, with the
    receptive field of its output: a list of (Layer, Field)."""
    nodes, shapes = graph(net, input_shape)
    fields = [f for node, f in zip(nodes, node_fields(nodes, shapes))
              if node['op'] in TRACED_OPS]
    return [(layer, field) for layer, field in zip(trace(net, input_shape), fields)
            if layer.op != 'FullyConnected']


def field_cells(field, cell, input_hw):
    """The input rows and columns output cell (i, j) depends on, clipped to the input:
    (first row, last row, first column, last column)."""
    if not isinstance(field, Field):
        raise TypeError(f"field must be a Field, got {type(field).__name__}")
    cell, input_hw = as_pair(cell, 'cell', 0), as_pair(input_hw, 'input_hw', 1)
    (first_r, last_r), (first_c, last_c) = [
        (max(i * S - P, 0), min(i * S - P + r - 1, n - 1)) for i, r, S, P, n in
        zip(cell, field.size, field.stride, field.padding, input_hw)]
    return first_r, last_r, first_c, last_c


def linear_copy(nodes, shapes, target, x):
    """Run the graph on x (1, 1, H, W) up to node `target` with one channel, all-ones
    kernels, average pooling and every other layer the identity (or a sum)."""
    values = []
    for k, node in enumerate(nodes[:target + 1]):
        maps = [values[i] for i, _, _ in node['inputs'] if values[i] is not None]
        attrs = node.get('attrs', {})
        if node['op'] == 'null':
            value = x if node['name'] == 'data' else None
        elif node['op'] == 'Convolution':
            kernel, stride, pad, dilate = window_of(node, None)
            value = nd.Convolution(maps[0], nd.ones((1, 1) + kernel, dtype=x.dtype),
                                   kernel=kernel, stride=stride, pad=pad, dilate=dilate,
                                   num_filter=1, no_bias=True)
        elif node['op'] == 'Pooling':
            kernel, stride, pad, _ = window_of(node, maps[0].shape)
            value = nd.Pooling(maps[0], kernel=kernel, stride=stride, pad=pad,
                               pool_type='avg', pooling_convention=attrs.get(
                                   'pooling_convention', 'valid'))
        else:
            value = maps[0] if len(maps) == 1 else nd.add_n(*maps)
        values.append(value)
    return values[target]


def gradient_support(net, input_shape, layer, cells):
    """For each cell (i, j) of `cells`: the input rows and columns with a nonzero
    gradient of that cell of the output of net's `layer`-th convolution or pooling
    layer, through its linear copy: (first row, last row, first column, last column)."""
    nodes, shapes = graph(net, input_shape)
    windows = [k for k, node in enumerate(nodes)
               if node['op'] in ('Convolution', 'Pooling')]
    check_int(layer, 'layer', 0, len(windows) - 1)
    out_hw = shapes[windows[layer]][2:]
    cells = [as_pair(cell, 'cells', 0) for cell in cells]
    if any(i >= out_hw[0] or j >= out_hw[1] for i, j in cells):
        raise ValueError(f"cells must lie in the layer's {out_hw} output, got {cells}")
    x = nd.ones((1, 1) + tuple(input_shape[2:]), dtype='float64')
    x.attach_grad()
    with autograd.record():
        y = linear_copy(nodes, shapes, windows[layer], x)
        picked = [y[0, 0, i, j] for i, j in cells]
    supports = []
    for value in picked:  # one backward pass per cell, through the one graph
        value.backward(retain_graph=True)
        g = x.grad[0, 0].asnumpy() != 0
        rows, cols = g.any(axis=1).nonzero()[0], g.any(axis=0).nonzero()[0]
        supports.append((int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])))
    return supports
