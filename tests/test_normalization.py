"""autograder/reference/normalization.py against independent evidence: examples worked by hand,
numerical gradients, identities between the layers, plain-loop twins and (where installed) torch."""
import numpy as np
import pytest

from autograder.reference import normalization as nm
from gradcheck import assert_grad_close, numerical_grad
from naive_normalization import loop_batch_norm, loop_group_norm, loop_local_response_norm

RNG = np.random.default_rng(2024)


# ---------------------------------------------------------------- batch norm

def test_batch_norm_training_worked_example():
    # One channel, values 1, 2, 3, 6: mean 3, biased variance (4 + 1 + 0 + 9) / 4 = 3.5,
    # unbiased 14 / 3; eps = 0 keeps the numbers exact.
    x = np.array([[1.0], [2.0], [3.0], [6.0]])
    running_mean, running_var = np.array([1.0]), np.array([2.0])
    out = nm.batch_norm(x, running_mean, running_var, training=True, momentum=0.25, eps=0.0)
    np.testing.assert_allclose(out[:, 0], (np.array([1, 2, 3, 6]) - 3) / np.sqrt(3.5))
    np.testing.assert_allclose(running_mean, [0.75 * 1 + 0.25 * 3])
    np.testing.assert_allclose(running_var, [0.75 * 2 + 0.25 * 14 / 3])


def test_batch_norm_eval_uses_running_stats_and_leaves_them_alone():
    x = np.array([[[[1.0, 5.0]]], [[[3.0, -1.0]]]])      # (2, 1, 1, 2)
    running_mean, running_var = np.array([1.0]), np.array([4.0])
    out = nm.batch_norm(x, running_mean, running_var, np.array([3.0]), np.array([0.5]), eps=0.0)
    np.testing.assert_allclose(out.reshape(-1), 3.0 * (np.array([1, 5, 3, -1]) - 1) / 2 + 0.5)
    assert running_mean[0] == 1.0 and running_var[0] == 4.0


def test_spatial_batch_norm_statistics_are_per_channel_over_batch_and_pixels():
    x = RNG.standard_normal((3, 4, 5, 2)) * np.array([1, 3, 0.5, 7])[:, None, None] + 10
    out = nm.batch_norm(x, None, None, training=True, eps=0.0)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, atol=1e-12)
    # per pixel the statistics are not 0 and 1: the pixels are pooled, not normalized one by one
    assert np.abs(out.mean(axis=0)).max() > 0.1


@pytest.mark.parametrize("shape", [(64, 5), (4, 5, 3, 3)])
def test_batch_norm_keeps_its_precision_when_the_mean_is_large(shape):
    # a mean of 1e6 and a spread of 1: E[x^2] - E[x]^2 would lose 12 of float64's 16 digits
    x = RNG.standard_normal(shape) + 1e6
    out = nm.batch_norm(x, None, None, training=True, eps=0.0)
    axes = (0,) + tuple(range(2, len(shape)))
    np.testing.assert_allclose(out.mean(axis=axes), 0, atol=1e-9)
    np.testing.assert_allclose(out.var(axis=axes), 1, atol=1e-9)


# (2, 2, 16, 18): rows of 288 pixels, where the affine map broadcasts per-channel columns
@pytest.mark.parametrize("shape", [(6, 2), (3, 2, 4, 4), (2, 2, 16, 18)])
def test_batch_norm_takes_lists_for_its_vectors(shape):
    x = RNG.standard_normal(shape)
    vectors = [[0.5, -1.0], [0.8, 1.5], [2.0, 3.0], [0.25, -0.5]]     # running mean, var, weight, bias
    from_lists = nm.batch_norm(x, *vectors, training=False)
    from_arrays = nm.batch_norm(x, *[np.array(v) for v in vectors], training=False)
    np.testing.assert_allclose(from_lists, from_arrays, atol=1e-15)
    # training updates the running statistics in place, so they must be arrays; weight and bias need not
    from_lists = nm.batch_norm(x, None, None, *vectors[2:], training=True)
    from_arrays = nm.batch_norm(x, None, None, *[np.array(v) for v in vectors[2:]], training=True)
    np.testing.assert_allclose(from_lists, from_arrays, atol=1e-15)


