"""Time the reference operations against simple loops and PyTorch.

    python -m autograder.bench [--quick] [--repeat N] [--sweeps S] [--only OP[,OP...]] [--threads N] [--clock cpu]

For every operation, forward and backward, on realistic sizes, print a Markdown
table: the reference (NumPy) time, the plain-loop time (the deliberately simple
versions in tests/naive_*.py, when present), the PyTorch CPU float64 time (when
torch is importable) and the ratio reference / torch. Every time is the best of
--repeat wall-clock runs (time.perf_counter) after one untimed warm-up call;
the runs go round the reference and torch calls of one case in turn, so that
both meet the same load from other processes. The runs of every case are split
over --sweeps passes through the whole list of cases (default 4), so that a slow
phase of a shared machine, which can last tens of seconds, meets only some of
them: the best time then comes from a quiet moment for both implementations.

Pure-Python loops at full size take minutes, so the loop version runs on a
smaller batch and channel count and its time is scaled by the ratio of the
work; the work of every benchmarked operation is exactly proportional to N and
to the channel counts, so only per-call overhead is extrapolated. The table
says which entries are scaled and by how much.

Both NumPy's BLAS and torch run single-threaded by default (--threads), so the
ratio compares implementations, not core counts. On a machine busy with other
jobs, --clock cpu times the calling thread's CPU time (time.thread_time)
instead of wall-clock time: with one thread it leaves out the time other
processes hold the core, the main source of noise (torch's CPU backward runs on
the calling thread too).
Operations that do not exist yet are listed with a note instead of a time.
"""
import argparse
import importlib
import inspect
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


def _limit_threads(threads):
    # BLAS reads these once, when numpy is first imported, so they must be set
    # before that import; setdefault keeps whatever the caller exported.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))


REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"


@dataclass
class Case:
    """One operation at one size.

    op:      name shared by the reference module, the naive module and torch.nn.functional
    module:  reference module under autograder.reference ('conv', 'pooling', 'network', 'normalization',
             'fast');
             also picks the loop version's module (tests/naive_conv.py, tests/naive_pooling.py)
    arrays:  input name -> shape, in the forward's positional order; 'target' holds class indices
    kwargs:  hyperparameters, passed by keyword to every implementation
    loop_arrays: smaller shapes for the loop version; its time is multiplied by loop_scale
    torch_op, torch_kwargs: torch.nn.functional's name and keyword arguments, where they differ
                 (im2col is torch's unfold, col2im's x_shape is fold's output_size)
    forward_only: no backward is timed (the reference has no <op>_backward)
    torch_recomputes: torch's backward is timed together with its forward. For max pooling:
                 torch's backward reuses the argmax its forward saved, the reference's
                 backward (which takes x, as every <op>_backward) must find the maxima again;
                 for batch norm in training, layer norm and group norm: torch's backward
                 reuses the mean and inverse standard deviation its forward saved, the
                 reference's computes them again from x
    """
    op: str
    module: str
    size: str
    arrays: dict
    kwargs: dict = field(default_factory=dict)
    loop_arrays: dict = None
    loop_scale: int = 1
    loop_note: str = ""
    torch_op: str = ""
    torch_kwargs: dict = None
    forward_only: bool = False
    torch_recomputes: bool = False


def _pool_case(op, kwargs, size):
    return Case(op, "pooling", size, {"x": (8, 32, 64, 64)}, kwargs,
                loop_arrays={"x": (1, 4, 64, 64)}, loop_scale=64, loop_note="N=1, C=4",
                torch_recomputes=op in ("max_pool2d", "adaptive_max_pool2d"))


