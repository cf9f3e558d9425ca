"""Drawing and widget code for the companion notebooks in this folder.

Three explorers, each a `show_*` function that draws one matplotlib figure for
given settings and an `explore_*` function that puts sliders in front of it:

    show_windows / explore_windows   where the windows of a convolution or pooling
                                     layer land on its input, and how many there are
    show_field / explore_field       which input pixels one unit of a stack of
                                     (strided, dilated) layers sees
    show_scatter / explore_scatter   a transposed convolution, one scattered
                                     kernel copy at a time

Everything shown is found by simulation, never by an output-size formula: the
windows are stepped over the grid and counted, the pixels a unit sees are
propagated down through the layers, the kernel copies are added into a grid.
So the figures are independent evidence for the formulas of the lessons, and
nothing here is an exercise's solution (no function is named like one).

Without a widget front end (ipywidgets missing, plain Python, or a headless run
with the Agg backend as in CI) an `explore_*` call draws the static figure for
its default settings instead.
"""
import itertools

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap
from matplotlib.ticker import MaxNLocator

CURRENT = "#e6550d"        # the window, unit or kernel copy being looked at
NON_INTERACTIVE_BACKENDS = {"agg", "pdf", "pgf", "ps", "svg", "cairo", "template"}


# ------------------------------------------------------------------ widgets or not
def can_show_widgets():
    """True in a Jupyter kernel that can draw figures and has ipywidgets installed.

    Whether the editor actually renders widgets cannot be seen from the kernel;
    every notebook therefore also has a static cell that calls `show_*` directly.
    """
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
        return False      # plain Python or a terminal IPython: nothing can show a slider
    # a non-interactive backend means a headless run (CI sets MPLBACKEND=Agg)
    return matplotlib.get_backend().lower() not in NON_INTERACTIVE_BACKENDS


def _static_instead(show, name):
    print(f"(Widgets are not available here, so this is the static figure for the default "
          f"settings; call {name}(...) with other numbers to see more.)")
    show()


def _launch(draw, controls, rows):
    """Display the control `rows` above an output area that `draw(**controls)` fills on every change."""
    import ipywidgets as widgets
    from IPython.display import display

    def redraw(**values):
        draw(**values)
        plt.show()        # inside the output area, the inline backend renders the figure there

    output = widgets.interactive_output(redraw, controls)
    display(widgets.VBox([widgets.HBox(row) for row in rows]), output)


def _slider(description, value, low, high):
    import ipywidgets as widgets
    return widgets.IntSlider(value=value, min=low, max=high, description=description,
                             continuous_update=False, style={"description_width": "initial"})


def _stepper(description, value, low, high):
    """A slider with a play button that steps it: returns (play, slider)."""
    import ipywidgets as widgets
    slider = widgets.IntSlider(value=value, min=low, max=high, description=description,
                               style={"description_width": "initial"})
    play = widgets.Play(value=value, min=low, max=high, interval=900)
    widgets.jslink((play, "value"), (slider, "value"))
    return play, slider


def _set_max(play, slider, high):
    """Change the range of a stepper (the slider clamps its value)."""
    play.max = slider.max = high