def test_batch_norm_eval_is_a_per_channel_affine_map():
    x = RNG.standard_normal((2, 3, 4, 4))
    mean, var, w, b = RNG.standard_normal(3), RNG.uniform(0.5, 2, 3), RNG.standard_normal(3), RNG.standard_normal(3)
    scale = w / np.sqrt(var + 1e-5)
    expected = x * scale[:, None, None] + (b - mean * scale)[:, None, None]
    np.testing.assert_allclose(nm.batch_norm(x, mean, var, w, b), expected, atol=1e-12)


# (2, 3, 8, 10): 80 pixels per channel, where the variance takes the BLAS row dots;
# (2, 3, 16, 18) and (2, 2, 8200): rows of 288 and 8200 pixels, where the affine map
# broadcasts per-channel columns (under row_buffers for 288) instead of repeated rows
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4, 5), (3, 2, 6), (2, 3, 8, 10), (2, 3, 16, 18),
                                   (2, 2, 8200)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_loop_twin(shape, training):
    x = RNG.standard_normal(shape)
    c = shape[1]
    stats = [RNG.standard_normal(c), RNG.uniform(0.5, 2, c)]
    twin_stats = [s.copy() for s in stats]
    w, b = RNG.standard_normal(c), RNG.standard_normal(c)
    out = nm.batch_norm(x, *stats, w, b, training=training, momentum=0.3, eps=1e-3)
    twin = loop_batch_norm(x, *twin_stats, w, b, training=training, momentum=0.3, eps=1e-3)
    np.testing.assert_allclose(out, twin, atol=1e-12)
    np.testing.assert_allclose(stats[0], twin_stats[0], atol=1e-12)
    np.testing.assert_allclose(stats[1], twin_stats[1], atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 2), (2, 3, 16, 18)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_without_weight_or_bias_matches_loop_twin(shape, training):
    # None weight and bias, on both sides of the 256-pixel switch in the per-channel affine map
    x = RNG.standard_normal(shape)
    c = shape[1]
    stats = [RNG.standard_normal(c), RNG.uniform(0.5, 2, c)]
    twin_stats = [s.copy() for s in stats]
    buffer_size = np.getbufsize()
    for w, b in [(None, None), (RNG.standard_normal(c), None), (None, RNG.standard_normal(c))]:
        out = nm.batch_norm(x, *stats, w, b, training=training)
        twin = loop_batch_norm(x, *twin_stats, w, b, training=training)
        np.testing.assert_allclose(out, twin, atol=1e-12)
        np.testing.assert_allclose(stats, twin_stats, atol=1e-12)
    assert np.getbufsize() == buffer_size


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 3, 2)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_backward_matches_numerical_gradient(shape, training, affine):
    x = RNG.standard_normal(shape)
    c = shape[1]
    mean, var = RNG.standard_normal(c), RNG.uniform(0.5, 2, c)
    w, b = (RNG.standard_normal(c), RNG.standard_normal(c)) if affine else (None, None)
    grad_out = RNG.standard_normal(shape)
    before = mean.copy(), var.copy()
    grad_x, grad_w, grad_b = nm.batch_norm_backward(grad_out, x, mean, var, w, b, training, 0.1, 1e-3)
    assert np.array_equal(mean, before[0]) and np.array_equal(var, before[1]), "backward touched the stats"

    def forward(x, w, b):
        # copies: the training forward updates the running statistics in place
        return nm.batch_norm(x, mean.copy(), var.copy(), w, b, training, 0.1, 1e-3)
    arrays = [x, w, b]
    assert_grad_close(grad_x, numerical_grad(forward, arrays, 0, grad_out), "x")
    if affine:
        assert_grad_close(grad_w, numerical_grad(forward, arrays, 1, grad_out), "weight")
        assert_grad_close(grad_b, numerical_grad(forward, arrays, 2, grad_out), "bias")
    else:
        assert grad_w is None and grad_b is None