def cases():
    """The benchmark: a small CNN's layers at the sizes of a CIFAR-like network."""
    return [
        Case("conv2d", "conv", "x 8x16x32x32, w 32x16x3x3, s1 p1",
             {"x": (8, 16, 32, 32), "w": (32, 16, 3, 3), "b": (32,)}, {"stride": 1, "padding": 1},
             loop_arrays={"x": (1, 16, 32, 32), "w": (4, 16, 3, 3), "b": (4,)},
             loop_scale=64, loop_note="N=1, C_out=4"),
        # The adjoint of the conv above: maps its output shape back to its input shape.
        Case("conv_transpose2d", "conv", "x 8x32x32x32, w 32x16x3x3, s1 p1",
             {"x": (8, 32, 32, 32), "w": (32, 16, 3, 3), "b": (16,)}, {"stride": 1, "padding": 1},
             loop_arrays={"x": (1, 32, 32, 32), "w": (32, 2, 3, 3), "b": (2,)},
             loop_scale=64, loop_note="N=1, C_out=2"),
        # The usual 2x upsampling step (DCGAN): 16x16 -> 32x32.
        Case("conv_transpose2d", "conv", "x 8x32x16x16, w 32x16x4x4, s2 p1",
             {"x": (8, 32, 16, 16), "w": (32, 16, 4, 4), "b": (16,)}, {"stride": 2, "padding": 1},
             loop_arrays={"x": (1, 32, 16, 16), "w": (32, 2, 4, 4), "b": (2,)},
             loop_scale=64, loop_note="N=1, C_out=2"),
        _pool_case("max_pool2d", {"kernel_size": 2, "stride": 2}, "x 8x32x64x64, 2x2/2"),
        _pool_case("max_pool2d", {"kernel_size": 3, "stride": 2}, "x 8x32x64x64, 3x3/2"),
        _pool_case("avg_pool2d", {"kernel_size": 2, "stride": 2}, "x 8x32x64x64, 2x2/2"),
        _pool_case("avg_pool2d", {"kernel_size": 3, "stride": 2}, "x 8x32x64x64, 3x3/2"),
        _pool_case("adaptive_avg_pool2d", {"output_size": 7}, "x 8x32x64x64 -> 7x7"),
        _pool_case("adaptive_max_pool2d", {"output_size": 7}, "x 8x32x64x64 -> 7x7"),
        Case("channel_shuffle", "conv", "x 8x32x64x64, groups 4", {"x": (8, 32, 64, 64)},
             {"groups": 4}, loop_arrays={"x": (1, 32, 64, 64)}, loop_scale=8, loop_note="N=1"),
        # A small MLP head: 64 samples, 784 -> 256 -> ReLU -> 10 -> cross-entropy.
        Case("linear", "network", "x 64x784, w 256x784",
             {"x": (64, 784), "w": (256, 784), "b": (256,)}),
        Case("relu", "network", "x 64x256", {"x": (64, 256)}),
        Case("cross_entropy", "network", "x 64x10, 10 classes", {"x": (64, 10), "target": (64,)}),
        # Normalization layers of the same CNN (lesson 4); batch norm takes running statistics.
        Case("batch_norm", "normalization", "x 8x32x32x32, training", _bn_arrays((8, 32, 32, 32)),
             {"training": True}, torch_recomputes=True),
        Case("batch_norm", "normalization", "x 8x32x32x32, evaluation", _bn_arrays((8, 32, 32, 32)),
             {"training": False}),
        Case("batch_norm", "normalization", "x 64x256, training", _bn_arrays((64, 256)), {"training": True},
             torch_recomputes=True),
        Case("layer_norm", "normalization", "x 8x32x32x32 over (C, H, W)", {"x": (8, 32, 32, 32)},
             {"normalized_shape": (32, 32, 32)}, torch_recomputes=True),
        Case("group_norm", "normalization", "x 8x32x32x32, 8 groups", {"x": (8, 32, 32, 32)}, {"num_groups": 8},
             torch_recomputes=True),
        Case("local_response_norm", "normalization", "x 8x32x32x32, size 5", {"x": (8, 32, 32, 32)},
             {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0}),
        # Lesson 5 on the conv layer above: its columns, their scatter back, and Winograd's conv.
        Case("im2col", "fast", "x 8x16x32x32, 3x3, p1", {"x": (8, 16, 32, 32)},
             {"kernel_size": 3, "padding": 1}, torch_op="unfold", forward_only=True),
        Case("col2im", "fast", "cols 8x144x1024 -> 8x16x32x32, 3x3, p1", {"cols": (8, 144, 1024)},
             {"x_shape": (8, 16, 32, 32), "kernel_size": 3, "padding": 1}, torch_op="fold",
             torch_kwargs={"output_size": (32, 32), "kernel_size": 3, "padding": 1}, forward_only=True),
        Case("winograd_conv2d", "fast", "x 8x16x32x32, w 32x16x3x3, p1",
             {"x": (8, 16, 32, 32), "w": (32, 16, 3, 3)}, {"padding": 1}, torch_op="conv2d", forward_only=True),
    ]


