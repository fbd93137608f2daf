"""Where pooling sits in real networks: the feature-map shape through LeNet, AlexNet,
VGG-11 and ResNet-18, layer by layer, marking every layer that lowers the resolution.

The networks are Gluon definitions (the model zoo's, and LeNet below), never trained and
never given weights: `trace` calls a network on a symbolic input and asks MXNet to infer
the shape of every intermediate result, so nothing is computed or downloaded. Each
traced layer carries its window, stride and padding, so that its output shape can be
predicted with chapter 2's `output_size` and compared with what MXNet inferred.
"""
import json
from collections import namedtuple

import mxnet as mx
from mxnet.gluon import nn
from mxnet.gluon.model_zoo import vision

from poolbook.geometry import output_size

Layer = namedtuple('Layer', 'op kernel stride pad convention global_pool pool_type '
                            'shape_in shape_out depth')
Layer.__doc__ = """One convolution, pooling or dense layer of a traced network."""

TRACED_OPS = ('Convolution', 'Pooling', 'FullyConnected')


def lenet():
    """LeNet-5 as D2L builds it: two sigmoid convolutions, each followed by 2 x 2
    average pooling at stride 2, then three dense layers."""
    net = nn.HybridSequential()
    net.add(nn.Conv2D(6, kernel_size=5, padding=2, activation='sigmoid'),
            nn.AvgPool2D(pool_size=2, strides=2),
            nn.Conv2D(16, kernel_size=5, activation='sigmoid'),
            nn.AvgPool2D(pool_size=2, strides=2),
            nn.Dense(120, activation='sigmoid'),
            nn.Dense(84, activation='sigmoid'),
            nn.Dense(10))
    return net


def book_networks():
    """The four networks of chapter 6 with the input shape each was designed for.

    Returns
    -------
    dict
        Name: (Gluon network, input shape (1, C, H, W)); LeNet, AlexNet, VGG-11, ResNet-18.
    """
    return {'LeNet': (lenet(), (1, 1, 28, 28)),
            'AlexNet': (vision.alexnet(), (1, 3, 224, 224)),
            'VGG-11': (vision.vgg11(), (1, 3, 224, 224)),
            'ResNet-18': (vision.resnet18_v1(), (1, 3, 224, 224))}


def pair(text):
    """'(3, 3)' as the tuple (3, 3).

    Parameters
    ----------
    text : str

    Returns
    -------
    tuple of int
    """
    return tuple(int(v) for v in text.strip('()').split(',') if v.strip())


def graph_shapes(symbol, input_shape):
    """The shape of every intermediate result of `symbol`, by output name.

    Parameters
    ----------
    symbol : mx.sym.Symbol
    input_shape : tuple of int

    Returns
    -------
    dict
    """
    internals = symbol.get_internals()
    _, shapes, _ = internals.infer_shape(data=input_shape)
    return dict(zip(internals.list_outputs(), shapes))


def depths(nodes):
    """Per graph node: how many convolution and dense layers its longest path passes.

    Parameters
    ----------
    nodes : list of dict
        The nodes of a symbol's JSON graph, each after its inputs.

    Returns
    -------
    list of int
    """
    depth = []
    for node in nodes:
        before = max((depth[i] for i, _, _ in node['inputs']), default=0)
        depth.append(before + (node['op'] in ('Convolution', 'FullyConnected')))
    return depth


def as_layer(node, shape_in, shape_out, depth):
    """The Layer of one graph node, from its attributes and shapes.

    Parameters
    ----------
    node : dict
    shape_in, shape_out : tuple of int
    depth : int

    Returns
    -------
    Layer
    """
    attrs = node.get('attrs', {})
    return Layer(node['op'], pair(attrs.get('kernel', '()')),
                 pair(attrs.get('stride', '()')), pair(attrs.get('pad', '()')),
                 attrs.get('pooling_convention', 'valid'),
                 attrs.get('global_pool') == 'True', attrs.get('pool_type'),
                 shape_in, shape_out, depth)


