"""Receptive fields (poolbook.receptive).

Where the expected values come from: the table of receptive fields that Araujo, Norris
and Sim computed for TF-Slim's networks (google-research/receptive_field,
RECEPTIVE_FIELD_TABLE.md; their Distill article, 2019), for the layers whose
architecture is the same; autograd (the input cells with a nonzero gradient of one
output cell); and cases worked out by hand.
"""
import pytest

from poolbook.networks import book_networks, vgg16
from poolbook.receptive import (INPUT, Field, field_cells, gradient_support, merge,
                                network_fields, through_window)

# Published (receptive field, effective stride, effective padding) per end-point.
VGG_16 = {'conv1_1': (3, 1, 1), 'pool1': (6, 2, 2), 'conv2_1': (10, 2, 4),
          'pool2': (16, 4, 6), 'conv3_1': (24, 4, 10), 'conv3_2': (32, 4, 14),
          'pool3': (44, 8, 18), 'conv4_1': (60, 8, 26), 'conv4_2': (76, 8, 34),
          'pool4': (100, 16, 42), 'conv5_1': (132, 16, 58), 'conv5_2': (164, 16, 74),
          'pool5': (212, 32, 90)}
VGG_A = {'conv1_1': (3, 1, 1), 'pool1': (4, 2, 1), 'conv2_1': (8, 2, 3),
         'pool2': (10, 4, 3), 'conv3_1': (18, 4, 7), 'conv3_2': (26, 4, 11),
         'pool3': (30, 8, 11), 'conv4_1': (46, 8, 19), 'conv4_2': (62, 8, 27),
         'pool4': (70, 16, 27), 'conv5_1': (102, 16, 43), 'conv5_2': (134, 16, 59),
         'pool5': (150, 32, 59)}
ALEXNET_V2 = {'conv1': (11, 4, 0), 'pool1': (19, 8, 0), 'conv2': (51, 8, 16),
              'conv3': (99, 16, 32), 'conv4': (131, 16, 48), 'conv5': (163, 16, 64),
              'pool5': (195, 32, 64)}


def vgg_names(layers):
    """conv1_1, conv1_2, pool1, conv2_1, ...: VGG's names, by position."""
    names, block, conv = [], 1, 0
    for layer, _ in layers:
        if layer.op == 'Pooling':
            names.append(f'pool{block}')
            block, conv = block + 1, 0
        else:
            conv += 1
            names.append(f'conv{block}_{conv}')
    return names


def as_numbers(field):
    assert field.size[0] == field.size[1] and field.stride[0] == field.stride[1]
    return field.size[0], field.stride[0], field.padding[0]


def test_one_window_by_hand():
    # A 3 x 3 convolution at stride 2, padding 1 on the input: field 3, stride 2, pad 1;
    # then a 2 x 2 pool at stride 2: 3 + (2 - 1) 2 = 5, stride 4, padding 1.
    conv = through_window(INPUT, (3, 3), (2, 2), (1, 1))
    assert conv == Field((3, 3), (2, 2), (1, 1))
    assert through_window(conv, (2, 2), (2, 2), (0, 0)) == Field((5, 5), (4, 4), (1, 1))
    # Dilation 2 makes a 3-tap kernel span 5 cells.
    assert through_window(INPUT, (3, 1), (1, 1), (2, 0), (2, 1)).size == (5, 1)
    # Cell 0 of the pool covers -1..3, cell 2 covers 7..11; clipped to a 10-cell input.
    field = Field((5, 5), (4, 4), (1, 1))
    assert field_cells(field, (0, 2), (10, 10)) == (0, 3, 7, 9)


def test_merge_by_hand():
    a = Field((5, 5), (2, 2), (2, 2))   # cell i: 2i - 2 .. 2i + 2
    b = Field((1, 1), (2, 2), (0, 0))   # cell i: 2i .. 2i
    assert merge([a, b]) == a
    c = Field((3, 3), (2, 2), (-1, -1))  # cell i: 2i + 1 .. 2i + 3
    assert merge([a, c]) == Field((6, 6), (2, 2), (2, 2))  # 2i - 2 .. 2i + 3
    with pytest.raises(ValueError, match='strides'):
        merge([a, Field((1, 1), (1, 1), (0, 0))])


@pytest.mark.parametrize('name, table', [('VGG-16', VGG_16), ('VGG-11', VGG_A)])
def test_vgg_equals_the_published_table(name, table):
    net, shape = vgg16() if name == 'VGG-16' else book_networks()[name]
    layers = network_fields(net, shape)
    fields = dict(zip(vgg_names(layers), (f for _, f in layers)))
    assert set(table) <= set(fields)
    for end_point, published in table.items():
        assert as_numbers(fields[end_point]) == published, end_point


