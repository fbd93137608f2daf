"""Shape traces of real networks (poolbook.networks).

Where the expected values come from: the architectures as their papers and Gluon define
them, worked out by hand in the comments (e.g. AlexNet: (224 + 2*2 - 11) // 4 + 1 = 55),
and Gluon itself running the network on real data; never the code's own output.
"""
import mxnet as mx
import numpy as np
import pytest
from mxnet import nd

from poolbook.networks import (Layer, book_networks, describe_layer, lenet,
                               lowers_resolution, predicted_shape, resolution_profile,
                               trace)


@pytest.fixture(scope='module')
def traces():
    return {name: trace(net, shape) for name, (net, shape) in book_networks().items()}


def sides(layers, which):
    return [layer.shape_out[2] for layer in layers if which(layer)]


def test_lenet_by_hand(traces):
    # 28 -> conv 5 pad 2: 28 -> avg pool 2/2: 14 -> conv 5: 10 -> avg pool 2/2: 5; dense.
    layers = traces['LeNet']
    assert [layer.op for layer in layers] == ['Convolution', 'Pooling'] * 2 + \
        ['FullyConnected'] * 3
    assert [layer.shape_out for layer in layers] == [
        (1, 6, 28, 28), (1, 6, 14, 14), (1, 16, 10, 10), (1, 16, 5, 5),
        (1, 120), (1, 84), (1, 10)]
    assert [layer.pool_type for layer in layers if layer.op == 'Pooling'] == ['avg', 'avg']


def test_alexnet_by_hand(traces):
    # conv 11/4 pad 2: (224 + 4 - 11) // 4 + 1 = 55; max pool 3/2: (55 - 3) // 2 + 1 = 27;
    # conv 5 pad 2 keeps 27; pool: 13; three conv 3 pad 1 keep 13; pool: 6.
    layers = traces['AlexNet']
    assert sides(layers, lambda x: len(x.shape_out) == 4) == [55, 27, 27, 13, 13, 13, 13, 6]


def test_vgg11_by_hand(traces):
    # 8 convolutions 3 x 3 pad 1 (size kept), 5 max pools 2/2 halving 224 to 7.
    layers = traces['VGG-11']
    assert sides(layers, lambda x: x.op == 'Pooling') == [112, 56, 28, 14, 7]
    assert sum(x.op == 'Convolution' for x in layers) == 8
    assert all(x.kernel == (3, 3) and x.pad == (1, 1) and x.stride == (1, 1)
               for x in layers if x.op == 'Convolution')


def test_resnet18_by_hand(traces):
    # stem conv 7/2 pad 3: 112; max pool 3/2 pad 1: 56; stages at 56, 28, 14, 7, each later
    # stage entered by a stride-2 3 x 3 conv and a stride-2 1 x 1 shortcut; global avg: 1.
    layers = traces['ResNet-18']
    lowering = [(describe_layer(x), x.shape_out[2]) for x in layers if lowers_resolution(x)]
    assert lowering == [('conv 7x7 /2 pad 3', 112), ('max pool 3x3 /2 pad 1', 56),
                        ('conv 1x1 /2', 28), ('conv 3x3 /2 pad 1', 28),
                        ('conv 1x1 /2', 14), ('conv 3x3 /2 pad 1', 14),
                        ('conv 1x1 /2', 7), ('conv 3x3 /2 pad 1', 7),
                        ('global avg pool', 1)]
    assert sum(x.op == 'Convolution' for x in layers) == 20  # 17 on the path + 3 shortcuts


@pytest.mark.parametrize('name, count', [('LeNet', 3), ('AlexNet', 4), ('VGG-11', 5),
                                         ('ResNet-18', 9)])
def test_lowering_layers_counted_by_hand(traces, name, count):
    # LeNet: 2 pools + the unpadded 5 x 5 conv (14 -> 10); AlexNet: conv /4 + 3 pools;
    # VGG-11: 5 pools; ResNet-18: see test_resnet18_by_hand.
    assert sum(map(lowers_resolution, traces[name])) == count


def test_every_traced_map_shape_is_the_output_size_formula(traces):
    for name, layers in traces.items():
        for layer in layers:
            if len(layer.shape_out) == 4:
                assert predicted_shape(layer) == layer.shape_out[2:], (name, layer)


def test_predicted_shape_by_hand():
    # 10 x 9 input, window (3, 2), stride (2, 3), padding (1, 0):
    # (10 + 2 - 3) // 2 + 1 = 5 rows, (9 - 2) // 3 + 1 = 3 columns. Ceil mode: rows
    # ceil(9 / 2) + 1 = 6 (the last start, 10, is before 10 + 1: kept); columns
    # ceil(7 / 3) + 1 = 4, but the last start, 9, is at 9 + 0: dropped, so 3.
    layer = Layer('Pooling', (3, 2), (2, 3), (1, 0), 'valid', False, 'max', (1, 1, 10, 9),
                  None, 0)
    assert predicted_shape(layer) == (5, 3)
    assert predicted_shape(layer._replace(convention='full')) == (6, 3)
    assert predicted_shape(layer._replace(global_pool=True)) == (1, 1)