# ------------------------------------------------------------------ drawing helpers
def _cells(ax, shape):
    """Grid lines around every cell of an array drawn with imshow, no tick marks."""
    rows, cols = shape
    ax.set_xticks(np.arange(cols + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(rows + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.2)
    ax.tick_params(which="both", length=0)
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)


def _outline(ax, row, col, height, width, color=CURRENT, linewidth=3, linestyle="-"):
    ax.add_patch(plt.Rectangle((col - 0.5, row - 0.5), width, height, fill=False, ec=color,
                               lw=linewidth, ls=linestyle, zorder=4))


def _numbers(ax, values, fontsize, mask=None, fmt="{:g}", dark_above=None):
    """Write each value in its cell (where mask is True); white on dark cells."""
    for (r, c), value in np.ndenumerate(values):
        if mask is None or mask[r, c]:
            dark = dark_above is not None and value > dark_above
            ax.text(c, r, fmt.format(value), ha="center", va="center", fontsize=fontsize,
                    color="white" if dark else "black", zorder=5)


def _text_size(cells):
    """A font size that fits numbers into cells of a grid `cells` wide."""
    return int(np.clip(120 / max(cells, 1), 6, 12))


def _notes(fig, notes):
    if notes:
        fig.text(0.5, 0.01, "\n".join(notes), ha="center", va="bottom", fontsize=10, color="#a50f15")


# ================================================================== 1. windows
def window_starts(n, kernel_size, stride, padding=0, dilation=1, ceil_mode=False):
    """Where the windows start along one axis, by stepping a window over it.

    Positions are counted in the padded input (0 is the first padding pixel).
    A window covers dilation*(kernel_size - 1) + 1 pixels and counts when all
    of it fits in the n + 2*padding padded pixels. With ceil_mode (pooling
    only), one more window may hang over the end if the last full window (or,
    when none fits, the start) left pixels unread, provided it starts before
    the right padding, as in torch.
    """
    padded, span = n + 2 * padding, dilation * (kernel_size - 1) + 1
    starts, start = [], 0
    while start + span <= padded:
        starts.append(start)
        start += stride
    # the window before `start` (at -stride if none fitted) ends before the last padded pixel
    leftover = start - stride + span < padded
    if ceil_mode and leftover and start < n + padding:
        starts.append(start)
    return starts


def _coverage(rows, cols, kernel_size, dilation, shape):
    """How many windows read each cell of a grid of `shape` (padded coordinates)."""
    counts = np.zeros(shape, dtype=int)
    taps = np.arange(kernel_size) * dilation
    for r0, c0 in itertools.product(rows, cols):
        counts[np.ix_(r0 + taps, c0 + taps)] += 1
    return counts


def _window_notes(height, width, kernel_size, padding, dilation, rows, cols, unread, ceil_extra):
    notes = []
    if not rows or not cols:
        span = dilation * (kernel_size - 1) + 1
        notes.append(f"No window fits: the window spans {span} pixels, the padded input has "
                     f"{height + 2 * padding} x {width + 2 * padding}. torch raises an error.")
    if padding > kernel_size // 2:
        notes.append(f"padding={padding} is more than kernel_size // 2 = {kernel_size // 2}: max_pool2d and "
                     "avg_pool2d refuse it (conv2d accepts it).")
    if ceil_extra:
        notes.append("ceil_mode (pooling only) added a last window that hangs over the end; "
                     "its part outside the padded input (white) is ignored.")
    if unread:
        notes.append(f"Never read by any window: {unread}.")
    return notes


def _unread(counts, height, width, padding):
    """A sentence naming the input rows and columns that no window reads (padding excluded)."""
    inner = counts[padding:padding + height, padding:padding + width]
    rows = [r for r in range(height) if not inner[r].any()]
    cols = [c for c in range(width) if not inner[:, c].any()]
    parts = ([f"rows {rows}"] if rows else []) + ([f"columns {cols}"] if cols else [])
    return " and ".join(parts) + " of x" if parts else ""


def show_windows(height=7, width=7, kernel_size=3, stride=2, padding=0, dilation=1,
                 ceil_mode=False, step=0):
    """Draw the windows of a conv2d / max_pool2d over an (N, C, height, width) input.

    Left: the padded input, the window number `step` (row by row) with its taps,
    and a dot where every window starts. Middle: how many windows read each
    pixel. Right: the output, one cell per window, with `step`'s cell marked.
    """
    rows = window_starts(height, kernel_size, stride, padding, dilation, ceil_mode)
    cols = window_starts(width, kernel_size, stride, padding, dilation, ceil_mode)
    span = dilation * (kernel_size - 1) + 1
    padded = (height + 2 * padding, width + 2 * padding)
    # a ceil_mode window may reach past the padded input: draw that far
    extent = (max([padded[0]] + [r + span for r in rows]), max([padded[1]] + [c + span for c in cols]))
    counts = _coverage(rows, cols, kernel_size, dilation, extent)
    ceil_extra = ceil_mode and bool(rows) and bool(cols) and (
        rows[-1] + span > padded[0] or cols[-1] + span > padded[1])

    fig, axes = plt.subplots(1, 3, figsize=(15, 5.6), gridspec_kw={"width_ratios": [1, 1, 0.8]})
    _draw_padded_input(axes[0], height, width, padding, extent)
    _draw_coverage(axes[1], counts[:padded[0], :padded[1]], height, width, padding)
    n_windows = len(rows) * len(cols)
    if n_windows:
        step = int(np.clip(step, 0, n_windows - 1))
        i, j = divmod(step, len(cols))
        _draw_window(axes[0], rows, cols, i, j, kernel_size, dilation, padding)
        axes[0].set_title(f"x with padding {padding}: window {step + 1} of {n_windows}\n"
                          f"starts at row {rows[i] - padding}, column {cols[j] - padding} of x",
                          fontsize=11)
        _draw_output(axes[2], len(rows), len(cols), i, j)
    else:
        axes[0].set_title(f"x with padding {padding}: no window fits", fontsize=11)
        axes[2].axis("off")
    settings = f"kernel_size={kernel_size}, stride={stride}, padding={padding}, dilation={dilation}"
    settings += ", ceil_mode=True" if ceil_mode else ""
    fig.suptitle(f"x: (N, C, {height}, {width})  ->  out: (N, C, {len(rows)}, {len(cols)})      {settings}",
                 fontsize=13)
    notes = _window_notes(height, width, kernel_size, padding, dilation, rows, cols,
                          _unread(counts, height, width, padding), ceil_extra)
    _notes(fig, notes)
    fig.tight_layout(rect=(0, 0.04 * len(notes), 1, 0.95))


def _draw_padded_input(ax, height, width, padding, extent):
    kind = np.full(extent, 2)                                   # 2: outside the padded input
    kind[:height + 2 * padding, :width + 2 * padding] = 1       # 1: padding
    kind[padding:padding + height, padding:padding + width] = 0  # 0: x itself
    ax.imshow(kind, cmap=ListedColormap(["#c6dbef", "#bdbdbd", "white"]), vmin=0, vmax=2)
    for (r, c), value in np.ndenumerate(kind):
        if value == 1:
            ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, hatch="///",
                                       ec="#f0f0f0", lw=0))
    _cells(ax, extent)
    if extent != (height + 2 * padding, width + 2 * padding):
        _outline(ax, 0, 0, height + 2 * padding, width + 2 * padding, color="#636363", linewidth=1.5)
    # label rows and columns with their index in x, so padding sits at -1, -2, ...; nothing outside
    size = _text_size(max(extent))
    ax.set_xticks(range(extent[1]), [str(c - padding) if c < width + 2 * padding else ""
                                     for c in range(extent[1])], fontsize=size)
    ax.set_yticks(range(extent[0]), [str(r - padding) if r < height + 2 * padding else ""
                                     for r in range(extent[0])], fontsize=size)