def _bn_arrays(shape):
    """batch_norm's arrays in its positional order: x, running_mean, running_var, weight, bias."""
    c = shape[1]
    return {"x": shape, "running_mean": (c,), "running_var": (c,), "weight": (c,), "bias": (c,)}


# Inputs that are not differentiated (torch updates the running statistics in place).
NOT_DIFFERENTIATED = ("target", "running_mean", "running_var")


# ----------------------------------------------------------------------- inputs

def make_arrays(case, shapes, np, seed=0):
    """Random float64 inputs of the given shapes; 'target' gets class indices."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for name, shape in shapes.items():
        if name == "target":
            arrays[name] = rng.integers(0, case.arrays["x"][1], shape)
        elif name == "running_var":
            arrays[name] = rng.uniform(0.5, 2.0, shape)    # a variance is positive
        else:
            arrays[name] = rng.standard_normal(shape)
    return arrays


def backward_args(backward, arrays):
    """The forward's arrays that `backward` takes (conv2d_backward takes x and w, not b)."""
    params = inspect.signature(backward).parameters
    return [a for name, a in arrays.items() if name in params]


# ------------------------------------------------------------------------ timing

CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def best_times(fns, repeat, clock=time.perf_counter):
    """Best seconds (of `clock`) of every fn in the dict `fns` over `repeat` rounds.

    Each round calls every function once, so a burst of load from other
    processes spoils one round rather than every run of one function.
    """
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for key, fn in fns.items():
            start = clock()
            fn()
            best[key] = min(best[key], clock() - start)
    return best


def _load(module_name):
    try:
        return importlib.import_module(module_name)
    except ImportError as err:
        return err


def _grad_out(out, np):
    # A scalar loss gets the scalar upstream gradient 1; others a fixed random array.
    if np.ndim(out) == 0:
        return np.float64(1.0)
    return np.random.default_rng(1).standard_normal(np.shape(out))


def _bind(forward, backward, arrays, kwargs, np):
    """Forward and backward closures on fixed inputs, the forward output and the gradients.

    Computing the output and gradients once here also serves as the warm-up call.
    """
    out = forward(*arrays.values(), **kwargs)
    grad_out = _grad_out(out, np)
    if backward is None:
        return (lambda: forward(*arrays.values(), **kwargs)), None, out, None
    args = backward_args(backward, arrays)
    grads = backward(grad_out, *args, **kwargs)
    return ((lambda: forward(*arrays.values(), **kwargs)),
            (lambda: backward(grad_out, *args, **kwargs)), out, grads)


def prepare_reference(case, np):
    """(forward fn, backward fn, output, gradients) of the reference, or a note string.

    The package re-exports every operation; its module is the fallback in case
    the package's __init__ is not there yet.
    """
    for name in ("autograder.reference", f"autograder.reference.{case.module}"):
        module = _load(name)
        forward = getattr(module, case.op, None)
        backward = None if case.forward_only else getattr(module, case.op + "_backward", None)
        if forward is not None and (backward is not None or case.forward_only):
            arrays = make_arrays(case, case.arrays, np)
            return _bind(forward, backward, arrays, case.kwargs, np)
    return f"{case.op} or {case.op}_backward missing from autograder.reference"


