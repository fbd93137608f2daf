"""Class activation maps (Zhou et al. 2016): where in the image a network with a global
average pooling head finds the evidence for a class (chapter 10).

Such a head scores class c as score_c = sum_k w[c, k] * mean(F_k) + b_c, where F_k are
the last feature maps. The mean is linear, so the score is the mean of one map,
CAM_c = sum_k w[c, k] * F_k, plus b_c: the class activation map spreads the score over
the cells of the last maps. `class_activation_map` computes it from the maps and the
dense layer's weights (for chapter 7's network, `poolbook.tinynet.gap_maps` gives both).
"""
import numpy as np

from poolbook.arrays import check_kind, like_input, sum_dtype, to_numpy
from poolbook.checks import check_input, is_int


def check_cam_args(maps, weights, label):
    """Check class_activation_map's arguments and return them ready for its sum.

    Parameters
    ----------
    maps, weights, label
        As class_activation_map takes them.

    Returns
    -------
    maps, weights : numpy.ndarray
        The two arrays as numpy.
    labels : numpy.ndarray of int64
        The class, 0-d, or one per image (N,).
    dtype : numpy.dtype
        The dtype to add in: float32 or float64.
    """
    check_input(maps, ndims=(3, 4), name='maps')
    check_kind(weights, 'weights')
    if weights.ndim != 2 or 0 in weights.shape:
        raise ValueError(f"weights must have shape (classes, channels), got "
                         f"{tuple(weights.shape)}")
    if np.dtype(weights.dtype).kind not in 'iuf':
        raise TypeError(f"weights must hold real numbers, got dtype "
                        f"{np.dtype(weights.dtype).name}")
    channels, classes = maps.shape[-3], weights.shape[0]
    if weights.shape[1] != channels:
        raise ValueError(f"weights must have one column per channel of maps "
                         f"({channels}), got shape {tuple(weights.shape)}")
    if is_int(label):
        labels = np.array(label, dtype=np.int64)
    elif isinstance(label, np.ndarray) and label.ndim == 1 and maps.ndim == 4:
        if label.dtype.kind not in 'iu':
            raise TypeError(f"label must hold integers, got dtype {label.dtype.name}")
        if label.shape != maps.shape[:1]:
            raise ValueError(f"label must hold one class per image of maps "
                             f"({maps.shape[0]}), got shape {label.shape}")
        labels = label.astype(np.int64)
    else:
        raise TypeError(f"label must be an int (or, with maps (N, C, h, w), an integer "
                        f"numpy array (N,)), got {type(label).__name__}")
    if labels.size and not (labels.min() >= 0 and labels.max() < classes):
        raise ValueError(f"label must lie from 0 to {classes - 1} (one per row of "
                         f"weights), got {label!r}")
    dtype = max(sum_dtype(maps.dtype), sum_dtype(weights.dtype), key=lambda d: d.itemsize)
    return to_numpy(maps, 'maps'), to_numpy(weights, 'weights'), labels, dtype


def class_activation_map(maps, weights, label):
    """The class activation map of class `label`: the maps summed with its weights.

    The sum over k of weights[label, k] * maps[..., k, :, :].

    Parameters
    ----------
    maps : array of shape (C, h, w) or (N, C, h, w)
        The feature maps the global average pooling reads (one image, or N): numpy
        array, mx.nd.NDArray or mx.np.ndarray of real numbers.
    weights : array of shape (classes, C)
        The dense layer after the pooling: class c scores weights[c] @ (the maps' means)
        plus its bias.
    label : int, or integer numpy array of shape (N,)
        The class, from 0 to classes - 1; with N images, one class for all or one each.

    Returns
    -------
    array of shape (h, w) or (N, h, w), maps' kind
        The weighted sum of the maps, added channel by channel in order, in float32 (for
        float16 and float32 maps and weights) or float64 (if either is float64 or
        integer). Its mean plus the class's bias is the network's score for the class.
    """
    A, W, labels, dtype = check_cam_args(maps, weights, label)
    F = A.astype(dtype, copy=False)
    w = W.astype(dtype, copy=False)[labels]  # (C,) or (N, C): each image's class row
    cam = np.zeros(F.shape[:-3] + F.shape[-2:], dtype)
    for k in range(F.shape[-3]):
        weight = w[..., k] if w.ndim == 1 else w[:, k, None, None]
        cam += weight * F[..., k, :, :]
    return like_input(cam, maps)
