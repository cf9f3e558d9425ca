"""Making convolution fast: window views, im2col / col2im, and Winograd's minimal filtering.

Lesson 5 builds conv2d, its backward pass and max pooling from these pieces;
the conv2d, conv2d_backward and max_pool2d it grades are the ones of
`autograder.reference.conv` and `autograder.reference.pooling` (same names,
same numbers), so this module exports only what is new:

* `pool_windows`: every pooling window as a view, (N, C, H_out, W_out, kH, kW);
* `im2col` / `col2im`: torch.nn.functional.unfold / fold. Column l of sample n
  holds the receptive field of output position l, its rows run channel-major
  (c, u, v), the order of w.reshape(C_out, -1); col2im is im2col's adjoint,
  so it *adds* where windows overlap;
* `winograd_f23` and `winograd_conv2d`: F(2, 3) and F(2x2, 3x3) (Lavin & Gray,
  2016), 4 multiplications instead of 6 for two outputs of a 3-tap filter,
  16 instead of 36 for a 2x2 output tile of a 3x3 filter.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograder.reference._util import (as_float, check_ndim, check_non_negative, check_positive, pair,
                                        row_buffers)

__all__ = [
    "pool_windows",
    "im2col",
    "col2im",
    "winograd_f23",
    "winograd_conv2d",
]

# F(2, 3): y = A^T [(G g) * (B^T d)] for an input tile d of 4 and a filter g of 3.
WINOGRAD_BT = np.array([[1.0, 0.0, -1.0, 0.0],
                        [0.0, 1.0, 1.0, 0.0],
                        [0.0, -1.0, 1.0, 0.0],
                        [0.0, 1.0, 0.0, -1.0]])
WINOGRAD_G = np.array([[1.0, 0.0, 0.0],
                       [0.5, 0.5, 0.5],
                       [0.5, -0.5, 0.5],
                       [0.0, 0.0, 1.0]])
WINOGRAD_AT = np.array([[1.0, 1.0, 1.0, 0.0],
                        [0.0, 1.0, -1.0, -1.0]])


# --------------------------------------------------------------------------- arguments

def _window_args(x, kernel_size, stride, padding, dilation=1):
    """Validate; return x as float and (kernel, stride, padding, dilation) pairs."""
    check_ndim(x, 4, "x", "(N, C, H, W)")
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else pair(stride, "stride")
    padding, dilation = pair(padding, "padding"), pair(dilation, "dilation")
    check_positive(kernel, "kernel_size")
    check_positive(stride, "stride")
    check_positive(dilation, "dilation")
    check_non_negative(padding, "padding")
    x = as_float(x)
    for n, k, p, d in zip(x.shape[2:], kernel, padding, dilation):
        if d * (k - 1) + 1 > n + 2 * p:
            raise ValueError(f"kernel_size {kernel} (dilation {dilation}) does not fit the padded input "
                             f"{tuple(n + 2 * p for n, p in zip(x.shape[2:], padding))}")
    return x, kernel, stride, padding, dilation


def _out_size(size, kernel, stride, padding, dilation):
    """floor((n + 2p - d(k - 1) - 1) / s) + 1 per spatial dim."""
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, s, p, d in zip(size, kernel, stride, padding, dilation))


def _windows(x, kernel, stride, padding, dilation, value=0.0):
    """(N, C, H_out, W_out, kH, kW) view of x padded with `value` (a copy only when padded)."""
    if any(padding):
        (ph, pw) = padding
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    windows = sliding_window_view(x, extent, axis=(2, 3))
    # every stride-th window, every dilation-th tap inside it
    return windows[:, :, ::stride[0], ::stride[1], ::dilation[0], ::dilation[1]]


# --------------------------------------------------------------------------- windows

def pool_windows(x, kernel_size, stride=None, padding=0, value=0.0):
    """Every pooling window of x as a view: no pixel is copied when padding is 0.

    x: (N, C, H, W); kernel_size, stride, padding: int or pair; stride defaults
    to kernel_size (as in pooling). Padding adds `value` on all four sides
    (0 for average pooling and unfold, -inf for max pooling).
    Returns (N, C, H_out, W_out, kH, kW) with
    H_out = floor((H + 2*pH - kH) / sH) + 1 (W_out likewise);
    windows[n, c, i, j] = x_padded[n, c, i*sH : i*sH + kH, j*sW : j*sW + kW].
    """
    x, kernel, stride, padding, dilation = _window_args(x, kernel_size, stride, padding)
    return _windows(x, kernel, stride, padding, dilation, value)


# --------------------------------------------------------------------------- im2col / col2im

def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    """Every receptive field as a column, as torch.nn.functional.unfold.

    x: (N, C, H, W). Returns cols (N, C*kH*kW, L), L = H_out * W_out with
    H_out = floor((H + 2*pH - dH*(kH - 1) - 1) / sH) + 1 (W_out likewise):
    cols[n, (c*kH + u)*kW + v, i*W_out + j] = x_padded[n, c, i*sH + u*dH, j*sW + v*dW].
    The row order (c, u, v) is that of w.reshape(C_out, -1), so a convolution
    is w.reshape(C_out, -1) @ cols.
    """
    x, kernel, stride, padding, dilation = _window_args(x, kernel_size, stride, padding, dilation)
    windows = _windows(x, kernel, stride, padding, dilation)      # (N, C, Ho, Wo, kH, kW)
    n, c = x.shape[:2]
    # the one copy: kH*kW values per output pixel
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kernel[0] * kernel[1], -1)


def col2im(cols, x_shape, kernel_size, stride=1, padding=0, dilation=1):
    """im2col's adjoint, as torch.nn.functional.fold with output_size = x_shape[2:].

    cols: (N, C*kH*kW, L) laid out as im2col's output; x_shape: (N, C, H, W).
    Returns (N, C, H, W): every column entry is *added* to the pixel im2col
    read it from (overlapping windows sum), entries that fell on the padding
    are dropped. So <im2col(x), cols> = <x, col2im(cols)> for every x.
    """
    x_shape = tuple(int(s) for s in x_shape)
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be (N, C, H, W), got {x_shape}")
    n, c, height, width = x_shape
    kernel, stride = pair(kernel_size, "kernel_size"), pair(stride, "stride")
    padding, dilation = pair(padding, "padding"), pair(dilation, "dilation")
    check_positive(kernel, "kernel_size")
    check_positive(stride, "stride")
    check_positive(dilation, "dilation")
    check_non_negative(padding, "padding")
    h_out, w_out = _out_size((height, width), kernel, stride, padding, dilation)
    cols = as_float(cols)
    expected = (n, c * kernel[0] * kernel[1], h_out * w_out)
    if cols.shape != expected:
        raise ValueError(f"cols must have shape {expected} (N, C*kH*kW, H_out*W_out), got {cols.shape}")
    cols = cols.reshape(n, c, kernel[0], kernel[1], h_out, w_out)
    x = np.zeros(x_shape)
    # Straight into x, no padded copy: each offset's taps on the padding are cut off by
    # _inside. With buffers the size of one offset's plane in cols (measured 1.4x -> 1.3x
    # torch's fold on the benchmark; see row_buffers for why).
    with row_buffers(h_out * w_out):
        # one strided slice per kernel offset: windows overlap, so += (never =)
        for u in range(kernel[0]):
            rows, x_rows = _inside(u * dilation[0] - padding[0], stride[0], h_out, height)
            for v in range(kernel[1]):
                cols_at, x_cols = _inside(v * dilation[1] - padding[1], stride[1], w_out, width)
                x[:, :, x_rows, x_cols] += cols[:, :, u, v, rows, cols_at]
    return x


def _inside(offset, stride, out_size, size):
    """The output positions i whose input position i * stride + offset lies in [0, size).

    Returns (slice of those i, slice of their input positions), along one axis, for one
    kernel offset; the other taps fall on the padding, which col2im drops.
    """
    first = -(offset // stride) if offset < 0 else 0               # ceil(-offset / stride)
    last = max(first, min(out_size, (size - 1 - offset) // stride + 1))
    start = first * stride + offset
    return slice(first, last), slice(start, start + (last - first) * stride, stride)


# --------------------------------------------------------------------------- Winograd

def winograd_f23(d, g):
    """Two outputs of a 3-tap correlation from 4 inputs with 4 multiplications: F(2, 3).

    d: (..., 4) input tiles; g: (3,) or (..., 3) filter taps (broadcast against d).
    Returns (..., 2): y0 = d0 g0 + d1 g1 + d2 g2, y1 = d1 g0 + d2 g1 + d3 g2,
    computed as A^T [(G g) * (B^T d)]: G g depends on the filter only (computed
    once per filter), B^T d and A^T m use additions only, * is the 4 multiplications.
    """
    d, g = as_float(d), as_float(g)
    if d.shape[-1:] != (4,):
        raise ValueError(f"d must have shape (..., 4), got {d.shape}")
    if g.shape[-1:] != (3,):
        raise ValueError(f"g must have shape (..., 3), got {g.shape}")
    m = (g @ WINOGRAD_G.T) * (d @ WINOGRAD_BT.T)
    return m @ WINOGRAD_AT.T


def _input_transform(xp, tiles):
    """V = B^T d B for every 4x4 tile d of xp (step 2), as additions on whole strided slices.

    xp: (N, C, 2*Th + 2, 2*Tw + 2). Row i of tile t is row 2t + i of xp, so B^T's rows
    (d0 - d2, d1 + d2, d2 - d1, d1 - d3) are four array additions over every tile at once;
    the same on columns gives V's 16 entries. Returns (4, 4, N, C, Th, Tw).
    Every addition writes into its place in the result (out=): no temporaries to copy.
    """
    th, tw = tiles

    def rows(a, i):                       # row i of every tile, along axis 2
        return a[:, :, i:i + 2 * th:2]

    def cols(a, j):                       # column j of every tile, along axis 3
        return a[:, :, :, j:j + 2 * tw:2]

    def transform(a, take, out):          # out[0..3] = the four rows of B^T applied along `take`
        d0, d1, d2, d3 = (take(a, i) for i in range(4))
        np.subtract(d0, d2, out=out[0])
        np.add(d1, d2, out=out[1])
        np.subtract(d2, d1, out=out[2])
        np.subtract(d1, d3, out=out[3])
        return out

    by_rows = transform(xp, rows, np.empty((4,) + xp.shape[:2] + (th, xp.shape[3])))
    v = np.empty((4, 4) + xp.shape[:2] + (th, tw))
    for k in range(4):
        transform(by_rows[k], cols, out=v[k])
    return v


def _output_transform(m, out):
    """Y = A^T M A for every tile, as additions: m (4, 4, N, C, Th, Tw) -> out (N, C, Th, 2, Tw, 2).

    out is the output image as 2x2 blocks: out[:, :, t, a, s, b] is pixel (2t + a, 2s + b),
    so writing Y's entry (a, b) into it puts every tile in place without a transposing copy.
    """
    def transform(m0, m1, m2, m3, out0, out1):       # A^T's rows: m0 + m1 + m2, m1 - m2 - m3
        np.add(m0, m1, out=out0)
        out0 += m2
        np.subtract(m1, m2, out=out1)
        out1 -= m3

    by_rows = np.empty((2,) + m.shape[1:])
    transform(*m, *by_rows)
    for a in range(2):
        transform(*by_rows[a], out[:, :, :, a, :, 0], out[:, :, :, a, :, 1])
    return out


def winograd_conv2d(x, w, padding=0):
    """3x3 convolution (stride 1) with F(2x2, 3x3): 16 multiplications per 2x2 output tile.

    x: (N, C_in, H, W); w: (C_out, C_in, 3, 3); padding: int or pair, zeros.
    Returns (N, C_out, H_out, W_out), H_out = H + 2*pH - 2, equal to conv2d(x, w,
    padding=padding). The input is cut into 4x4 tiles overlapping by 2; per tile
    V = B^T d B, per filter U = G g G^T, and Y = A^T (sum_c U * V) A. The sum over
    channels is one matrix product per tile position (16 of them) and sample; the
    transforms are additions over whole strided slices, as Winograd intended.
    """
    check_ndim(x, 4, "x", "(N, C_in, H, W)")
    check_ndim(w, 4, "w", "(C_out, C_in, 3, 3)")
    x, w = as_float(x), as_float(w)
    if w.shape[2:] != (3, 3) or w.shape[1] != x.shape[1]:
        raise ValueError(f"w must have shape (C_out, {x.shape[1]}, 3, 3), got {w.shape}")
    (ph, pw) = pair(padding, "padding")
    check_non_negative((ph, pw), "padding")
    n, c_in, height, width = x.shape
    c_out = w.shape[0]
    h_out, w_out = height + 2 * ph - 2, width + 2 * pw - 2
    if h_out < 1 or w_out < 1:
        raise ValueError(f"the 3x3 kernel does not fit the padded input {(height + 2 * ph, width + 2 * pw)}")
    tiles_h, tiles_w = -(-h_out // 2), -(-w_out // 2)
    # pad so that every output tile has its full 4x4 input tile; extra outputs are cropped
    xp = np.zeros((n, c_in, 2 * tiles_h + 2, 2 * tiles_w + 2))
    xp[:, :, ph:ph + height, pw:pw + width] = x
    v = _input_transform(xp, (tiles_h, tiles_w)).reshape(16, n, c_in, -1)       # B^T d B
    u = (WINOGRAD_G @ w @ WINOGRAD_G.T).transpose(2, 3, 0, 1).reshape(16, 1, c_out, c_in)   # G g G^T
    # the sum over channels at each of the 16 tile positions, per sample: (C_out, C_in) @ (C_in, Th*Tw)
    m = (u @ v).reshape(4, 4, n, c_out, tiles_h, tiles_w)
    out = _output_transform(m, np.empty((n, c_out, tiles_h, 2, tiles_w, 2)))   # A^T M A
    out = out.reshape(n, c_out, 2 * tiles_h, 2 * tiles_w)
    if (2 * tiles_h, 2 * tiles_w) == (h_out, w_out):
        return out
    return np.ascontiguousarray(out[:, :, :h_out, :w_out])
