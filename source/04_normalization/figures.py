# Course maintainers: edit this file in source/04_normalization/; release/04_normalization/ holds a
# copy made by `python -m autograder release` (see release/README.md).
"""Drawing helpers for Lesson 4's figures (matplotlib only; nothing here normalizes anything)."""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

PALETTE = ["#5b8db8", "#f4a261", "#2a9d8f", "#e76f51", "#8d6cab", "#e9c46a", "#264653", "#b5838d"]


def statistic_groups(kind, n=3, c=6, pixels=4, groups=2):
    """An (N, C, pixels) array of integers: entries with the same integer share one mean and variance."""
    index = np.indices((n, c, pixels))
    sample, channel = index[0], index[1]
    if kind == "batch norm":
        return channel
    if kind == "layer norm":
        return sample
    if kind == "instance norm":
        return sample * c + channel
    if kind == "group norm":
        return sample * groups + channel // (c // groups)
    raise ValueError(f"unknown kind {kind!r}")


def draw_groups(kinds=("batch norm", "layer norm", "instance norm", "group norm"), n=3, c=6, pixels=4, groups=2):
    """One panel per kind: samples side by side, channels as rows, pixels (H * W flattened) as columns.

    Cells of one colour are normalized together: one mean and one variance.
    """
    fig, axes = plt.subplots(1, len(kinds), figsize=(3.4 * len(kinds), 3.0))
    for ax, kind in zip(np.atleast_1d(axes), kinds):
        ids = statistic_groups(kind, n, c, pixels, groups)
        picture = np.full((c, n * (pixels + 1) - 1), np.nan)
        for s in range(n):
            picture[:, s * (pixels + 1):s * (pixels + 1) + pixels] = ids[s]
        colours = np.array([PALETTE[int(v) % len(PALETTE)] if np.isfinite(v) else "#ffffff"
                            for v in picture.reshape(-1)]).reshape(picture.shape)
        for (row, col), colour in np.ndenumerate(colours):
            if colour != "#ffffff":
                ax.add_patch(plt.Rectangle((col, row), 1, 1, facecolor=colour, edgecolor="white", linewidth=1.2))
        ax.set_xlim(-0.2, picture.shape[1] + 0.2)
        ax.set_ylim(c + 0.2, -0.2)
        ax.set_aspect("equal")
        ax.set_xticks([s * (pixels + 1) + pixels / 2 for s in range(n)])
        ax.set_xticklabels([f"sample {s}" for s in range(n)], fontsize=9)
        ax.set_yticks(np.arange(c) + 0.5)
        ax.set_yticklabels([f"c{k}" for k in range(c)], fontsize=8)
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        title = kind if kind != "group norm" else f"group norm ({groups} groups)"
        ax.set_title(title)
    fig.suptitle("one colour = one mean and one variance (columns: the H x W pixels of a channel)", fontsize=10)
    fig.tight_layout()
    return fig


def draw_graph(nodes, edges, title="", figsize=(11, 2.6)):
    """A left-to-right computational graph.

    nodes: {name: (x, y, label)} in axis units; edges: [(from, to), ...].
    """
    fig, ax = plt.subplots(figsize=figsize)
    for name, (x, y, label) in nodes.items():
        ax.add_patch(FancyBboxPatch((x - 0.42, y - 0.22), 0.84, 0.44, boxstyle="round,pad=0.05",
                                    facecolor="#e9f1f7", edgecolor="#5b8db8"))
        ax.text(x, y, label, ha="center", va="center", fontsize=11)
    for start, end in edges:
        (x0, y0, _), (x1, y1, _) = nodes[start], nodes[end]
        ax.add_patch(FancyArrowPatch((x0 + 0.47, y0), (x1 - 0.47, y1), arrowstyle="-|>", mutation_scale=12,
                                     color="#444444", connectionstyle="arc3,rad=0.0"))
    xs = [x for x, _, _ in nodes.values()]
    ys = [y for _, y, _ in nodes.values()]
    ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title)
    return fig


def show_maps(rows, row_titles, col_titles, size=1.6, cmap="magma", suptitle=""):
    """A grid of images, rows[r][k] drawn in panel (r, k); each row shares one colour scale."""
    fig, axes = plt.subplots(len(rows), len(rows[0]), figsize=(size * len(rows[0]), size * len(rows) + 0.5),
                             squeeze=False)
    for r, row in enumerate(rows):
        top = max(float(np.max(np.abs(image))) for image in row) or 1.0
        for k, image in enumerate(row):
            axes[r, k].imshow(image, cmap=cmap, vmin=0, vmax=top)
            axes[r, k].set_xticks([])
            axes[r, k].set_yticks([])
            if r == 0:
                axes[r, k].set_title(col_titles[k], fontsize=9)
        axes[r, 0].set_ylabel(row_titles[r], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
