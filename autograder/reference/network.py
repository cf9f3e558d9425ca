"""The non-convolutional pieces of a small CNN: ReLU, linear, flatten, softmax, cross-entropy.

Each forward function has the name and semantics of its `torch.nn.functional`
(or `torch`) namesake and is followed by its `_backward`, which takes the
upstream gradient `grad_out` (shape of the forward output) and the forward's
array inputs and returns the gradient of each array input.
Everything is computed in float64.
"""
import numpy as np

from ._util import as_float, check_ndim

__all__ = [
    "relu",
    "relu_backward",
    "linear",
    "linear_backward",
    "flatten",
    "flatten_backward",
    "softmax",
    "softmax_backward",
    "cross_entropy",
    "cross_entropy_backward",
]


def _check_same_shape(grad_out, expected_shape, op):
    """Raise ValueError unless grad_out has the forward output's shape."""
    if np.shape(grad_out) != tuple(expected_shape):
        raise ValueError(f"{op}: grad_out must have the output shape {tuple(expected_shape)}, "
                         f"got {np.shape(grad_out)}")


def _normalize_dim(dim, ndim, name):
    """Turn a possibly negative `dim` into an index in [0, ndim), as torch does.

    A 0-D tensor behaves as if it had one dimension: torch accepts dim 0 and -1 for it.
    """
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise ValueError(f"{name} must be in [{-size}, {size - 1}] for a {ndim}-D input, got {dim}")
    return dim % size


# ---------------------------------------------------------------------------- ReLU

def relu(x):
    """max(x, 0) elementwise, as F.relu.

    x:       any shape
    Returns: array of x's shape.
    """
    return np.maximum(as_float(x), 0.0)


def relu_backward(grad_out, x):
    """Gradient of relu with respect to x.

    grad_out: shape of x
    x:        the forward input, any shape
    Returns grad_x of x's shape: grad_out where x > 0, else 0. At x == 0 the
    derivative is taken as 0, the subgradient torch uses.
    """
    x = as_float(x)
    _check_same_shape(grad_out, x.shape, "relu_backward")
    return np.where(x > 0, as_float(grad_out), 0.0)


# --------------------------------------------------------------------------- linear

def _check_linear_args(x, w, b=None):
    if np.ndim(w) != 2:
        raise ValueError(f"linear: w must be 2-D (out_features, in_features), got shape {np.shape(w)}")
    if np.ndim(x) < 1:
        raise ValueError(f"linear: x must have at least 1 dimension (*, in_features), got shape {np.shape(x)}")
    out_features, in_features = np.shape(w)
    if np.shape(x)[-1] != in_features:
        raise ValueError(f"linear: x has {np.shape(x)[-1]} input features (last dimension of shape "
                         f"{np.shape(x)}) but w expects in_features={in_features}")
    if b is not None and np.shape(b) != (out_features,):
        raise ValueError(f"linear: b must have shape (out_features,) = ({out_features},), "
                         f"got {np.shape(b)}")


def linear(x, w, b=None):
    """Affine map x @ w.T + b, as F.linear.

    x:       (*, in_features); any number of leading dimensions, including none
    w:       (out_features, in_features)
    b:       (out_features,) or None
    Returns: (*, out_features)
    """
    _check_linear_args(x, w, b)
    out = as_float(x) @ as_float(w).T
    if b is not None:
        out = out + as_float(b)
    return out


def linear_backward(grad_out, x, w):
    """Gradients of linear with respect to x, w and b.

    grad_out: (*, out_features)
    x:        (*, in_features), the forward input
    w:        (out_features, in_features)
    Returns (grad_x, grad_w, grad_b) of shapes (*, in_features),
    (out_features, in_features) and (out_features,). grad_b is the gradient the
    bias would receive; ignore it when the forward had b=None.
    """
    _check_linear_args(x, w)
    x, w = as_float(x), as_float(w)
    out_features, in_features = w.shape
    _check_same_shape(grad_out, x.shape[:-1] + (out_features,), "linear_backward")
    grad_out = as_float(grad_out)
    # Every leading index is one sample that shares w and b: fold them into one
    # batch axis so the weight gradient is a single matrix product over samples.
    g2 = grad_out.reshape(-1, out_features)
    x2 = x.reshape(-1, in_features)
    grad_x = grad_out @ w
    grad_w = g2.T @ x2
    grad_b = g2.sum(axis=0)
    return grad_x, grad_w, grad_b


# -------------------------------------------------------------------------- flatten