def trace(net, input_shape):
    """Every convolution, pooling and dense layer of net in order, as a Layer each.

    Parameters
    ----------
    net : mx.gluon.HybridBlock
        Never initialized: MXNet infers the shapes from a symbolic input.
    input_shape : tuple of int

    Returns
    -------
    list of Layer
    """
    symbol = net(mx.sym.var('data'))
    shapes = graph_shapes(symbol, input_shape)
    nodes = json.loads(symbol.tojson())['nodes']  # each node after its inputs
    name = lambda node: node['name'] + ('' if node['op'] == 'null' else '_output')
    source = lambda node: nodes[node['inputs'][0][0]]  # the node making its data input
    return [as_layer(node, shapes[name(source(node))], shapes[name(node)], depth)
            for node, depth in zip(nodes, depths(nodes)) if node['op'] in TRACED_OPS]


def lowers_resolution(layer):
    """True when the layer's output map has fewer rows or columns than its input.

    Parameters
    ----------
    layer : Layer

    Returns
    -------
    bool
    """
    return len(layer.shape_out) == 4 and any(
        o < i for o, i in zip(layer.shape_out[2:], layer.shape_in[2:]))


def describe_layer(layer):
    """A label: 'conv 3x3 /2 pad 1', 'max pool 3x3 /2', 'global avg pool', 'dense'.

    Parameters
    ----------
    layer : Layer

    Returns
    -------
    str
    """
    if layer.op == 'FullyConnected':
        return 'dense'
    if layer.global_pool:
        return f'global {layer.pool_type} pool'
    what = 'conv' if layer.op == 'Convolution' else f'{layer.pool_type} pool'
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = layer.kernel, layer.stride, layer.pad
    text = f'{what} {k_h}x{k_w}' + (f' /{s_h}' if s_h == s_w else f' /({s_h}, {s_w})')
    return text + (f' pad {p_h}' if p_h == p_w and p_h else f' pad ({p_h}, {p_w})'
                   if p_h or p_w else '')


def predicted_shape(layer):
    """The output map's (H, W) by chapter 2's output_size; (1, 1) for a global pool."""
    if layer.global_pool:
        return (1, 1)
    ceil_mode = layer.convention == 'full'
    return tuple(output_size(n, k, s, p, ceil_mode) for n, k, s, p in
                 zip(layer.shape_in[2:], layer.kernel, layer.stride, layer.pad))


def resolution_profile(layers):
    """The map's height at the input and after each convolution and pooling layer, by depth.

    Parameters
    ----------
    layers : list of Layer
        As `trace` returns them.

    Returns
    -------
    depths, sides : list of int
        The points (depth, height): (0, the input's height), then one per distinct
        (depth, height) of the layers' 4-D outputs, in order of depth and, at one depth,
        from the larger height down. Depth counts the convolutions on the longest path
        to a layer (its own included), so a pooling layer shares the depth of the
        convolution before it, and two layers side by side share one point.
    """
    points = {(0, layers[0].shape_in[2])}
    points |= {(x.depth, x.shape_out[2]) for x in layers if len(x.shape_out) == 4}
    points = sorted(points, key=lambda point: (point[0], -point[1]))
    return [d for d, _ in points], [side for _, side in points]


def vgg16():
    """VGG-16 from Gluon's model zoo (configuration D of Simonyan and Zisserman).

    The network whose receptive fields are published (chapter 10); book_networks gives
    the others the same way.

    Returns
    -------
    (gluon.nn.HybridBlock, tuple of int)
        The uninitialized network and its input shape, (1, 3, 224, 224).
    """
    return vision.vgg16(), (1, 3, 224, 224)


def graph(net, input_shape):
    """The nodes of `net`'s graph in order, each after its inputs, with their shapes.

    Parameters
    ----------
    net : gluon.nn.HybridBlock
        The network, called on a symbol to trace it.
    input_shape : tuple of int
        The shape of the input the shapes are inferred for.

    Returns
    -------
    (list of dict, list of tuple or None)
        The nodes as MXNet's JSON holds them (inputs and parameters too), and each
        node's output shape (None where MXNet's shape inference gives it none).
    """
    symbol = net(mx.sym.var('data'))
    shapes = graph_shapes(symbol, input_shape)
    nodes = json.loads(symbol.tojson())['nodes']
    name = lambda node: node['name'] + ('' if node['op'] == 'null' else '_output')
    return nodes, [shapes.get(name(node)) for node in nodes]
