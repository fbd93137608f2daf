"""The training engine of chapter 7 (poolbook.tinynet): the same network as the Gluon
one, the same gradients, Adam's step as MXNet takes it, and the same bits on every CPU.

Expected values come from MXNet Gluon (poolbook.training.make_net, the network the
chapter shows), from PyTorch's torch.nn built here independently, from Python's math
module, and from a second process that pretends to be another CPU; never from the
engine itself.
"""
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mxnet import gluon, nd

from poolbook import tinynet
from poolbook.antialias import binomial_filter
from poolbook.tinynet import (CHANNELS, DOWNSAMPLINGS, HEADS, Networks, exp, gap_maps,
                              init_params, log, logits, loss_and_gradient, param_shapes,
                              predict, train, train_seeds, unpack)
from poolbook.training import digits, gluon_loss_and_gradient, gluon_net, place

VARIANTS = [(kind, head) for kind in DOWNSAMPLINGS for head in HEADS]


@pytest.fixture(scope='module')
def batch():
    """Twelve digits at random places, their labels, and a generator for weights."""
    images, labels = digits()
    rng = np.random.RandomState(5)
    X = place(images[:12], *rng.randint(0, 9, (2, 12)))
    return X, labels[:12]


def close(ours, expected, rtol=1e-4):
    """Whether the engine's float32 result matches a float64 reference: every difference
    within rtol of the reference's largest magnitude (float32 carries about 7 digits; a
    missing term or a wrong weight is off by the size of the numbers themselves)."""
    ours, expected = np.asarray(ours, dtype=np.float64), np.asarray(expected)
    return ours.shape == expected.shape and bool(
        np.abs(ours - expected).max() <= rtol * np.abs(expected).max())


def perturbed_params(kind, head, seed=3):
    """Initial weights plus a little noise, so that no bias is zero (a zero bias would
    hide a bias that the engine forgets to add)."""
    theta = init_params(kind, head, seed)
    noise = np.random.RandomState(seed).uniform(-0.05, 0.05, theta.shape)
    return (theta + noise).astype(theta.dtype)  # numbers the engine holds exactly


# --- the elementary functions ----------------------------------------------------------

def test_exp_and_log_agree_with_the_math_module_to_an_ulp_or_two():
    xs = np.concatenate([np.linspace(-40, 5, 451), [-1e-300, 0.0, 1e-10, 0.5, 1.0]])
    for x in xs:
        expected = math.exp(x)
        assert abs(exp(x) - expected) <= 2 * math.ulp(expected), x
    for x in np.concatenate([np.geomspace(1e-12, 1e12, 481), [1.0, 2.0, 10.0]]):
        expected = math.log(x)
        assert abs(log(x) - expected) <= 2 * math.ulp(expected) + 1e-300, x


def test_exp_and_log_at_the_edges():
    assert exp(0.0) == 1.0 and log(1.0) == 0.0
    assert exp(-800.0) == 0.0 and exp(800.0) == math.inf
    assert log(0.0) == -math.inf and math.isnan(log(-1.0)) and math.isnan(exp(math.nan))


# --- the same network as Gluon's, and as PyTorch's ---------------------------------------

@pytest.mark.parametrize('kind, head', VARIANTS)
def test_scores_loss_and_gradients_are_the_gluon_networks(kind, head, batch):
    X, labels = batch
    theta = perturbed_params(kind, head)
    net = gluon_net(kind, theta, head)
    expected_loss, expected_grads = gluon_loss_and_gradient(net, X, labels)
    scores = net(nd.array(X, dtype='float64')).asnumpy()
    assert close(logits(theta, kind, X, head), scores)
    loss, grads = loss_and_gradient(theta, kind, X, labels, head)
    assert abs(loss - expected_loss) < 1e-5 * expected_loss
    assert len(grads) == len(expected_grads)
    for (name, grad), expected in zip(grads.items(), expected_grads):
        assert grad.shape == expected.shape, name
        assert close(grad, expected), name