def _draw_window(ax, rows, cols, i, j, kernel_size, dilation, padding):
    span = dilation * (kernel_size - 1) + 1
    starts = np.array(list(itertools.product(rows, cols)))
    ax.scatter(starts[:, 1], starts[:, 0], s=28, color="black", zorder=6)
    taps = [(rows[i] + u * dilation, cols[j] + v * dilation)
            for u in range(kernel_size) for v in range(kernel_size)]
    for r, c in taps:
        ax.add_patch(plt.Rectangle((c - 0.42, r - 0.42), 0.84, 0.84, color=CURRENT, alpha=0.75, zorder=3))
    _outline(ax, rows[i], cols[j], span, span)
    handles = [plt.Line2D([], [], marker="o", ls="", color="black", label="where each window starts"),
               plt.Rectangle((0, 0), 1, 1, color=CURRENT, alpha=0.75, label="taps of this window")]
    if padding:
        handles.append(plt.Rectangle((0, 0), 1, 1, fc="#bdbdbd", hatch="///", ec="#f0f0f0", label="padding"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, -0.02), fontsize=9, frameon=False,
              ncol=3)


def _draw_coverage(ax, counts, height, width, padding):
    ax.imshow(counts, cmap="YlGn", vmin=0, vmax=max(counts.max(), 4) * 1.25)
    _cells(ax, counts.shape)
    inside = np.zeros(counts.shape, dtype=bool)
    inside[padding:padding + height, padding:padding + width] = True
    size = _text_size(max(counts.shape))
    _numbers(ax, counts, size, mask=inside & (counts > 0), dark_above=0.6 * counts.max())
    for r, c in zip(*np.nonzero(inside & (counts == 0))):
        ax.text(c, r, "0", ha="center", va="center", fontsize=size, color="#a50f15", fontweight="bold")
    _outline(ax, padding, padding, height, width, color="#2171b5", linewidth=2)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("how many windows read each pixel of x\n(blue frame: x; red 0: never read)", fontsize=11)