def test_batch_norm_training_gradient_sums_to_zero_per_channel():
    # The output's channel mean is 0 whatever x is, so a shift of a whole channel changes nothing.
    x, g = RNG.standard_normal((3, 2, 2, 2)), RNG.standard_normal((3, 2, 2, 2))
    grad_x = nm.batch_norm_backward(g, x, None, None, training=True)[0]
    np.testing.assert_allclose(grad_x.sum(axis=(0, 2, 3)), 0, atol=1e-12)


def test_batch_norm_bad_arguments_name_the_values():
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"running_mean must have shape \(3,\).*\(4,\)"):
        nm.batch_norm(x, np.zeros(4), np.ones(3))
    with pytest.raises(ValueError, match="more than 1 value per channel.*\\(1, 3\\)"):
        nm.batch_norm(np.zeros((1, 3)), np.zeros(3), np.ones(3), training=True)
    with pytest.raises(ValueError, match="needs running_mean and running_var"):
        nm.batch_norm(x, None, None)
    with pytest.raises(ValueError, match="at least 2-D"):
        nm.batch_norm(np.zeros(3), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="weight must have shape"):
        nm.batch_norm(x, np.zeros(3), np.ones(3), weight=np.ones(2))


# ---------------------------------------------------------------- layer norm

def test_layer_norm_worked_example():
    # One sample (2, 4, 6, 8): mean 5, biased variance (9 + 1 + 1 + 9) / 4 = 5.
    out = nm.layer_norm(np.array([[2.0, 4.0, 6.0, 8.0]]), 4, eps=0.0)
    np.testing.assert_allclose(out, [[-3, -1, 1, 3] / np.sqrt(5)])


@pytest.mark.parametrize("shape, normalized_shape", [((3, 5), 5), ((2, 3, 4, 5), (4, 5)), ((2, 3, 4), (2, 3, 4))])
def test_layer_norm_backward_matches_numerical_gradient(shape, normalized_shape):
    x, grad_out = RNG.standard_normal(shape), RNG.standard_normal(shape)
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    w, b = RNG.standard_normal(ns), RNG.standard_normal(ns)
    grads = nm.layer_norm_backward(grad_out, x, normalized_shape, w, b, 1e-3)

    def forward(x, w, b):
        return nm.layer_norm(x, normalized_shape, w, b, 1e-3)
    for index, name in enumerate(["x", "weight", "bias"]):
        assert_grad_close(grads[index], numerical_grad(forward, [x, w, b], index, grad_out), name)
    assert nm.layer_norm_backward(grad_out, x, normalized_shape)[1:] == (None, None)


def test_layer_norm_does_not_depend_on_the_rest_of_the_batch():
    x = RNG.standard_normal((4, 3, 2, 2))
    alone = nm.layer_norm(x[:1], (3, 2, 2))
    np.testing.assert_allclose(nm.layer_norm(x, (3, 2, 2))[:1], alone)


def test_layer_norm_bad_shape():
    with pytest.raises(ValueError, match=r"normalized_shape \(3,\) must be the last axes.*\(2, 4\)"):
        nm.layer_norm(np.zeros((2, 4)), 3)


# ---------------------------------------------------------------- group norm

def test_group_norm_with_one_group_is_layer_norm_over_c_h_w():
    x = RNG.standard_normal((2, 4, 3, 3))
    w, b = RNG.standard_normal(4), RNG.standard_normal(4)
    expected = nm.layer_norm(x, (4, 3, 3)) * w[:, None, None] + b[:, None, None]
    np.testing.assert_allclose(nm.group_norm(x, 1, w, b), expected, atol=1e-12)