def prepare_loop(case, np):
    """(forward fn, backward fn or None) of the naive loop version at the reduced size, or a note."""
    naive_module = {"conv": "naive_conv", "pooling": "naive_pooling"}.get(case.module)
    if naive_module is None:
        return "no loop version"
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    module = _load(naive_module)
    if isinstance(module, Exception):
        return f"tests/{naive_module}.py not importable"
    forward = getattr(module, case.op, None)
    if forward is None:
        return f"{case.op} missing from tests/{naive_module}.py"
    backward = getattr(module, case.op + "_backward", None)
    arrays = make_arrays(case, case.loop_arrays or case.arrays, np)
    return _bind(forward, backward, arrays, case.kwargs, np)[:2]


def prepare_torch(case, torch, np):
    """(forward fn, backward fn, output, input gradients) with torch.nn.functional."""
    F = torch.nn.functional
    forward = getattr(F, case.torch_op or case.op)
    kwargs = case.kwargs if case.torch_kwargs is None else case.torch_kwargs
    arrays = make_arrays(case, case.arrays, np)
    tensors = {name: torch.tensor(a, requires_grad=name not in NOT_DIFFERENTIATED) for name, a in arrays.items()}
    inputs = [t for t in tensors.values() if t.requires_grad]

    def forward_no_grad():
        with torch.no_grad():
            return forward(*tensors.values(), **kwargs)

    if case.forward_only:
        return forward_no_grad, None, forward_no_grad().numpy(), None
    out = forward(*tensors.values(), **kwargs)
    grad_out = torch.tensor(_grad_out(out.detach().numpy(), np))
    # retain_graph lets the same graph be differentiated again and again, so
    # only the backward pass is timed.
    def backward():
        return torch.autograd.grad(out, inputs, grad_out, retain_graph=True)

    def forward_and_backward():
        return torch.autograd.grad(forward(*tensors.values(), **kwargs), inputs, grad_out)

    forward_no_grad()
    grads = backward()
    timed_backward = forward_and_backward if case.torch_recomputes else backward
    return forward_no_grad, timed_backward, out.detach().numpy(), [g.numpy() for g in grads]


def agrees(ref_out, ref_grads, torch_out, torch_grads, np):
    """True when the reference reproduces torch's output and input gradients."""
    ref_grads = () if ref_grads is None else ref_grads if isinstance(ref_grads, tuple) else (ref_grads,)
    pairs = [(ref_out, torch_out)] + list(zip(ref_grads, torch_grads or ()))
    return all(np.allclose(a, b, rtol=1e-9, atol=1e-9) for a, b in pairs)


# ------------------------------------------------------------------------ report

def _ms(seconds):
    if seconds is None:
        return "—"
    return f"{seconds * 1e3:.3g}" if seconds < 1 else f"{seconds * 1e3:,.0f}"


DIRECTIONS = ("forward", "backward")


