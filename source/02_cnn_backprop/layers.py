# Course maintainers: edit this file in source/02_cnn_backprop/; release/02_cnn_backprop/ holds a
# copy made by `python -m autograder release` (see release/README.md).
"""The layers of Lesson 2's network that are not this lesson's exercises.

ReLU, 2x2 max pooling, a fully connected layer and the cross-entropy loss,
each with its backward right below it. Backward functions take the upstream
gradient `grad_out` (shape of the forward output) first, then the forward's
inputs, and return the gradient of each array input.

The pooling here is deliberately narrow: a 2x2 window with stride 2 on an
input of even height and width, done with a reshape. Lesson 1 is where you
write the general `max_pool2d` (any kernel, stride, padding, ceil_mode).
"""
import numpy as np


# ---------------------------------------------------------------------- ReLU

def relu(x):
    """max(x, 0) elementwise. x: any shape; returns the same shape."""
    return np.maximum(x, 0.0)


def relu_backward(grad_out, x):
    """grad_out where x > 0, else 0 (the derivative at exactly 0 is taken as 0).

    grad_out, x: the same shape; returns grad_x of that shape.
    """
    return grad_out * (x > 0)


# -------------------------------------------------------- 2x2 max pooling

def _windows_2x2(x):
    """(N, C, H, W) -> (N, C, H/2, W/2, 4): the four pixels of every window, row-major."""
    n, c, h, w = x.shape
    if h % 2 or w % 2:
        raise ValueError(f"max_pool_2x2 needs an even height and width, got {h} x {w}")
    windows = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5)
    return windows.reshape(n, c, h // 2, w // 2, 4)


def max_pool_2x2(x):
    """Max over non-overlapping 2x2 windows. x: (N, C, H, W), H and W even -> (N, C, H/2, W/2)."""
    return _windows_2x2(x).max(axis=-1)


def max_pool_2x2_backward(grad_out, x):
    """Gradient of max_pool_2x2 with respect to x.

    grad_out: (N, C, H/2, W/2); x: (N, C, H, W), the forward input.
    Returns grad_x (N, C, H, W): each window's gradient goes to the pixel that
    won its max (the first one, row by row, when several tie); the other
    three pixels did not affect the output, so their gradient is 0.
    """
    n, c, h, w = x.shape
    winner = _windows_2x2(x).argmax(axis=-1)                 # argmax picks the first of ties
    routed = (np.arange(4) == winner[..., None]) * grad_out[..., None]
    routed = routed.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5)
    return routed.reshape(n, c, h, w)


# ------------------------------------------------------ fully connected layer

def linear(x, w, b):
    """x @ w.T + b. x: (N, in_features), w: (out_features, in_features), b: (out_features,).

    Returns (N, out_features).
    """
    return x @ w.T + b


def linear_backward(grad_out, x, w):
    """Gradients of linear: returns (grad_x, grad_w, grad_b).

    grad_out: (N, out_features); x: (N, in_features); w: (out_features, in_features).
    grad_x = grad_out @ w, (N, in_features); grad_w = grad_out.T @ x, the shape of w;
    grad_b sums grad_out over the batch, (out_features,).
    """
    return grad_out @ w, grad_out.T @ x, grad_out.sum(axis=0)


# ------------------------------------------------ softmax and cross-entropy

def softmax(x):
    """Softmax over the last axis. x: (N, K) scores -> (N, K), each row positive and summing to 1."""
    # Subtracting the row maximum changes nothing mathematically and keeps exp() from overflowing.
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy(x, target):
    """Mean over the batch of -log softmax(x)[n, target[n]].

    x: (N, K) scores (logits); target: (N,) integer classes in [0, K).
    Returns a float.
    """
    p = softmax(x)[np.arange(len(target)), target]
    return float(-np.mean(np.log(p)))


def cross_entropy_backward(grad_out, x, target):
    """Gradient of cross_entropy with respect to the scores x.

    grad_out: a float, the upstream gradient of the loss (1.0 when the loss is the end).
    x: (N, K); target: (N,). Returns grad_x (N, K) = (softmax(x) - onehot(target)) / N * grad_out;
    the 1/N comes from the mean over the batch.
    """
    grad = softmax(x)
    grad[np.arange(len(target)), target] -= 1.0
    return grad * (grad_out / len(target))