def test_group_norm_with_c_groups_is_instance_norm():
    x = RNG.standard_normal((2, 3, 4, 5))
    mean = x.mean(axis=(2, 3), keepdims=True)
    var = x.var(axis=(2, 3), keepdims=True)
    np.testing.assert_allclose(nm.group_norm(x, 3), (x - mean) / np.sqrt(var + 1e-5), atol=1e-12)


# (2, 4, 15, 20): rows of 300 pixels per channel and 600 per group, long enough for the
# passes under row_buffers (NumPy's buffer set to one row, 288 and 592), which the small shapes skip.
@pytest.mark.parametrize("shape, groups", [((2, 6, 3, 2), 1), ((2, 6, 3, 2), 3), ((2, 6, 3, 2), 6),
                                           ((3, 4), 2), ((2, 4, 5), 2), ((2, 4, 15, 20), 2)])
def test_group_norm_matches_loop_twin_and_numerical_gradient(shape, groups):
    x, grad_out = RNG.standard_normal(shape), RNG.standard_normal(shape)
    w, b = RNG.standard_normal(shape[1]), RNG.standard_normal(shape[1])
    np.testing.assert_allclose(nm.group_norm(x, groups, w, b, 1e-3), loop_group_norm(x, groups, w, b, 1e-3),
                               atol=1e-12)
    grads = nm.group_norm_backward(grad_out, x, groups, w, b, 1e-3)

    def forward(x, w, b):
        return nm.group_norm(x, groups, w, b, 1e-3)
    for index, name in enumerate(["x", "weight", "bias"]):
        assert_grad_close(grads[index], numerical_grad(forward, [x, w, b], index, grad_out), name)


def test_group_norm_restores_numpy_buffer_size():
    x = RNG.standard_normal((2, 4, 16, 16))          # rows long enough for row_buffers to act
    buffer_size = np.getbufsize()
    nm.group_norm(x, 2)
    nm.group_norm_backward(RNG.standard_normal(x.shape), x, 2)
    assert np.getbufsize() == buffer_size


def test_group_norm_bad_groups():
    with pytest.raises(ValueError, match="6 channels must split.*num_groups=4"):
        nm.group_norm(np.zeros((1, 6, 2, 2)), 4)


# ------------------------------------------------------- local response norm

def test_local_response_norm_worked_example():
    # Channels 1, 2, 3 at one pixel, size 3, alpha 3, beta 1, k 1: alpha / size = 1 and
    # the window sums of squares are 0 + 1 + 4 = 5, 1 + 4 + 9 = 14, 4 + 9 + 0 = 13.
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    out = nm.local_response_norm(x, 3, alpha=3.0, beta=1.0, k=1.0)
    np.testing.assert_allclose(out.reshape(-1), [1 / 6, 2 / 15, 3 / 14])


def test_local_response_norm_even_size_has_one_more_neighbour_before():
    # size 2: channel c sees c - 1 and c (torch pads 1 before, 0 after).
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    out = nm.local_response_norm(x, 2, alpha=2.0, beta=1.0, k=0.0)
    np.testing.assert_allclose(out.reshape(-1), [1 / 1, 2 / 5, 3 / 13])


def test_local_response_norm_alpha_zero_divides_by_k_to_the_beta():
    x = RNG.standard_normal((2, 5, 3, 3))
    np.testing.assert_allclose(nm.local_response_norm(x, 3, alpha=0.0, beta=0.75, k=2.0), x / 2 ** 0.75)


@pytest.mark.parametrize("shape, size", [((2, 5, 3, 4), 3), ((2, 5, 3, 4), 2), ((1, 3, 4), 7),
                                         ((2, 4, 2, 2, 2), 1), ((1, 6, 2, 3), 5)])
def test_local_response_norm_matches_loop_twin_and_numerical_gradient(shape, size):
    x, grad_out = RNG.standard_normal(shape), RNG.standard_normal(shape)
    kwargs = dict(alpha=0.7, beta=0.8, k=1.5)   # large alpha so the neighbours matter
    np.testing.assert_allclose(nm.local_response_norm(x, size, **kwargs),
                               loop_local_response_norm(x, size, **kwargs), atol=1e-12)
    grad_x = nm.local_response_norm_backward(grad_out, x, size, **kwargs)
    numeric = numerical_grad(lambda x: nm.local_response_norm(x, size, **kwargs), [x], 0, grad_out)
    assert_grad_close(grad_x, numeric, "x")