def _draw_output(ax, n_rows, n_cols, i, j):
    grid = np.zeros((n_rows, n_cols))
    grid[i, j] = 1
    ax.imshow(grid, cmap=ListedColormap(["#fdd0a2", CURRENT]), vmin=0, vmax=1)
    _cells(ax, grid.shape)
    if max(grid.shape) <= 10:       # beyond that the numbers would not fit
        labels = np.arange(n_rows * n_cols).reshape(n_rows, n_cols) + 1
        _numbers(ax, labels, _text_size(1.3 * max(grid.shape)), fmt="{}")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"out: {n_rows} x {n_cols}, one value per window\n(window {i * n_cols + j + 1} "
                 f"gives out[..., {i}, {j}])", fontsize=11)


def explore_windows(static=None):
    """Sliders for show_windows; `static=True` (or no widget front end) draws the default figure."""
    if static or (static is None and not can_show_widgets()):
        return _static_instead(show_windows, "show_windows")
    import ipywidgets as widgets
    controls = {"height": _slider("height H", 7, 1, 10), "width": _slider("width W", 7, 1, 10),
                "kernel_size": _slider("kernel_size", 3, 1, 5), "stride": _slider("stride", 2, 1, 4),
                "padding": _slider("padding", 0, 0, 2), "dilation": _slider("dilation", 1, 1, 3),
                "ceil_mode": widgets.Checkbox(value=False, description="ceil_mode (pooling)")}
    play, controls["step"] = _stepper("window", 0, 0, 8)

    def update_steps(_change=None):
        """Keep the window slider within the number of windows of the current settings."""
        values = {name: controls[name].value for name in ("kernel_size", "stride", "padding", "dilation",
                                                           "ceil_mode")}
        count = len(window_starts(controls["height"].value, **values)) * len(
            window_starts(controls["width"].value, **values))
        _set_max(play, controls["step"], max(count - 1, 0))

    for name, control in controls.items():
        if name != "step":
            control.observe(update_steps, names="value")
    update_steps()
    _launch(show_windows, controls, [
        [controls["height"], controls["width"], controls["kernel_size"], controls["stride"]],
        [controls["padding"], controls["dilation"], controls["ceil_mode"]],
        [play, controls["step"]]])