class TorchBlur(torch.nn.Module):
    """Zhang's blur written for PyTorch: reflection padding, a fixed binomial filter per
    channel (a grouped convolution) at stride 2."""

    def __init__(self, channels):
        super().__init__()
        f = torch.tensor(binomial_filter(3), dtype=torch.float64)
        self.register_buffer('kernel', torch.outer(f, f).expand(channels, 1, 3, 3))
        self.channels = channels

    def forward(self, x):
        return F.conv2d(F.pad(x, (1, 1, 1, 1), mode='reflect'), self.kernel, stride=2,
                        groups=self.channels)


def torch_net(kind, head, theta):
    """The chapter's network in torch.nn, float64, holding the parameters theta."""
    c1, c2 = CHANNELS

    def down(c):
        if kind == 'max':
            return torch.nn.MaxPool2d(2, 2)
        if kind == 'avg':
            return torch.nn.AvgPool2d(2, 2)
        if kind == 'max-blur':
            return torch.nn.Sequential(torch.nn.MaxPool2d(2, 1), TorchBlur(c))
        return torch.nn.Conv2d(c, c, 2, stride=2)

    layers = [torch.nn.Conv2d(1, c1, 3, padding=1), torch.nn.ReLU(), down(c1),
              torch.nn.Conv2d(c1, c2, 3, padding=1), torch.nn.ReLU(), down(c2)]
    if head == 'global':
        layers.append(torch.nn.AdaptiveAvgPool2d(1))
    features = c2 if head == 'global' else c2 * 16
    net = torch.nn.Sequential(*layers, torch.nn.Flatten(), torch.nn.Linear(features, 10))
    net = net.double()
    params = [p for p in net.parameters()]  # in the order the layers were listed
    arrays = list(unpack(theta, kind, head).values())
    assert [tuple(p.shape) for p in params] == [a.shape for a in arrays]
    with torch.no_grad():
        for p, a in zip(params, arrays):
            p.copy_(torch.from_numpy(a))
    return net, params


@pytest.mark.parametrize('kind, head', VARIANTS)
def test_scores_and_gradients_are_pytorchs(kind, head, batch):
    X, labels = batch
    theta = perturbed_params(kind, head, seed=4)
    net, params = torch_net(kind, head, theta)
    scores = net(torch.from_numpy(X))
    F.cross_entropy(scores, torch.from_numpy(labels)).backward()
    assert close(logits(theta, kind, X, head), scores.detach().numpy())
    _, grads = loss_and_gradient(theta, kind, X, labels, head)
    for (name, grad), p in zip(grads.items(), params):
        assert close(grad, p.grad.numpy()), name


@pytest.mark.parametrize('kind, head', VARIANTS)
def test_digits_at_corners_score_as_the_same_digits_placed_on_canvases(kind, head):
    # The engine's faster path (the first convolution around each digit only) must give
    # the very same scores as the whole canvas: same terms, same order.
    images, _ = digits()
    corners = np.random.RandomState(6).randint(0, 9, (40, 2))
    theta = perturbed_params(kind, head, seed=6)
    canvases = place(images[:40], corners[:, 0], corners[:, 1])
    assert np.array_equal(logits(theta, kind, images[:40], head, corners),
                          logits(theta, kind, canvases, head))


def test_the_global_head_reads_a_larger_canvas_and_the_dense_head_does_not():
    # Global average pooling makes the scores independent of the canvas size; a digit
    # moved by 4 pixels, far from the border, gets the same scores (chapter 7's claim).
    images, _ = digits()
    theta = perturbed_params('max', 'global')
    X = place(images[:5], [10] * 5, [9] * 5, canvas=32)
    moved = place(images[:5], [14] * 5, [9] * 5, canvas=32)
    # (Equal up to the order of the sum of each map: float32's rounding.)
    assert close(logits(theta, 'max', X, 'global'), logits(theta, 'max', moved, 'global'),
                 rtol=1e-6)
    with pytest.raises(ValueError, match="for the 'dense' head"):
        logits(perturbed_params('max', 'dense'), 'max', X, 'dense')