def test_local_response_norm_bad_arguments():
    with pytest.raises(ValueError, match="size must be an int >= 1, got 0"):
        nm.local_response_norm(np.zeros((1, 2, 2)), 0)
    with pytest.raises(ValueError, match=r"at least 3-D.*\(2, 3\)"):
        nm.local_response_norm(np.zeros((2, 3)), 3)


# ------------------------------------------------------------ torch parity

def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("seed", range(6))
def test_reference_agrees_with_torch_on_random_settings(seed):
    torch = _torch()
    F = torch.nn.functional
    rng = np.random.default_rng(seed)
    shape = [(int(rng.integers(2, 5)), int(rng.integers(1, 5))),
             (int(rng.integers(1, 4)), 2 * int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(1, 5)))][seed % 2]
    shape = (max(shape[0], 2),) + shape[1:]
    x, g = rng.standard_normal(shape), rng.standard_normal(shape)
    c = shape[1]
    w, b = rng.standard_normal(c), rng.standard_normal(c)

    def run(fn, *arrays, **kwargs):
        tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
        out = fn(*tensors, **kwargs)
        out.backward(torch.tensor(g))
        return [out.detach().numpy()] + [t.grad.numpy() for t in tensors]

    # batch norm, both modes, with the running statistics' in-place update
    for training in (True, False):
        mean, var = rng.standard_normal(c), rng.uniform(0.5, 2, c)
        t_mean, t_var = torch.tensor(mean), torch.tensor(var)
        expected = run(lambda x, w, b: F.batch_norm(x, t_mean, t_var, w, b, training, 0.2, 1e-3), x, w, b)
        grads = nm.batch_norm_backward(g, x, mean, var, w, b, training, 0.2, 1e-3)
        got = [nm.batch_norm(x, mean, var, w, b, training, 0.2, 1e-3), *grads]
        for e, o in zip(expected, got):
            np.testing.assert_allclose(o, e, atol=1e-10)
        np.testing.assert_allclose(mean, t_mean.numpy(), atol=1e-12)
        np.testing.assert_allclose(var, t_var.numpy(), atol=1e-12)
    # group norm with every divisor of C
    for groups in [d for d in range(1, c + 1) if c % d == 0]:
        expected = run(lambda x, w, b: F.group_norm(x, groups, w, b, 1e-4), x, w, b)
        got = [nm.group_norm(x, groups, w, b, 1e-4), *nm.group_norm_backward(g, x, groups, w, b, 1e-4)]
        for e, o in zip(expected, got):
            np.testing.assert_allclose(o, e, atol=1e-10)
    # layer norm over the last one or two axes
    ns = shape[-min(2, len(shape) - 1):]
    lw, lb = rng.standard_normal(ns), rng.standard_normal(ns)
    expected = run(lambda x, w, b: F.layer_norm(x, ns, w, b, 1e-4), x, lw, lb)
    got = [nm.layer_norm(x, ns, lw, lb, 1e-4), *nm.layer_norm_backward(g, x, ns, lw, lb, 1e-4)]
    for e, o in zip(expected, got):
        np.testing.assert_allclose(o, e, atol=1e-10)
    # local response norm, odd, even and larger-than-C windows
    if len(shape) >= 3:
        for size in (1, 2, 3, c + 2):
            expected = run(lambda x: F.local_response_norm(x, size, alpha=0.5, beta=0.75, k=1.2), x)
            got = [nm.local_response_norm(x, size, 0.5, 0.75, 1.2),
                   nm.local_response_norm_backward(g, x, size, 0.5, 0.75, 1.2)]
            for e, o in zip(expected, got):
                np.testing.assert_allclose(o, e, atol=1e-10)