# ================================================================== 2. receptive fields
def input_positions(units, layers):
    """The input pixels that the given output positions of a stack of layers read.

    units:  positions in the output of the last layer
    layers: (kernel_size, stride, dilation) per layer, first layer first
    Works backwards from the last layer: output p of a layer reads its input at
    p*stride, p*stride + dilation, ..., p*stride + (kernel_size - 1)*dilation.
    Positions are relative (no padding), so the first one read is 0 for unit 0.
    """
    positions = set(units)
    for kernel_size, stride, dilation in reversed(layers):
        positions = {p * stride + t * dilation for p in positions for t in range(kernel_size)}
    return positions


def trace_field(layers):
    """For one unit of the last layer: the positions it depends on at every level, input first."""
    return [input_positions({0}, layers[level:]) for level in range(len(layers) + 1)]


def field_growth(layers):
    """Per layer: (span, pixels used, jump) of one unit of that layer, by simulation.

    span: consecutive input pixels from its first to its last one; used: how
    many of them it actually reads (fewer when dilation leaves gaps); jump: how
    far apart, in input pixels, the fields of two neighbouring units start.
    """
    growth = []
    for depth in range(1, len(layers) + 1):
        seen = input_positions({0}, layers[:depth])
        jump = min(input_positions({1}, layers[:depth])) - min(seen)
        growth.append((max(seen) - min(seen) + 1, len(seen), jump))
    return growth


def _as_layers(kernel_sizes, strides=None, dilations=None):
    """[(k, s, d), ...] from one list per setting; ValueError when they do not describe a stack."""
    kernel_sizes = list(kernel_sizes)
    strides = [1] * len(kernel_sizes) if strides is None else list(strides)
    dilations = [1] * len(kernel_sizes) if dilations is None else list(dilations)
    if not kernel_sizes or not len(kernel_sizes) == len(strides) == len(dilations):
        raise ValueError(f"give one kernel size, stride and dilation per layer, got {len(kernel_sizes)} "
                         f"kernel sizes, {len(strides)} strides and {len(dilations)} dilations")
    if min(kernel_sizes + strides + dilations) < 1:
        raise ValueError("kernel sizes, strides and dilations must be positive")
    return list(zip(kernel_sizes, strides, dilations))


MAX_DRAWN_SPAN = 300     # wider fields are summarised, not drawn pixel by pixel


def show_field(kernel_sizes=(3, 3, 3), strides=None, dilations=None):
    """Draw what one unit of a stack of 1-D layers sees, and how the field grows per layer.

    kernel_sizes, strides, dilations: one int per layer, first layer first
    (strides and dilations default to 1). A pooling layer is a layer like any
    other: its window size and its stride.
    """
    layers = _as_layers(kernel_sizes, strides, dilations)
    growth = field_growth(layers)
    span, used, _ = growth[-1]
    fig, (ax_tree, ax_growth) = plt.subplots(1, 2, figsize=(15, 1.6 + 0.9 * len(layers)),
                                             gridspec_kw={"width_ratios": [3, 1]})
    if span <= MAX_DRAWN_SPAN:
        _draw_tree(ax_tree, layers, trace_field(layers))
    else:
        ax_tree.axis("off")
        ax_tree.text(0.5, 0.5, f"{span} input pixels: too wide to draw\n(the right panel still counts them)",
                     ha="center", va="center", fontsize=14, transform=ax_tree.transAxes)
    gaps = f", but reads only {used} of them (dilation leaves gaps)" if used < span else ""
    ax_tree.set_title(f"one unit of layer {len(layers)} sees {span} consecutive input pixels{gaps}",
                      fontsize=12)
    _draw_growth(ax_growth, growth)
    fig.tight_layout()


def _unit_centres(layers):
    """centre(level, p): where to draw unit p of `level`, above the middle of the input pixels it sees."""
    known = {}

    def centre(level, p):
        if (level, p) not in known:
            seen = input_positions({p}, layers[:level])
            known[level, p] = (min(seen) + max(seen)) / 2
        return known[level, p]
    return centre


