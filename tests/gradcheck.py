"""Numerical gradients for the test-suite: independent evidence for every backward.

`numerical_grad` perturbs one input entry at a time by +-eps and measures the
change of sum(f(...) * grad_out). That scalar's exact gradient is what every
`<op>_backward(grad_out, ...)` returns, so the two must agree to O(eps**2).
"""
import numpy as np


def numerical_grad(f, arrays, index, grad_out, eps=1e-6):
    """Centred-difference gradient of sum(f(*arrays) * grad_out) w.r.t. arrays[index].

    f:        callable taking the arrays positionally and returning one array
    arrays:   list of float64 arrays; arrays[index] is perturbed in place and restored
    grad_out: array of f's output shape (the upstream gradient)
    Returns an array of arrays[index].shape.
    """
    x = arrays[index]
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)  # views: edits reach `x`
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        plus = np.sum(f(*arrays) * grad_out)
        flat[i] = saved - eps
        minus = np.sum(f(*arrays) * grad_out)
        flat[i] = saved
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def assert_grad_close(analytic, numeric, name, rtol=1e-5, atol=1e-7):
    """Compare an analytic and a numerical gradient with a message naming the input.

    The tolerance covers the O(eps**2) truncation error and float64 round-off
    of the centred difference (about 1e-10 / eps for eps = 1e-6).
    """
    np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol,
                               err_msg=f"analytic and numerical gradient of {name} differ")
