# Course maintainers: edit this file in source/02_cnn_backprop/; release/02_cnn_backprop/ holds a
# copy made by `python -m autograder release` (see release/README.md).
"""Drawing helpers for Lesson 2's figures (matplotlib only; nothing here computes a convolution)."""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

HIGHLIGHT = "#f4a261"
SHADE = "#e9f1f7"


def draw_grid(ax, values, title="", highlight=None, shade=None, fmt="{:g}", fontsize=11, color=HIGHLIGHT,
              cell_width=1.0):
    """A matrix drawn as a table: one cell per entry with its value (a number or a string) inside.

    highlight:  (row, col, height, width) of a block outlined in `color`, or a list of such blocks.
    shade:      a boolean array of the matrix's shape; True cells get a light background.
    cell_width: width of a cell relative to its height, > 1 for long entries.
    """
    values = np.asarray(values, dtype=object)
    rows, cols = values.shape
    for r in range(rows):
        for c in range(cols):
            filled = shade is not None and shade[r, c]
            ax.add_patch(Rectangle((c * cell_width, r), cell_width, 1, facecolor=SHADE if filled else "white",
                                   edgecolor="#888888", linewidth=0.8))
            value = values[r, c]
            text = value if isinstance(value, str) else fmt.format(value)
            ax.text((c + 0.5) * cell_width, r + 0.5, text, ha="center", va="center", fontsize=fontsize)
    blocks = [] if highlight is None else ([highlight] if np.isscalar(highlight[0]) else highlight)
    for r, c, h, w in blocks:
        ax.add_patch(Rectangle((c * cell_width, r), w * cell_width, h, fill=False, edgecolor=color, linewidth=3))
    ax.set_xlim(-0.1, cols * cell_width + 0.1)
    ax.set_ylim(rows + 0.1, -0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=fontsize + 1)


def symbols(letter, rows, cols):
    """A (rows, cols) array of LaTeX labels such as $a_{12}$ (1-based, as in the text)."""
    return np.array([[f"${letter}_{{{r + 1}{c + 1}}}$" for c in range(cols)] for r in range(rows)], dtype=object)


def draw_receptive_field(channels=3, size=6, kernel=3, stride=2, window=(0, 1)):
    """The lesson's (3, 6, 6) input: the window one output pixel of one filter sees in every channel."""
    out = (size - kernel) // stride + 1
    ratios = []
    for c in range(channels):
        ratios += [1, 0.18] if c < channels - 1 else [1, 0.45]
    fig, axes = plt.subplots(1, len(ratios) + 1, figsize=(2.3 * channels + 3.4, 2.8),
                             gridspec_kw={"width_ratios": ratios + [out / size + 0.1]})
    i, j = window
    block = (i * stride, j * stride, kernel, kernel)
    for c in range(channels):
        draw_grid(axes[2 * c], np.full((size, size), ""), f"channel {c} $\\times$ w[o, {c}]", highlight=block)
        axes[2 * c + 1].axis("off")
        sign = "+" if c < channels - 1 else "+ b[o]\n=" 
        axes[2 * c + 1].text(0.5, 0.5, sign, ha="center", va="center", fontsize=16 if c < channels - 1 else 12)
    spot = np.zeros((out, out), dtype=bool)
    spot[i, j] = True
    draw_grid(axes[-1], np.full((out, out), ""), "output\nchannel o", shade=spot, highlight=(i, j, 1, 1))
    fig.suptitle(f"Output pixel ({i}, {j}) of filter o sees a {kernel}x{kernel} window in each of the "
                 f"{channels} channels: {channels * kernel * kernel} numbers", fontsize=11)
    fig.tight_layout()
    return fig


def draw_connectivity(n_in=7, kernel=3):
    """Fully connected versus convolution on a 1-D input: who is connected to whom, with which weight."""
    n_out = n_in - kernel + 1
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
    colors = plt.cm.tab10(np.arange(kernel))
    for ax, title in zip(axes, ["fully connected", "convolution"]):
        xs_in = np.arange(n_in)
        xs_out = np.arange(n_out) + (n_in - n_out) / 2
        for o, xo in enumerate(xs_out):
            targets = range(n_in) if title == "fully connected" else range(o, o + kernel)
            for t in targets:
                color = "#999999" if title == "fully connected" else colors[t - o]
                ax.plot([xs_in[t], xo], [0, 1], color=color, linewidth=1.2 if title == "fully connected" else 2.2)
        ax.scatter(xs_in, np.zeros(n_in), s=260, color="white", edgecolor="black", zorder=3)
        ax.scatter(xs_out, np.ones(n_out), s=260, color="#cfe3f1", edgecolor="black", zorder=3)
        n_weights = n_in * n_out if title == "fully connected" else kernel
        ax.set_title(f"{title}: {n_in * n_out if title == 'fully connected' else n_out * kernel} connections, "
                     f"{n_weights} distinct weights", fontsize=11)
        ax.text(-0.9, 0, "input", ha="right", va="center")
        ax.text(-0.9, 1, "output", ha="right", va="center")
        if title == "convolution":
            for t in range(kernel):
                ax.text(n_in - 0.4, 1.05 - 0.18 * t, f"$w_{t + 1}$", color=colors[t], fontsize=12)
        ax.set_xlim(-2.4, n_in + 0.3)
        ax.set_ylim(-0.3, 1.3)
        ax.axis("off")
    fig.tight_layout()
    return fig


def show_images(images, titles, rows=1, size=1.8, cmap="gray", suptitle="", symmetric=False):
    """Small images in a grid, one title each (None leaves a cell empty); symmetric=True centres a
    red-blue colour map on 0."""
    cols = int(np.ceil(len(images) / rows))
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, (size + 0.3) * rows + (0.4 if suptitle else 0)),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image, title in zip(axes.ravel(), images, titles):
        if image is None:
            continue
        if symmetric:
            limit = np.abs(image).max() or 1.0
            ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
        else:
            ax.imshow(image, cmap=cmap)
        ax.set_title(title, fontsize=9)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout()
    return fig