def _draw_tree(ax, layers, used):
    span = max(used[0]) + 1
    dot = float(np.clip(2500 / span, 6, 60))
    centre = _unit_centres(layers)
    for level in range(len(layers) + 1):
        lowest, highest = min(used[level]), max(used[level])
        around = [p for p in range(lowest - 2, highest + 3) if -1.5 <= centre(level, p) <= span + 0.5]
        ax.scatter([centre(level, p) for p in around], [level] * len(around),
                   s=dot, color="lightgray", zorder=2)
        ax.scatter([centre(level, p) for p in sorted(used[level])], [level] * len(used[level]),
                   s=dot, color=CURRENT if level == len(layers) else "C0", zorder=3)
    segments = []
    for level, (kernel_size, stride, dilation) in enumerate(layers, start=1):
        for p in used[level]:
            for t in range(kernel_size):
                segments.append([(centre(level, p), level),
                                 (centre(level - 1, p * stride + t * dilation), level - 1)])
    ax.add_collection(LineCollection(segments, colors="C0", linewidths=0.8, alpha=0.6, zorder=1))
    ax.set_yticks(range(len(layers) + 1),
                  ["input"] + [f"layer {l}: k={k}, s={s}, d={d}" for l, (k, s, d) in enumerate(layers, 1)])
    ax.set_ylim(-0.5, len(layers) + 0.5)
    ax.set_xlim(-2, span + 1)
    ax.set_xlabel("input pixel")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _draw_growth(ax, growth):
    depths = np.arange(1, len(growth) + 1)
    spans, used, jumps = zip(*growth)
    ax.barh(depths, spans, color="#c6dbef", label="span")
    ax.barh(depths, used, color="C0", height=0.4, label="pixels read")
    for depth, span, jump in zip(depths, spans, jumps):
        ax.text(span, depth, f" {span}  (jump {jump})", va="center", fontsize=9)
    ax.set_yticks(depths, [f"layer {d}" for d in depths])
    ax.set_ylim(0.3, len(growth) + 0.7)
    ax.set_xlim(0, max(spans) * 1.6)
    ax.set_xlabel("input pixels")
    ax.set_title("field of one unit, layer by layer", fontsize=12)
    ax.legend(loc="lower right", fontsize=9, frameon=False)


FIELD_PRESETS = {
    "three 3x3 convolutions (VGG)": ("3, 3, 3", "1, 1, 1", "1, 1, 1"),
    "conv 3x3, 2x2 max pool (stride 2), conv 3x3": ("3, 2, 3", "1, 2, 1", "1, 1, 1"),
    "three 3x3 convolutions with stride 2": ("3, 3, 3", "2, 2, 2", "1, 1, 1"),
    "dilations 1, 2, 4 (context module)": ("3, 3, 3", "1, 1, 1", "1, 2, 4"),
    "dilation 2 in every layer": ("3, 3, 3", "1, 1, 1", "2, 2, 2"),
    "kernel 2, dilations 1, 2, 4, 8 (WaveNet)": ("2, 2, 2, 2", "1, 1, 1, 1", "1, 2, 4, 8"),
}


def _int_list(text):
    """'3, 3, 3' -> [3, 3, 3]; an empty text gives None (every layer 1, as in show_field)."""
    try:
        return [int(part) for part in text.replace(",", " ").split()] or None
    except ValueError:
        raise ValueError(f"write whole numbers separated by commas, got {text!r}") from None


def explore_field(static=None):
    """A preset menu and three editable lists for show_field; static without a widget front end."""
    if static or (static is None and not can_show_widgets()):
        return _static_instead(show_field, "show_field")
    import ipywidgets as widgets
    preset = widgets.Dropdown(options=list(FIELD_PRESETS), description="preset",
                              layout={"width": "460px"})
    texts = {name: widgets.Text(value=value, description=name, continuous_update=False)
             for name, value in zip(("kernel_sizes", "strides", "dilations"), FIELD_PRESETS[preset.value])}

    def use_preset(change):
        for text, value in zip(texts.values(), FIELD_PRESETS[change["new"]]):
            text.value = value

    def draw(kernel_sizes, strides, dilations):
        try:
            show_field(_int_list(kernel_sizes) or [], _int_list(strides), _int_list(dilations))
        except ValueError as error:
            print(f"Cannot draw this stack: {error}")

    preset.observe(use_preset, names="value")
    _launch(draw, texts, [[preset], list(texts.values())])


