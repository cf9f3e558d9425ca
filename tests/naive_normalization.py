"""Plain-loop twins of the normalization layers: the formulas written out channel by channel and
value by value, independent of the vectorized reference (autograder/reference/normalization.py)."""
import numpy as np


def loop_batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
                    eps=1e-5):
    """One channel at a time, the statistics written out as sums (running stats updated in place)."""
    out = np.empty_like(x, dtype=np.float64)
    for c in range(x.shape[1]):
        values = x[:, c].reshape(-1)
        m = values.size
        if training:
            mean = sum(values) / m
            var = sum((v - mean) ** 2 for v in values) / m
            if running_mean is not None:
                running_mean[c] = (1 - momentum) * running_mean[c] + momentum * mean
                running_var[c] = (1 - momentum) * running_var[c] + momentum * var * m / (m - 1)
        else:
            mean, var = running_mean[c], running_var[c]
        gamma = 1.0 if weight is None else weight[c]
        beta = 0.0 if bias is None else bias[c]
        out[:, c] = gamma * (x[:, c] - mean) / np.sqrt(var + eps) + beta
    return out


def loop_group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    n, c = x.shape[:2]
    per = c // num_groups
    out = np.empty_like(x, dtype=np.float64)
    for i in range(n):
        for g in range(num_groups):
            block = x[i, g * per:(g + 1) * per]
            values = block.reshape(-1)
            mean = sum(values) / values.size
            var = sum((v - mean) ** 2 for v in values) / values.size
            out[i, g * per:(g + 1) * per] = (block - mean) / np.sqrt(var + eps)
    if weight is not None:
        out = out * weight.reshape((1, -1) + (1,) * (x.ndim - 2))
    if bias is not None:
        out = out + bias.reshape((1, -1) + (1,) * (x.ndim - 2))
    return out


def loop_local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0):
    """Channel by channel, the window's channels listed explicitly (AlexNet's formula, torch's window)."""
    out = np.empty_like(x, dtype=np.float64)
    channels = x.shape[1]
    for c in range(channels):
        total = np.zeros_like(x[:, 0])
        for j in range(c - size // 2, c + (size - 1) // 2 + 1):
            if 0 <= j < channels:
                total = total + x[:, j] ** 2
        out[:, c] = x[:, c] / (k + alpha / size * total) ** beta
    return out