def run(case_list, repeat, loop_repeat, np, torch, clock=time.perf_counter, sweeps=1):
    """Return one table row (list of cells) per case and direction.

    Each case gets `repeat` rounds in all, in `sweeps` passes over the list of cases.
    """
    fns, loop_fns, notes = {}, {}, {}
    for i, case in enumerate(case_list):
        ref = prepare_reference(case, np)
        if isinstance(ref, str):
            notes[i] = [f"skipped: {ref}"] * 2
            continue
        fns[i, "ref", 0] = ref[0]
        if ref[1] is not None:
            fns[i, "ref", 1] = ref[1]
        loop = prepare_loop(case, np)
        if isinstance(loop, str):
            notes[i] = [loop, loop]
        else:
            scaled = f"loop x{case.loop_scale} from {case.loop_note}" if case.loop_scale > 1 else ""
            notes[i] = [scaled, scaled if loop[1] is not None else "no loop backward"]
            loop_fns[i, "loop", 0] = loop[0]
            if loop[1] is not None:
                loop_fns[i, "loop", 1] = loop[1]
        if case.torch_recomputes and torch is not None:
            saved = "with indices" if case.module == "pooling" else "saving the statistics"
            notes[i][1] = "; ".join(filter(None, [notes[i][1], f"torch: forward ({saved}) + backward"]))
        if torch is not None:
            t_fwd, t_bwd, t_out, t_grads = prepare_torch(case, torch, np)
            fns[i, "torch", 0] = t_fwd
            if t_bwd is not None:
                fns[i, "torch", 1] = t_bwd
            if not agrees(ref[2], ref[3], t_out, t_grads, np):
                notes[i] = ["; ".join(filter(None, [n, "REFERENCE DIFFERS FROM TORCH"]))
                            for n in notes[i]]
    # Rounds go over one case's reference and torch calls in turn, so both see
    # the same load from other processes, and the case's data stays in cache.
    # On a shared machine a phase of slow memory can last tens of seconds and hit
    # the reference's memory-bound passes more than torch (an unchanged avg_pool2d
    # measured 1.74-1.86x in three runs and 1.21x two minutes later): spreading
    # each case's rounds over several sweeps lets its best time avoid such a phase.
    times = {}
    rounds = -(-repeat // sweeps)
    for _ in range(sweeps):
        for i in range(len(case_list)):
            for key, t in best_times({k: f for k, f in fns.items() if k[0] == i}, rounds, clock).items():
                times[key] = min(times.get(key, float("inf")), t)
    times.update({key: t * case_list[key[0]].loop_scale
                  for key, t in best_times(loop_fns, loop_repeat, clock).items()})
    rows = []
    for i, case in enumerate(case_list):
        for k, direction in enumerate(DIRECTIONS[:1] if case.forward_only else DIRECTIONS):
            ref, loop, tch = (times.get((i, impl, k)) for impl in ("ref", "loop", "torch"))
            ratio = f"{ref / tch:.2f}" if ref and tch else "—"
            rows.append([case.op, direction, case.size, _ms(ref), _ms(loop), _ms(tch), ratio,
                         notes[i][k]])
    return rows


HEADER = ["op", "direction", "size", "reference ms", "loop ms", "torch ms", "ref/torch", "note"]


def print_row(cells):
    print("| " + " | ".join(cells) + " |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="one timed run per measurement (and the loop versions once)")
    parser.add_argument("--repeat", type=int, default=5, help="best of N runs (default 5)")
    parser.add_argument("--sweeps", type=int, default=4,
                        help="split the N runs of each case over S passes through all cases (default 4)")
    parser.add_argument("--only", default="", help="comma-separated op names to run")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS and torch threads (default 1)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall-clock time (default) or the thread's CPU time (with --threads 1 only)")
    args = parser.parse_args(argv)
    if args.clock == "cpu" and args.threads != 1:
        parser.error("--clock cpu measures one thread: use it with --threads 1")
    _limit_threads(args.threads)
    import numpy as np
    try:
        # Also covers the case where numpy was imported before the variables were set.
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)
    except ImportError:
        pass
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    repeat = 1 if args.quick else max(1, args.repeat)
    sweeps = max(1, min(args.sweeps, repeat))
    loop_repeat = 1 if args.quick else min(repeat, 2)  # a loop run takes seconds
    only = set(filter(None, args.only.split(",")))
    selected = [c for c in cases() if not only or c.op in only]

    torch_version = torch.__version__ if torch is not None else "not installed"
    print(f"numpy {np.__version__}, torch {torch_version}, threads {args.threads}, {args.clock} clock, "
          f"best of {-(-repeat // sweeps) * sweeps} in {sweeps} sweep{'s' if sweeps > 1 else ''} "
          f"(loop versions: best of {loop_repeat}, run at reduced size and scaled)")
    print(flush=True)
    rows = run(selected, repeat, loop_repeat, np, torch, CLOCKS[args.clock], sweeps)
    print_row(HEADER)
    print_row(["---"] * len(HEADER))
    for row in rows:
        print_row(row)
    print()
    # Other processes share the cores; the load average tells a reader how quiet the run was.
    print("load average (1, 5, 15 min) after the run: " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