# ================================================================== 3. transposed convolution
def scatter_copies(x, kernel, stride=1, output_padding=0):
    """Scatter one scaled copy of `kernel` per value of the 2-D `x`, in row-major order.

    The copy for x[i, j] is added with its top-left corner at (i*stride,
    j*stride). The grid is as large as the copies reach, plus `output_padding`
    rows at the bottom and columns at the right.
    Returns frames (the grid after each copy: a list of x.size arrays) and
    counts (how many copies landed on each cell).
    """
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    k_h, k_w = kernel.shape
    reach_h = max(i * stride + k_h for i in range(x.shape[0]))
    reach_w = max(j * stride + k_w for j in range(x.shape[1]))
    grid = np.zeros((reach_h + output_padding, reach_w + output_padding))
    counts = np.zeros(grid.shape, dtype=int)
    frames = []
    for (i, j), value in np.ndenumerate(x):
        grid[i * stride:i * stride + k_h, j * stride:j * stride + k_w] += value * kernel
        counts[i * stride:i * stride + k_h, j * stride:j * stride + k_w] += 1
        frames.append(grid.copy())
    return frames, counts


def crop(grid, padding):
    """Remove `padding` rows from the top and the bottom, and columns from the left and the right."""
    return grid[padding:grid.shape[0] - padding, padding:grid.shape[1] - padding]


def show_scatter(size=3, kernel_size=3, stride=2, padding=0, output_padding=0, step=None):
    """Draw conv_transpose2d of a (1, 1, size, size) input 1, 2, 3, ... with a kernel of ones.

    step: how many kernel copies have been scattered (default all). Left: x,
    with the value being scattered. Middle: the full output so far, the latest
    copy outlined, the rows and columns that `padding` crops hatched, and the
    `output_padding` rows and columns marked. Right: how many copies overlap at
    each pixel of the final output (uneven overlap: the checkerboard artefact).
    """
    x = np.arange(1.0, size * size + 1).reshape(size, size)
    frames, counts = scatter_copies(x, np.ones((kernel_size, kernel_size)), stride, output_padding)
    step = len(frames) if step is None else int(np.clip(step, 1, len(frames)))
    i, j = divmod(step - 1, size)
    full = frames[step - 1]
    out_shape = crop(full, padding).shape

    fig, axes = plt.subplots(1, 3, figsize=(15, 5.6), gridspec_kw={"width_ratios": [0.55, 1, 1]})
    _draw_scatter_input(axes[0], x, i, j)
    _draw_full_output(axes[1], full, frames[-1].max(), i * stride, j * stride, kernel_size,
                      padding, output_padding)
    extra = " with output_padding" if output_padding else ""
    axes[1].set_title(f"full output{extra} after {step} of {x.size} copies: "
                      f"{full.shape[0]} x {full.shape[1]}\n"
                      f"(outlined: x[{i}, {j}] = {x[i, j]:g} times the kernel)", fontsize=11)
    if min(out_shape) > 0:
        _draw_overlap(axes[2], crop(counts, padding))
    else:
        axes[2].axis("off")
    result = f"(1, 1, {out_shape[0]}, {out_shape[1]})" if min(out_shape) > 0 else "no output"
    call = f"conv_transpose2d(x, w, stride={stride}, padding={padding}, output_padding={output_padding})"
    fig.suptitle(f"x: (1, 1, {size}, {size}), w: (1, 1, {kernel_size}, {kernel_size}) of ones  ->  "
                 f"{call}: {result}", fontsize=13)
    notes = []
    if output_padding >= stride:
        notes.append(f"output_padding={output_padding} is not smaller than stride={stride}: "
                     "torch raises an error (output_padding picks one of the stride possible sizes).")
    if min(out_shape) <= 0:
        notes.append(f"padding={padding} crops the whole output: torch raises an error.")
    _notes(fig, notes)
    fig.tight_layout(rect=(0, 0.05 * len(notes), 1, 0.95))