def test_max_pooling_sends_a_tied_gradient_to_the_first_maximum():
    # ReLU makes many windows all zeros, a four-way tie. MXNet and PyTorch send the
    # gradient to the first cell of the window (row by row); so must the engine, or its
    # gradients would differ from theirs for most of the empty canvas.
    x = np.zeros((1, 1, 4, 4, 1), np.float32)  # (seeds, channels, rows, columns, batch)
    y = np.empty((1, 1, 2, 2, 1), np.float32)
    where = np.empty((1, 1, 2, 2, 1), np.float32)
    tinynet._max_forward(x, 2, y, where)
    dx = np.empty_like(x)
    tinynet._max_backward(np.ones_like(y), where, 2, dx)
    assert np.array_equal(dx[0, 0, :, :, 0], [[1, 0, 1, 0], [0, 0, 0, 0],
                                              [1, 0, 1, 0], [0, 0, 0, 0]])


def test_one_adam_step_is_gluons(batch):
    X, labels = batch
    kind, head = 'max-blur', 'dense'
    theta = perturbed_params(kind, head)
    net = gluon_net(kind, theta, head)
    trainer = gluon.Trainer(net.collect_params(), 'adam', {'learning_rate': 0.01})
    gluon_loss_and_gradient(net, X, labels)  # the gradient of the mean loss
    trainer.step(1)
    expected = np.concatenate([p.data().asnumpy().ravel()
                               for p in net.collect_params().values()])
    engine = Networks(kind, head, theta[None])
    engine.loss_and_grad(tinynet.batch_last(X), labels.astype(np.int64)[None])
    mean, var = np.zeros_like(engine.flat), np.zeros_like(engine.flat)
    tinynet.adam_step(engine.flat, engine.grad, mean, var, tinynet.BETA1, tinynet.BETA2,
                      0.01)
    # MXNet's adam_update kernel receives beta1, beta2 and epsilon as float32, and
    # 1 - float32(0.999) = 0.000999987 makes its step larger by about 6e-6 of itself;
    # the engine's new weights are float32, rounded to within 6e-8 of weights below 1.
    step, expected_step = engine.thetas()[0] - theta.astype(np.float64), expected - theta
    assert np.allclose(step, expected_step, rtol=2e-5, atol=2e-7)
    assert np.abs(step).max() > 0.009  # the first step moves a weight by about the rate


# --- training: deterministic, and the same bits on another CPU ---------------------------

def test_networks_trained_together_are_the_networks_trained_alone():
    # train_seeds runs several seeds through each kernel call; each must come out as
    # train makes it alone, bit for bit (the losses and accuracies too).
    images, labels = digits()
    watch = (images[300:340], np.random.RandomState(2).randint(0, 9, (40, 2)), labels[300:340])
    for kind, head in (('max-blur', 'dense'), ('strided conv', 'global')):
        together = train_seeds(kind, images[:96], labels[:96], seeds=[4, 2, 9], head=head,
                               epochs=2, watch=watch)
        for seed, run in zip([4, 2, 9], together):
            alone = train(kind, images[:96], labels[:96], seed=seed, head=head, epochs=2,
                          watch=watch)
            assert all(np.array_equal(a, b) for a, b in zip(run, alone)), (kind, seed)


def test_training_is_deterministic_and_learns():
    images, labels = digits()
    runs = [train('max', images[:160], labels[:160], epochs=3, seed=1) for _ in range(2)]
    assert np.array_equal(runs[0][0], runs[1][0])  # the same weights, bit for bit
    assert np.array_equal(runs[0][1], runs[1][1])
    losses = runs[0][1]
    assert np.isfinite(losses).all() and losses[-1] < losses[0] - 0.1  # it learns


