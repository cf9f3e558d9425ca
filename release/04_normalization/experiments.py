# Course maintainers: edit this file in source/04_normalization/; release/04_normalization/ holds a
# copy made by `python -m autograder release` (see release/README.md).
"""Lesson 2's small CNN with a normalization layer, for Lesson 4's experiments.

    conv 3x3 (padding 1) -> [norm] -> ReLU -> 2x2 max pool -> flatten -> linear -> [norm] -> ReLU
    -> linear -> cross-entropy

The normalization layer is built from the `batch_norm` and `batch_norm_backward`
you write in the notebook, passed in as arguments; nothing here computes a
normalization by itself. Group norm reuses them too: group norm of (N, C, H, W)
is batch norm, in training mode and without weight and bias, of the same
numbers seen as one sample with N * num_groups channels; the per-channel
weight and bias come after.

The convolution is a fast im2col version for 3x3 kernels on small images
(Lesson 2 is where you write a general one).
"""
import time

import numpy as np


# ------------------------------------------------------------------ data

def load_digit_split(seed=0):
    """scikit-learn's 8x8 digits: (x_train, y_train, x_test, y_test), 1,347 / 450 images.

    x: (N, 1, 8, 8) scaled with the training set's mean and standard deviation; y: (N,) labels.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    images = digits.images[:, None].astype(np.float64)
    x_train, x_test, y_train, y_test = train_test_split(images, digits.target, test_size=0.25,
                                                        random_state=seed, stratify=digits.target)
    mean, std = x_train.mean(), x_train.std()
    return (x_train - mean) / std, y_train, (x_test - mean) / std, y_test


# ------------------------------------------------------ layers of lesson 2

def _patches(x):
    """(N, C, H, W) -> (N, H, W, C * 9): the 3x3 neighbourhood of every pixel, zero-padded."""
    n, c, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    shifted = [padded[:, :, a:a + h, b:b + w] for a in range(3) for b in range(3)]
    return np.stack(shifted, axis=2).reshape(n, c * 9, h, w).transpose(0, 2, 3, 1)


def conv3x3(x, w, b):
    """Convolution with 3x3 filters, stride 1, padding 1. x: (N, C, H, W), w: (F, C, 3, 3) -> (N, F, H, W)."""
    out = _patches(x) @ w.reshape(len(w), -1).T + b
    return out.transpose(0, 3, 1, 2)


def conv3x3_backward(grad_out, x, w):
    """Gradients of conv3x3: (grad_x, grad_w, grad_b); grad_out: (N, F, H, W)."""
    n, c, h, wd = x.shape
    g = grad_out.transpose(0, 2, 3, 1).reshape(-1, len(w))          # (N H W, F)
    grad_w = (g.T @ _patches(x).reshape(-1, c * 9)).reshape(w.shape)
    grad_patches = (g @ w.reshape(len(w), -1)).reshape(n, h, wd, c, 9)
    grad_padded = np.zeros((n, c, h + 2, wd + 2))
    for k in range(9):      # each kernel offset sends its share back to the pixels it read
        a, b = divmod(k, 3)
        grad_padded[:, :, a:a + h, b:b + wd] += grad_patches[..., k].transpose(0, 3, 1, 2)
    return grad_padded[:, :, 1:-1, 1:-1], grad_w, grad_out.sum(axis=(0, 2, 3))


def relu(x):
    return np.maximum(x, 0.0)


def max_pool_2x2(x):
    """(N, C, H, W), H and W even -> (N, C, H/2, W/2) and the winners' mask for the backward."""
    n, c, h, w = x.shape
    windows = x.reshape(n, c, h // 2, 2, w // 2, 2)
    out = windows.max(axis=(3, 5))
    mask = windows == out[:, :, :, None, :, None]
    mask = mask / mask.sum(axis=(3, 5), keepdims=True)    # ties share the gradient
    return out, mask


def max_pool_2x2_backward(grad_out, mask):
    n, c, h2, w2 = grad_out.shape
    return (mask * grad_out[:, :, :, None, :, None]).reshape(n, c, 2 * h2, 2 * w2)


def softmax_cross_entropy(scores, y):
    """(mean loss, gradient of the loss with respect to the scores)."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(len(y)), y] + 1e-300))
    p[np.arange(len(y)), y] -= 1
    return loss, p / len(y)


# ------------------------------------------------------ the normalization layer

def _per_channel(vector, ndim):
    """A (C,) vector shaped to broadcast along axis 1 of an (N, C, ...) array of `ndim` axes."""
    return vector.reshape((1, -1) + (1,) * (ndim - 2))


class Normalization:
    """A normalization layer made from the student's batch_norm and batch_norm_backward.

    kind: None (no layer), "batch" or "group". It owns weight (gamma) and bias (beta), one per
    channel, and for batch norm the running statistics used in evaluation.
    """

    def __init__(self, kind, channels, batch_norm, batch_norm_backward, num_groups=4, momentum=0.1, eps=1e-5):
        self.kind, self.groups, self.momentum, self.eps = kind, num_groups, momentum, eps
        self.batch_norm, self.batch_norm_backward = batch_norm, batch_norm_backward
        self.params = [np.ones(channels), np.zeros(channels)] if kind else []
        self.running_mean, self.running_var = np.zeros(channels), np.ones(channels)

    def forward(self, h, training):
        self.h, self.training = h, training
        if self.kind is None:
            return h
        weight, bias = self.params
        if self.kind == "batch":
            return np.asarray(self.batch_norm(h, self.running_mean, self.running_var, weight, bias,
                                              training=training, momentum=self.momentum, eps=self.eps))
        grouped, stats = self._as_batch(h)
        self.z = np.asarray(self.batch_norm(grouped, *stats, training=True, eps=self.eps)).reshape(h.shape)
        return self.z * _per_channel(weight, h.ndim) + _per_channel(bias, h.ndim)

    def backward(self, grad_out):
        """(grad_h, [grad_weight, grad_bias])."""
        if self.kind is None:
            return grad_out, []
        weight, bias = self.params
        if self.kind == "batch":
            grad_h, grad_w, grad_b = self.batch_norm_backward(
                grad_out, self.h, self.running_mean, self.running_var, weight, bias,
                training=self.training, momentum=self.momentum, eps=self.eps)
            return grad_h, [grad_w, grad_b]
        grouped, stats = self._as_batch(self.h)
        grad_z = (grad_out * _per_channel(weight, grad_out.ndim)).reshape(grouped.shape)
        grad_h = self.batch_norm_backward(grad_z, grouped, *stats, training=True, eps=self.eps)[0]
        axes = (0,) + tuple(range(2, grad_out.ndim))
        return np.reshape(grad_h, self.h.shape), [np.sum(grad_out * self.z, axis=axes), grad_out.sum(axis=axes)]

    def _as_batch(self, h):
        """h as one sample of N * groups channels, and throw-away running statistics for it."""
        n = len(h)
        channels = n * self.groups
        return h.reshape(1, channels, -1), (np.zeros(channels), np.ones(channels))


# ------------------------------------------------------------- the network

class SmallCNN:
    """conv 3x3 (8 filters) -> norm -> ReLU -> 2x2 max pool -> linear (32) -> norm -> ReLU -> linear (10).

    The same kind of normalization (None, "batch" or "group") follows the convolution, where each
    channel has H * W values per image, and the hidden linear layer, where each feature has one.
    """

    def __init__(self, norm=None, batch_norm=None, batch_norm_backward=None, filters=8, hidden=32,
                 num_groups=4, seed=0, side=8):
        rng = np.random.default_rng(seed)
        features = filters * (side // 2) ** 2
        self.params = [rng.standard_normal((filters, 1, 3, 3)) * np.sqrt(2 / 9), np.zeros(filters),
                       rng.standard_normal((hidden, features)) * np.sqrt(2 / features), np.zeros(hidden),
                       rng.standard_normal((10, hidden)) * np.sqrt(1 / hidden), np.zeros(10)]
        self.norms = [Normalization(norm, filters, batch_norm, batch_norm_backward, num_groups),
                      Normalization(norm, hidden, batch_norm, batch_norm_backward, num_groups)]

    def all_params(self):
        return self.params + self.norms[0].params + self.norms[1].params

    def scores(self, x, training=False):
        w_conv, b_conv, w_hid, b_hid, w_out, b_out = self.params
        self.n1 = self.norms[0].forward(conv3x3(x, w_conv, b_conv), training)
        self.pooled, self.mask = max_pool_2x2(relu(self.n1))
        self.flat = self.pooled.reshape(len(x), -1)
        self.n2 = self.norms[1].forward(self.flat @ w_hid.T + b_hid, training)
        self.hidden = relu(self.n2)
        return self.hidden @ w_out.T + b_out

    def loss_and_grads(self, x, y):
        """Training-mode forward and backward; returns (loss, gradients in all_params() order)."""
        scores = self.scores(x, training=True)
        loss, grad_scores = softmax_cross_entropy(scores, y)
        w_conv, _, w_hid, _, w_out, _ = self.params
        grads_out = [grad_scores.T @ self.hidden, grad_scores.sum(axis=0)]
        grad_n2 = (grad_scores @ w_out) * (self.n2 > 0)
        grad_z2, norm2_grads = self.norms[1].backward(grad_n2)
        grad_z2 = np.asarray(grad_z2)
        grads_hid = [grad_z2.T @ self.flat, grad_z2.sum(axis=0)]
        grad_pooled = (grad_z2 @ w_hid).reshape(self.pooled.shape)
        grad_n1 = max_pool_2x2_backward(grad_pooled, self.mask) * (self.n1 > 0)
        grad_z1, norm1_grads = self.norms[0].backward(grad_n1)
        _, grad_w_conv, grad_b_conv = conv3x3_backward(np.asarray(grad_z1), x, w_conv)
        return loss, ([grad_w_conv, grad_b_conv] + grads_hid + grads_out
                      + list(norm1_grads) + list(norm2_grads))

    def accuracy(self, x, y):
        return float(np.mean(self.scores(x, training=False).argmax(axis=1) == y))


def train(model, x_train, y_train, x_test, y_test, batch_size=32, learning_rate=0.05, epochs=3,
          momentum=0.9, seed=0, max_seconds=None):
    """Mini-batch SGD with momentum. Returns a history dict.

    history["loss"]: the loss of every step (inf or nan once training diverged, then it stops);
    history["test"]: held-out accuracy after every epoch; history["seconds"]: the wall time.
    """
    rng = np.random.default_rng(seed)
    velocity = [np.zeros_like(p) for p in model.all_params()]
    history = {"loss": [], "test": [], "steps_per_epoch": len(x_train) // batch_size, "diverged": False}
    start = time.perf_counter()
    with np.errstate(all="ignore"):     # a diverging run overflows; it is reported, not warned about
        for _ in range(epochs):
            order = rng.permutation(len(x_train))
            # the last, incomplete batch is dropped: every step sees batch_size images
            for first in range(0, len(order) - batch_size + 1, batch_size):
                batch = order[first:first + batch_size]
                loss, grads = model.loss_and_grads(x_train[batch], y_train[batch])
                history["loss"].append(loss)
                if not np.isfinite(loss) or loss > 1e3:
                    history["diverged"] = True
                    break
                for p, v, g in zip(model.all_params(), velocity, grads):
                    v *= momentum
                    v -= learning_rate * g
                    p += v
            if history["diverged"]:
                break
            history["test"].append(model.accuracy(x_test, y_test))
            if max_seconds is not None and time.perf_counter() - start > max_seconds:
                break
    history["seconds"] = time.perf_counter() - start
    return history


# --------------------------------------------------- statistics through depth

def deep_statistics(x, depth=8, channels=8, gain=1.0, norm=None, seed=0):
    """Mean and standard deviation of each layer's pre-activations in a stack of 3x3 conv + ReLU layers.

    x: (N, 1, H, W). gain: the conv weights' standard deviation is gain * sqrt(2 / fan_in)
    (gain 1 is He initialisation, which keeps the scale of ReLU layers steady on average).
    norm: None, or a function (N, C, H, W) -> (N, C, H, W) applied after each convolution.
    Returns (means, stds), one entry per layer.
    """
    rng = np.random.default_rng(seed)
    means, stds = [], []
    h = x
    for layer in range(depth):
        w = rng.standard_normal((channels, h.shape[1], 3, 3)) * gain * np.sqrt(2 / (h.shape[1] * 9))
        z = conv3x3(h, w, np.zeros(channels))
        if norm is not None:
            z = np.asarray(norm(z))
        means.append(float(z.mean()))
        stds.append(float(z.std()))
        h = relu(z)
    return np.array(means), np.array(stds)