def _draw_scatter_input(ax, x, i, j):
    ax.imshow(x, cmap="Blues", vmin=0, vmax=x.max() * 1.6)
    _cells(ax, x.shape)
    _numbers(ax, x, 12)
    _outline(ax, i, j, 1, 1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("x (being scattered: outlined)", fontsize=11)


def _draw_full_output(ax, full, top, row, col, kernel_size, padding, output_padding):
    ax.imshow(full, cmap="Blues", vmin=0, vmax=max(top, 1) * 1.15)
    _cells(ax, full.shape)
    _numbers(ax, full, _text_size(max(full.shape)), dark_above=0.6 * top)
    _outline(ax, row, col, kernel_size, kernel_size)
    rows, cols = full.shape
    for r, c in itertools.product(range(rows), range(cols)):
        cropped = min(r, c) < padding or r >= rows - padding or c >= cols - padding
        if cropped:
            ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fc="gray", alpha=0.35, hatch="//",
                                       ec="white", lw=0, zorder=3))
    if rows - 2 * padding > 0 and cols - 2 * padding > 0:
        _outline(ax, padding, padding, rows - 2 * padding, cols - 2 * padding, color="black", linewidth=2.5)
    if output_padding:
        # the extra rows/columns lie at the bottom and right of the full output, before the crop
        ax.axhline(rows - output_padding - 0.5, color="#756bb1", lw=2.5, ls="--", zorder=6)
        ax.axvline(cols - output_padding - 0.5, color="#756bb1", lw=2.5, ls="--", zorder=6)
    ax.set_xticks([])
    ax.set_yticks([])
    handles = [plt.Rectangle((0, 0), 1, 1, fill=False, ec="black", lw=2.5, label="the output")]
    if padding:
        handles.append(plt.Rectangle((0, 0), 1, 1, fc="gray", alpha=0.35, hatch="//",
                                     label="cropped by padding"))
    if output_padding:
        handles.append(plt.Line2D([], [], color="#756bb1", lw=2.5, ls="--",
                                  label="below / right of it: output_padding"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, -0.01), fontsize=9, frameon=False,
              ncol=3)


def _draw_overlap(ax, counts):
    ax.imshow(counts, cmap="Oranges", vmin=0, vmax=counts.max() * 1.4)
    _cells(ax, counts.shape)
    _numbers(ax, counts, _text_size(max(counts.shape)), fmt="{}")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"how many copies overlap at each output pixel\n"
                 f"(all {counts.shape[0]} x {counts.shape[1]} of the output, once every copy is in)", fontsize=11)


def explore_scatter(static=None):
    """Sliders and a play button for show_scatter; static without a widget front end."""
    if static or (static is None and not can_show_widgets()):
        return _static_instead(show_scatter, "show_scatter")
    controls = {"size": _slider("input size H = W", 3, 1, 4), "kernel_size": _slider("kernel_size", 3, 1, 5),
                "stride": _slider("stride", 2, 1, 3), "padding": _slider("padding", 0, 0, 2),
                "output_padding": _slider("output_padding", 0, 0, 2)}
    play, controls["step"] = _stepper("copies", 9, 1, 9)

    def update_steps(change):
        _set_max(play, controls["step"], change["new"] ** 2)

    controls["size"].observe(update_steps, names="value")
    _launch(show_scatter, controls, [
        [controls["size"], controls["kernel_size"], controls["stride"]],
        [controls["padding"], controls["output_padding"]],
        [play, controls["step"]]])