def test_alexnet_equals_alexnet_v2_but_for_the_first_padding():
    # Gluon's AlexNet pads its first convolution by 2, TF-Slim's alexnet_v2 by 0 (VALID):
    # same fields and strides, every effective padding 2 larger.
    net, shape = book_networks()['AlexNet']
    layers = network_fields(net, shape)
    names = ['conv1', 'pool1', 'conv2', 'pool2', 'conv3', 'conv4', 'conv5', 'pool5']
    assert len(layers) == len(names)
    fields = dict(zip(names, (f for _, f in layers)))
    for end_point, (size, stride, padding) in ALEXNET_V2.items():
        assert as_numbers(fields[end_point]) == (size, stride, padding + 2), end_point


@pytest.mark.parametrize('name', ['LeNet', 'AlexNet', 'VGG-11', 'ResNet-18', 'VGG-16'])
def test_every_layer_equals_the_gradient_support(name):
    net, shape = vgg16() if name == 'VGG-16' else book_networks()[name]
    layers = network_fields(net, shape)
    assert layers
    for k, (layer, field) in enumerate(layers):
        n_h, n_w = layer.shape_out[2:]
        cells = [(0, 0), (n_h // 2, n_w // 2), (n_h - 1, n_w - 1), (0, n_w - 1)]
        want = [field_cells(field, cell, shape[2:]) for cell in cells]
        assert gradient_support(net, shape, k, cells) == want, (name, k)


def test_resnet_merges_paths():
    # By hand: conv 7x7 /2 pad 3: (7, 2, 3); max pool 3x3 /2 pad 1: 7 + 2*2 = 11, 4,
    # 3 + 2 = 5; four 3x3 convs at stride 4: 11 + 4*8 = 43, 4, 5 + 4*4 = 21. The
    # shortcut 1x1 /2 keeps 43 and 21 at stride 8; the main path (3x3 /2, then three 3x3)
    # grows to 43 + 8 + 3*16 = 99, padding 21 + 4 + 3*8 = 49, and the sum takes the
    # larger. Stages 3 and 4 the same way: 99 + 16 + 3*32 = 211, 49 + 8 + 3*16 = 105;
    # 211 + 32 + 3*64 = 435, 105 + 16 + 3*32 = 217.
    net, shape = book_networks()['ResNet-18']
    layers = network_fields(net, shape)
    shortcut = [f for layer, f in layers if layer.kernel == (1, 1)][0]
    assert as_numbers(shortcut) == (43, 8, 21)
    last = layers[-2][1]  # the last convolution before the global pool
    assert as_numbers(last) == (435, 32, 217)


def torch_gradient_support(net, input_shape, cells):
    """gradient_support of net's last window layer, through the same linear copy
    written with PyTorch's operators (F.conv2d, F.avg_pool2d, a sum) and autograd."""
    import torch
    import torch.nn.functional as F
    from poolbook.networks import graph
    from poolbook.receptive import window_of
    nodes, _ = graph(net, input_shape)
    last = [k for k, node in enumerate(nodes) if node['op'] in ('Convolution', 'Pooling')][-1]
    x = torch.ones((1, 1) + tuple(input_shape[2:]), dtype=torch.float64, requires_grad=True)
    values = []
    for node in nodes[:last + 1]:
        maps = [values[i] for i, _, _ in node['inputs'] if values[i] is not None]
        if node['op'] == 'null':
            value = x if node['name'] == 'data' else None
        elif node['op'] == 'Convolution':
            kernel, stride, pad, dilate = window_of(node, None)
            value = F.conv2d(maps[0], torch.ones((1, 1) + kernel, dtype=torch.float64),
                             stride=stride, padding=pad, dilation=dilate)
        elif node['op'] == 'Pooling':
            kernel, stride, pad, _ = window_of(node, tuple(maps[0].shape))
            full = node['attrs'].get('pooling_convention') == 'full'
            value = F.avg_pool2d(maps[0], kernel, stride, pad, ceil_mode=full)
        else:
            value = maps[0] if len(maps) == 1 else sum(maps)
        values.append(value)
    supports = []
    for cell in cells:
        g = torch.autograd.grad(values[-1][0, 0][cell], x, retain_graph=True)[0][0, 0]
        rows, cols = g.any(dim=1).nonzero(), g.any(dim=0).nonzero()
        supports.append((int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])))
    return supports


@pytest.mark.parametrize('name', ['LeNet', 'AlexNet', 'ResNet-18'])
def test_the_linear_copy_in_pytorch_has_the_same_support(name):
    net, shape = book_networks()[name]
    layers = network_fields(net, shape)
    n_h, n_w = layers[-1][0].shape_out[2:]
    cells = [(0, 0), (n_h // 2, n_w // 2), (n_h - 1, n_w - 1), (0, n_w - 1)]
    want = [field_cells(layers[-1][1], cell, shape[2:]) for cell in cells]
    assert torch_gradient_support(net, shape, cells) == want
    assert gradient_support(net, shape, len(layers) - 1, cells) == want