def test_labels():
    layer = Layer('Convolution', (3, 3), (2, 2), (1, 1), 'valid', False, None,
                  (1, 1, 8, 8), (1, 1, 4, 4), 1)
    assert describe_layer(layer) == 'conv 3x3 /2 pad 1'
    assert describe_layer(layer._replace(op='Pooling', pool_type='avg', stride=(1, 2),
                                         pad=(0, 0))) == 'avg pool 3x3 /(1, 2)'
    assert describe_layer(layer._replace(op='FullyConnected')) == 'dense'


@pytest.mark.parametrize('shape_in, shape_out, lowers', [
    ((1, 1, 4, 10), (1, 1, 5, 3), True),  # fewer columns, more rows: lowers all the same
    ((1, 1, 4, 10), (1, 1, 3, 12), True),  # fewer rows only
    ((1, 1, 4, 10), (1, 1, 4, 10), False),
    ((1, 1, 4, 10), (1, 1, 6, 12), False),  # padding can grow the map
    ((1, 1, 4, 10), (1, 40), False),  # a dense layer's output is no map
])
def test_lowers_resolution_looks_at_each_axis(shape_in, shape_out, lowers):
    layer = Layer('Convolution', (3, 3), (1, 1), (0, 0), 'valid', False, None,
                  shape_in, shape_out, 1)
    assert lowers_resolution(layer) is lowers


def test_resolution_profile(traces):
    # VGG-11 (configuration A: 64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M) on
    # 224: every convolution keeps the height, every pool halves it at the depth of the
    # convolution before it.
    depth, side = resolution_profile(traces['VGG-11'])
    assert list(zip(depth, side)) == [
        (0, 224), (1, 224), (1, 112), (2, 112), (2, 56), (3, 56), (4, 56), (4, 28),
        (5, 28), (6, 28), (6, 14), (7, 14), (8, 14), (8, 7)]
    # AlexNet: conv 11/4 pad 2 gives 55 and the pool after it 27, both at depth 1.
    depth, side = resolution_profile(traces['AlexNet'])
    assert list(zip(depth, side))[:3] == [(0, 224), (1, 55), (1, 27)]
    # LeNet: conv 5 pad 2 keeps 28, pool 14; conv 5 gives 10 and the pool 5, at depth 2.
    assert list(zip(*resolution_profile(traces['LeNet']))) == [
        (0, 28), (1, 28), (1, 14), (2, 10), (2, 5)]
    # ResNet-18: conv 7/2 gives 112 and the max pool 56 at depth 1; each of the three
    # later stages halves once, its projection shortcut and first convolution side by
    # side at one depth (one point); 17 convolutions, then the global pool gives 1.
    depth, side = resolution_profile(traces['ResNet-18'])
    assert list(zip(depth, side))[:3] == [(0, 224), (1, 112), (1, 56)]
    assert depth[-1] == 17 and side[-1] == 1 and side[-2] == 7
    assert sorted(set(side), reverse=True) == [224, 112, 56, 28, 14, 7, 1]
    assert all(a >= b for a, b in zip(side, side[1:]))
    assert len(side) == 18 + 2  # depths 0 to 17, the first and the last twice


def test_trace_matches_running_the_network():
    # Gluon runs LeNet and ResNet-18 (64 x 64) on real data: every traced shape is
    # the shape of the matching layer's real output, in the same order.
    for net, shape, kinds in [(lenet(), (2, 1, 28, 28), (mx.gluon.nn.Conv2D,
                                                         mx.gluon.nn.AvgPool2D,
                                                         mx.gluon.nn.Dense)),
                              (mx.gluon.model_zoo.vision.resnet18_v1(), (1, 3, 64, 64),
                               (mx.gluon.nn.Conv2D, mx.gluon.nn.MaxPool2D,
                                mx.gluon.nn.GlobalAvgPool2D, mx.gluon.nn.Dense))]:
        net.initialize(mx.init.Xavier())
        seen = []

        def hook(block, inputs, output):
            if isinstance(output, nd.NDArray):  # not when trace calls it on a symbol
                seen.append(output.shape)

        net.apply(lambda block: block.register_forward_hook(hook)
                  if isinstance(block, kinds) else None)
        net(nd.array(np.random.default_rng(0).standard_normal(shape)))
        traced = [layer.shape_out for layer in trace(net, shape)]
        assert sorted(seen) == sorted(traced)  # the shortcut runs after its block's body
        assert seen[0] == traced[0] and seen[-1] == traced[-1]