def _flatten_dims(shape, start_dim, end_dim):
    """Validated (start, end) indices of the dimensions torch.flatten merges."""
    ndim = len(shape)
    start = _normalize_dim(start_dim, ndim, "start_dim")
    end = _normalize_dim(end_dim, ndim, "end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim ({start_dim}) cannot come after end_dim ({end_dim}) "
                         f"for a {ndim}-D input")
    return start, end


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dimensions start_dim..end_dim (inclusive) into one, as torch.flatten.

    x:       any shape (d_0, ..., d_{n-1}); a 0-D input becomes shape (1,)
    Returns: (d_0, ..., d_{start-1}, d_start * ... * d_end, d_{end+1}, ..., d_{n-1})
    """
    x = as_float(x)
    start, end = _flatten_dims(x.shape, start_dim, end_dim)
    if x.ndim == 0:
        return x.reshape(1)
    merged = int(np.prod(x.shape[start:end + 1]))
    return x.reshape(x.shape[:start] + (merged,) + x.shape[end + 1:])


def flatten_backward(grad_out, x, start_dim=0, end_dim=-1):
    """Gradient of flatten with respect to x: un-flatten grad_out back to x's shape.

    grad_out: the shape flatten(x, start_dim, end_dim) returns
    x:        the forward input, any shape
    Returns grad_x of x's shape (flatten only moves numbers, so their gradients move back).
    """
    x = as_float(x)
    start, end = _flatten_dims(x.shape, start_dim, end_dim)
    expected = (1,) if x.ndim == 0 else (
        x.shape[:start] + (int(np.prod(x.shape[start:end + 1])),) + x.shape[end + 1:])
    _check_same_shape(grad_out, expected, "flatten_backward")
    return as_float(grad_out).reshape(x.shape)


# -------------------------------------------------------------------------- softmax

def softmax(x, dim=-1):
    """exp(x) / sum(exp(x)) along `dim`, as F.softmax.

    x:       any shape
    Returns: array of x's shape whose entries along `dim` are positive and sum to 1.
    """
    x = as_float(x)
    axis = _normalize_dim(dim, x.ndim, "dim")
    if x.ndim == 0:
        return np.ones_like(x)
    # Subtracting the maximum leaves the ratio unchanged and keeps exp() from
    # overflowing: the largest exponent becomes exp(0) = 1.
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_backward(grad_out, x, dim=-1):
    """Gradient of softmax with respect to x.

    grad_out: shape of x
    x:        the forward input, any shape
    Returns grad_x of x's shape: s * (grad_out - sum(grad_out * s, dim)) with s = softmax(x, dim),
    the Jacobian diag(s) - s s^T applied along `dim`.
    """
    x = as_float(x)
    _check_same_shape(grad_out, x.shape, "softmax_backward")
    s = softmax(x, dim)
    if x.ndim == 0:
        return np.zeros_like(x)
    axis = _normalize_dim(dim, x.ndim, "dim")
    grad_out = as_float(grad_out)
    return s * (grad_out - np.sum(grad_out * s, axis=axis, keepdims=True))


# -------------------------------------------------------------------- cross-entropy

def _check_cross_entropy_args(x, target):
    check_ndim(x, 2, "cross_entropy: x", "(N, K) logits")
    n, k = np.shape(x)
    target = np.asarray(target)
    # dtype kinds "i" and "u": signed and unsigned integers. np.issubdtype says the
    # same but, called once per small batch, costs about half as much as the loss itself.
    if target.dtype.kind not in "iu":
        raise ValueError(f"cross_entropy: target must hold integer class indices, got dtype {target.dtype}")
    if target.shape != (n,):
        raise ValueError(f"cross_entropy: target must have shape (N,) = ({n},), got {target.shape}")
    if n == 0:
        raise ValueError("cross_entropy: x has an empty batch (N = 0); the mean is undefined")
    if target.min() < 0 or target.max() >= k:
        bad = target[(target < 0) | (target >= k)]
        raise ValueError(f"cross_entropy: target values must be in [0, {k - 1}] for K={k} classes, "
                         f"got {bad.tolist()}")
    return target


def cross_entropy(x, target):
    """Mean negative log-likelihood of the target classes, as F.cross_entropy(reduction='mean').

    x:       (N, K) logits (unnormalized scores)
    target:  (N,) integer class indices in [0, K)
    Returns: a float64 scalar (0-D), -mean_n log softmax(x)[n, target[n]].
    """
    target = _check_cross_entropy_args(x, target)
    x = as_float(x)
    n = x.shape[0]
    # -log softmax(x)[t] = log(sum(exp(x))) - x[t]; shifting each row by its max
    # keeps exp() from overflowing and never takes log(0).
    shifted = x - x.max(axis=1, keepdims=True)
    picked = shifted[np.arange(n), target]
    # exp() dominates the cost on big batches; writing it into `shifted` saves an
    # (N, K) allocation.
    log_sum_exp = np.log(np.exp(shifted, out=shifted).sum(axis=1))
    # On small batches the fixed cost of each NumPy call dominates instead: the array
    # methods take a shorter Python path than np.max and np.sum, and sum / N skips
    # np.mean's extra Python code.
    return (log_sum_exp - picked).sum() / n


def cross_entropy_backward(grad_out, x, target):
    """Gradient of cross_entropy with respect to the logits x.

    grad_out: scalar (or 0-D array), the upstream gradient of the loss
    x:        (N, K) logits
    target:   (N,) integer class indices in [0, K)
    Returns grad_x of shape (N, K): (softmax(x, dim=1) - onehot(target)) / N * grad_out.
    """
    target = _check_cross_entropy_args(x, target)
    if np.ndim(grad_out) != 0:
        raise ValueError(f"cross_entropy_backward: grad_out must be a scalar (the loss is 0-D), "
                         f"got shape {np.shape(grad_out)}")
    x = as_float(x)
    n = x.shape[0]
    grad_x = softmax(x, dim=1)
    grad_x[np.arange(n), target] -= 1.0
    return grad_x * (float(grad_out) / n)