# Another CPU, as the book's other-CPU check pretends to be one: numba compiles for a
# generic x86-64 (no AVX, no FMA), numpy uses none of its AVX kernels, and OpenBLAS
# and MXNet run their oldest kernels (the engine uses neither; they are set as the
# chapter's check sets them).
OTHER_CPU = {'NUMBA_CPU_NAME': 'generic', 'OPENBLAS_CORETYPE': 'Prescott',
             'OPENBLAS_NUM_THREADS': '1', 'MXNET_MKLDNN_ENABLED': '0',
             'DNNL_MAX_CPU_ISA': 'SSE41', 'OMP_NUM_THREADS': '1'}
CHILD = """
import importlib.util, sys
import numpy as np
# Under its own name, so that numba's on-disk cache is shared with the package's.
spec = importlib.util.spec_from_file_location('poolbook.tinynet', sys.argv[1])
tinynet = sys.modules['poolbook.tinynet'] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tinynet)
images, labels = np.load(f'{sys.argv[2]}/images.npy'), np.load(f'{sys.argv[2]}/labels.npy')
for kind, head in (('max-blur', 'dense'), ('strided conv', 'global')):
    theta, losses = tinynet.train(kind, images, labels, head=head, epochs=2, seed=7)
    np.save(f'{sys.argv[2]}/{kind} {head}.npy', np.concatenate([theta, losses]))
"""


def numpy_avx_features():
    """The AVX and FMA kernels numpy would use here (NPY_DISABLE_CPU_FEATURES turns them
    off; naming one this CPU lacks is an error)."""
    from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    return ' '.join(f for f in __cpu_dispatch__ if __cpu_features__.get(f)
                    and (f.startswith('AVX') or f == 'FMA3'))


@pytest.mark.child
def test_training_gives_the_same_bits_on_another_cpu(tmp_path):
    # The child loads the engine alone (it imports nothing from poolbook, hence no MXNet)
    # and trains two variants for two epochs; here the same runs, then bit for bit.
    images, labels = digits()
    images, labels = images[:96], labels[:96]
    np.save(tmp_path / 'images.npy', images)
    np.save(tmp_path / 'labels.npy', labels)
    env = {**os.environ, **OTHER_CPU, 'NPY_DISABLE_CPU_FEATURES': numpy_avx_features()}
    result = subprocess.run([sys.executable, '-c', CHILD, tinynet.__file__, str(tmp_path)],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    for kind, head in (('max-blur', 'dense'), ('strided conv', 'global')):
        theta, losses = train(kind, images, labels, head=head, epochs=2, seed=7)
        other = np.load(tmp_path / f'{kind} {head}.npy')
        assert other.tobytes() == np.concatenate([theta, losses]).tobytes(), kind


# --- the parameters, and what the engine refuses -----------------------------------------

def test_the_parameters_are_gluons_in_order_and_shape():
    for kind, head in VARIANTS:
        net = gluon_net(kind, init_params(kind, head), head)
        shapes = [shape for _, shape in param_shapes(kind, head)]
        assert shapes == [p.shape for p in net.collect_params().values()]


def test_initial_weights_are_he_uniform_and_biases_zero():
    params = unpack(init_params('max', 'dense', seed=0), 'max', 'dense')
    c1, c2 = CHANNELS
    w = params['conv2 weight']  # fan_in = c1 * 3 * 3
    bound = math.sqrt(6 / (9 * c1))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.mean()) < 0.1 * bound and abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    assert not params['conv1 bias'].any() and not params['dense bias'].any()


@pytest.mark.parametrize('call, error, words', [
    (lambda: init_params('min'), ValueError, ['kind', "'min'"]),
    (lambda: init_params('max', 'flat'), ValueError, ['head', "'flat'"]),
    (lambda: unpack(np.zeros(5), 'max'), ValueError, ['theta has 5 numbers']),
    (lambda: predict(init_params('max'), 'max', np.zeros((2, 1, 8, 8))), ValueError,
     ['X must have shape']),
    (lambda: train('max', np.zeros((4, 8, 8)), np.zeros(4, int), epochs=0), ValueError,
     ['epochs']),
    (lambda: train('max', np.zeros((4, 8, 8)), np.zeros(4, int), batch_size=2.0),
     ValueError, ['batch_size']),
    (lambda: train('max', np.zeros((4, 8, 8)), np.full(4, 10), epochs=1), ValueError,
     ['labels']),
    (lambda: train('max', np.zeros((4, 9, 9)), np.zeros(4, int), epochs=1), ValueError,
     ['images must have shape']),
    (lambda: train('max', np.zeros((4, 8, 8)), np.zeros(4, int), learning_rate=0),
     ValueError, ['learning_rate']),
    (lambda: predict(init_params('max'), 'max', np.zeros((2, 8, 8)), 'dense',
                     np.array([[0, 0], [0, 9]])), ValueError, ['corners', 'from 0 to 8']),
    (lambda: predict(init_params('max'), 'max', np.zeros((2, 8, 8)), 'dense',
                     np.zeros((3, 2), int)), ValueError, ['corners', '2 pairs']),
    (lambda: predict(init_params('max'), 'max', np.zeros((2, 8, 8)), 'dense',
                     np.zeros((2, 2))), ValueError, ['corners', 'integers']),
])
def test_the_engine_refuses_what_it_cannot_compute(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), str(info.value)


def test_the_engine_loaded_alone_imports_nothing_from_poolbook():
    # The other-CPU test loads the module on its own: then it must import nothing from
    # poolbook (which would bring MXNet into the child). Imported as part of the package,
    # it takes poolbook.kernels' njit, whose disk cache never stops an import.
    code = ("import importlib.util, sys\n"
            "spec = importlib.util.spec_from_file_location('poolbook.tinynet', sys.argv[1])\n"
            "module = sys.modules['poolbook.tinynet'] = importlib.util.module_from_spec(spec)\n"
            "spec.loader.exec_module(module)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('poolbook', 'mxnet')))")
    done = subprocess.run([sys.executable, '-c', code, tinynet.__file__],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split('\n')[-2] == "['poolbook.tinynet']"


# --- what chapter 10's class activation maps need ----------------------------------------

def test_gap_maps_are_what_the_gluon_networks_global_pooling_reads():
    images, _ = digits()
    kind = 'max-blur'
    theta = perturbed_params(kind, 'global', seed=8)
    corners = np.random.RandomState(8).randint(0, 9, (6, 2))
    X = place(images[:6], corners[:, 0], corners[:, 1])
    maps, weight, bias = gap_maps(theta, kind, X)
    net = gluon_net(kind, theta, 'global')
    x = nd.array(X, dtype='float64')
    for k in range(4):  # conv, downsampling, conv, downsampling: then the global pooling
        x = net[k](x)
    assert maps.shape == (6, CHANNELS[1], 4, 4) and close(maps, x.asnumpy())
    params = unpack(theta, kind, 'global')
    assert np.array_equal(weight, params['dense weight'])
    assert np.array_equal(bias, params['dense bias'])
    # The scores are the dense layer on the mean of each map.
    assert close(maps.mean(axis=(2, 3)) @ weight.T + bias, logits(theta, kind, X, 'global'))
    # Digits with their corners give the very maps of the canvases.
    assert np.array_equal(gap_maps(theta, kind, images[:6], corners)[0], maps)


def test_gap_maps_read_a_larger_canvas():
    images, _ = digits()
    theta = perturbed_params('max', 'global', seed=9)
    X = place(images[:3], [10] * 3, [12] * 3, canvas=32)
    maps, _, _ = gap_maps(theta, 'max', X)
    assert maps.shape == (3, CHANNELS[1], 8, 8)


@pytest.mark.parametrize('call, words', [
    (lambda: train_seeds('max', np.zeros((4, 8, 8)), np.zeros(4, int), seeds=[]),
     ['seeds']),
    (lambda: gap_maps(init_params('max', 'dense'), 'max', np.zeros((2, 1, 16, 16))),
     ['theta has']),
])
def test_train_seeds_and_gap_maps_refuse_what_has_no_answer(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value), str(info.value)
