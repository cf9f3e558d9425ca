"""The child process of a grading run: executes a submission's cells and calls its functions.

It runs as a plain script inside the sandbox, so it imports nothing from
`autograder` (the reference solutions are not even visible there). The parent
imports the message framing below from this same file, so both sides speak
one protocol:

    message = one JSON frame, then `n_arrays` frames each holding one .npy blob
    frame   = 4-byte big-endian length, then that many bytes

Arrays travel as .npy bytes read with allow_pickle=False, so nothing the
student's code produces is ever unpickled by the grader. An output that is
None (a gradient of an argument that was None) travels as its position in the
reply's "none_outputs" list, no array frame.
"""
import io
import json
import os
import re
import resource
import struct
import sys
import traceback

import numpy as np

MAX_FRAME_BYTES = 256 * 2**20   # a reply larger than this is refused, not read
MAX_TEXT = 20_000                 # characters of a cell's output kept for feedback
NUMERIC_KINDS = "biuf"            # bool, int, uint, float: what may come back
MAX_PROCESSES = 64                # processes + threads of the child: numpy needs 1, a fork bomb more
HEADROOM_BYTES = 64 * 2**20       # free address space a process needs to go on after a MemoryError

# --------------------------------------------------- functions passed as arguments
# Only arrays and plain values cross the process boundary, so an exercise that
# takes a function (a numerical gradient) receives one of these by name, with
# its array parameters, and the child rebuilds it. Each returns a scalar.
TEST_FUNCTIONS = {
    "cubic": lambda x, a: float(np.sum(a * x ** 3)),
    "tanh_of_linear": lambda x, w: float(np.sum(np.tanh(w @ x.reshape(-1)))),
    "weighted_square_sum": lambda x, a, b: float(np.sum(a * x ** 2 + b * x)),
    "log_sum_exp": lambda x: float(np.log(np.sum(np.exp(x)))),
}


class NamedFunction:
    """TEST_FUNCTIONS[name] with its array parameters bound: callable on both sides."""

    def __init__(self, name, *params):
        if name not in TEST_FUNCTIONS:
            raise KeyError(f"unknown test function {name!r}; known: {sorted(TEST_FUNCTIONS)}")
        self.name, self.params = name, params

    def __call__(self, x):
        return TEST_FUNCTIONS[self.name](np.asarray(x, dtype=np.float64), *self.params)

    def __repr__(self):
        return f"<function {self.name}>"


# ----------------------------------------------------------------- framing
def write_frame(stream, payload):
    stream.write(struct.pack(">I", len(payload)))
    stream.write(payload)


def write_message(stream, header, arrays=()):
    """Send a JSON-able header and a list of numeric ndarrays."""
    header = dict(header, n_arrays=len(arrays))
    write_frame(stream, json.dumps(header).encode())
    for array in arrays:
        # not ascontiguousarray: it turns a 0-d array (a returned scalar) into shape (1,)
        array = np.asarray(array, order="C")
        if array.dtype.hasobject:
            raise ValueError("arrays of Python objects are not sent")
        # The .npy header, then the array's own memory: no copy of a large array on the way
        # (a graded speed check times the round trip).
        header_bytes = io.BytesIO()
        np.lib.format.write_array_header_1_0(header_bytes, np.lib.format.header_data_from_array_1_0(array))
        stream.write(struct.pack(">I", header_bytes.tell() + array.nbytes))
        stream.write(header_bytes.getvalue())
        stream.write(array.reshape(-1).view(np.uint8))
    stream.flush()


def decode_npy(payload):
    """Parse one .npy blob; only plain numeric arrays are accepted."""
    array = np.lib.format.read_array(io.BytesIO(payload), allow_pickle=False)
    if array.dtype.kind not in NUMERIC_KINDS:
        raise ValueError(f"array of dtype {array.dtype} is not allowed")
    return array


def encode_value(value, arrays):
    """Turn call arguments into JSON, moving arrays into the `arrays` list."""
    if isinstance(value, np.ndarray):
        arrays.append(value)
        return {"__array__": len(arrays) - 1}
    if isinstance(value, NamedFunction):
        return {"__function__": value.name, "params": [encode_value(p, arrays) for p in value.params]}
    if isinstance(value, tuple):
        return {"__tuple__": [encode_value(v, arrays) for v in value]}
    if isinstance(value, list):
        return [encode_value(v, arrays) for v in value]
    if isinstance(value, dict):
        return {"__dict__": {k: encode_value(v, arrays) for k, v in value.items()}}
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    return value  # int, float, bool, str, None


def decode_value(value, arrays):
    if isinstance(value, dict):
        if "__array__" in value:
            return arrays[value["__array__"]].copy()
        if "__tuple__" in value:
            return tuple(decode_value(v, arrays) for v in value["__tuple__"])
        if "__dict__" in value:
            return {k: decode_value(v, arrays) for k, v in value["__dict__"].items()}
        if "__function__" in value:
            return NamedFunction(value["__function__"], *decode_value(value["params"], arrays))
    if isinstance(value, list):
        return [decode_value(v, arrays) for v in value]
    return value


# ----------------------------------------------------- turning results into arrays
def to_numeric_array(value, what):
    """Return `value` as a plain numeric ndarray or raise TypeError saying why not."""
    if value is None:
        raise TypeError(f"{what} is None (did the function reach its return with a value?)")
    if isinstance(value, (np.ndarray, np.generic, int, float, bool, list, tuple)):
        array = np.array(value, copy=True, subok=False)  # drops ndarray subclasses
    else:
        raise TypeError(f"{what} is a {type(value).__name__}, expected a NumPy array")
    if array.dtype.kind == "c":
        raise TypeError(f"{what} has complex dtype {array.dtype}; expected real numbers")
    if array.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(f"{what} has dtype {array.dtype}; expected a numeric array")
    return array  # np.array(..., copy=True, subok=False): a base-class copy that owns its data


def outputs_as_arrays(result, output_names):
    """Split a function's return value into one numeric array per expected output.

    An output of several may be None (a backward's gradient of an argument that
    was None) and stays None; the grader decides whether None was expected. A
    single returned None is an error: no exercise returns nothing.
    """
    if len(output_names) == 1:
        return [to_numeric_array(result, "the returned value")]
    if not isinstance(result, (tuple, list)) or len(result) != len(output_names):
        raise TypeError(f"expected a tuple of {len(output_names)} arrays "
                        f"({', '.join(output_names)}), got {type(result).__name__}"
                        + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""))
    return [None if r is None else to_numeric_array(r, name) for r, name in zip(result, output_names)]


def split_none(outputs):
    """(the arrays, the positions of the None outputs): None crosses the boundary as a position in
    the reply's header, never as a pickled object."""
    return [o for o in outputs if o is not None], [i for i, o in enumerate(outputs) if o is None]


def join_none(arrays, none_positions, n_outputs):
    """The outputs again, with None at `none_positions` (the parent's side of split_none).

    Raises ValueError unless the positions are distinct ints among the first
    `n_outputs` (the returned outputs, not the arguments sent back after them).
    """
    if not isinstance(none_positions, list) or any(
            type(i) is not int or not 0 <= i < n_outputs for i in none_positions) \
            or len(set(none_positions)) != len(none_positions):
        raise ValueError(f"malformed None positions {str(none_positions)[:100]}")
    arrays = list(arrays)
    for i in sorted(none_positions):
        arrays.insert(i, None)
    return arrays


# ----------------------------------------------------------- capped output capture
class CappedText(io.TextIOBase):
    """A stdout replacement that keeps the first MAX_TEXT characters and counts the rest."""

    def __init__(self):
        self.parts, self.kept, self.dropped = [], 0, 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = MAX_TEXT - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def getvalue(self):
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[... {self.dropped} more characters of output not shown]"
        return text


class Captured:
    """Context manager routing sys.stdout and sys.stderr into CappedText buffers."""

    def __enter__(self):
        self.saved = sys.stdout, sys.stderr
        self.out, self.err = CappedText(), CappedText()
        sys.stdout, sys.stderr = self.out, self.err
        return self

    def __exit__(self, *exc):
        sys.stdout, sys.stderr = self.saved
        return False


# ------------------------------------------------------------------ operations
def make_shell():
    """An IPython shell without history or colours: runs cells as Jupyter would."""
    from traitlets.config import Config
    from IPython.core.interactiveshell import InteractiveShell
    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.xmode = "Plain"
    return InteractiveShell.instance(config=config)


def figures_as_png(limit=3):
    """PNG bytes of the open matplotlib figures (at most `limit`), then close them all."""
    if "matplotlib.pyplot" not in sys.modules:
        return []
    import base64
    plt = sys.modules["matplotlib.pyplot"]
    images = []
    for number in plt.get_fignums()[:limit]:
        buffer = io.BytesIO()
        plt.figure(number).savefig(buffer, format="png", dpi=60)
        images.append(base64.b64encode(buffer.getvalue()).decode())
    plt.close("all")
    return images


def has_headroom():
    """False when the process is at its memory limit (a cell's data still fills it)."""
    try:
        np.empty(HEADROOM_BYTES, dtype=np.uint8)  # reserves address space, touches nothing
    except MemoryError:
        return False
    return True


def run_cell(shell, header):
    # The cell's own number, so a traceback says "Cell In[42]" for the notebook's 42nd cell
    # (without history every cell would be In[1]); the grader names it "cell 42 of 71".
    shell.execution_count = int(header.get("count") or 1)
    tracebacks = []
    # IPython prints a failing cell's traceback on stdout; keep it apart, as Jupyter does
    shell._showtraceback = lambda etype, evalue, stb: tracebacks.append("\n".join(stb))
    with Captured() as captured:
        result = shell.run_cell(header["source"], store_history=False)
        images = figures_as_png() if header.get("figures") else []
    error = result.error_before_exec or result.error_in_exec
    reply = {"ok": error is None, "stdout": captured.out.getvalue(),
             "stderr": captured.err.getvalue(), "images": images}
    if error is not None:
        reply["ename"] = type(error).__name__
        reply["evalue"] = str(error)[:2000]
        reply["traceback"] = "\n".join(tracebacks)[-MAX_TEXT:]
    # A memory bomb (stopped by MemoryError, or catching it) leaves its data in the
    # namespace; the grader then restarts the process, or every later call would fail.
    reply["low_memory"] = not has_headroom()
    return reply, []


def short_traceback(error):
    """The last frames of a traceback: the student's line that failed, not the harness."""
    frames = traceback.extract_tb(error.__traceback__)[1:]  # drop the harness frame
    lines = [f'  {cell_of(f.filename)}line {f.lineno}, in {f.name}: {(f.line or "").strip()}'
             for f in frames[-3:]]
    return "\n".join(lines)


def cell_of(filename):
    """'Cell In[42], ' for code of the notebook's 42nd cell (IPython's name for it), else ''."""
    match = re.match(r"<ipython-input-(\d+)-", filename)
    return f"Cell In[{match.group(1)}], " if match else ""


def call_function(shell, header, arrays):
    name = header["name"]
    function = shell.user_ns.get(name)
    if function is None and header.get("kind") == "value":
        return {"ok": False, "error": f"{name} has no answer yet (it is None or not assigned)"}, []
    if function is None:
        return {"ok": False, "error": f"no function named {name} is defined "
                                      "(did the cell that defines it run without errors?)"}, []
    if header.get("kind") == "value":
        try:
            return {"ok": True}, [to_numeric_array(function, name)]
        except TypeError as error:
            return {"ok": False, "error": str(error)}, []
    if not callable(function):
        return {"ok": False, "error": f"{name} is a {type(function).__name__}, not a function"}, []
    args = decode_value(header["args"], arrays)
    kwargs = decode_value(header["kwargs"], arrays)
    with Captured():
        try:
            result = function(*args, **kwargs)
            outputs = outputs_as_arrays(result, header["output_names"])
        except BaseException as error:  # noqa: BLE001 - report everything, even SystemExit
            message = f"{type(error).__name__}: {str(error)[:500]}"
            return {"ok": False, "error": message, "traceback": short_traceback(error)}, []
    outputs, none_positions = split_none(outputs)
    if header.get("return_args"):
        # the inputs after the call, so the parent can see whether they were modified
        outputs += [a for a in args if isinstance(a, np.ndarray)]
    return {"ok": True, "none_outputs": none_positions}, outputs


def drop_privileges():
    """Become the unprivileged uid the grader chose, if it chose one (it runs as root).

    Root is exempt from RLIMIT_NPROC, so a fork bomb run as root stops only when
    the machine runs out of processes; as a uid of its own the child may have
    MAX_PROCESSES processes and threads, and the grader can kill all of them.
    Any failure here ends the child: it must never run student code as root.
    """
    uid = os.environ.pop("AUTOGRADER_CHILD_UID", None)
    if uid is None:
        return
    os.setgroups([])
    os.setgid(int(uid))
    os.setuid(int(uid))
    resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))


def main():
    drop_privileges()
    # Keep the protocol pipes for ourselves; student code writing to fd 0/1/2 goes nowhere.
    inbox = os.fdopen(os.dup(0), "rb")
    outbox = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    sys.path.insert(0, os.getcwd())  # helper modules shipped beside the notebook
    shell = make_shell()
    write_message(outbox, {"ok": True, "ready": True})
    while True:
        header, arrays = read_message(inbox)
        if header["op"] == "run_cell":
            reply = run_cell(shell, header)
        elif header["op"] == "call":
            reply = call_function(shell, header, arrays)
        else:
            break
        # Echo the request's number: a reply the student's code forged on this pipe
        # leaves the real one behind, and the grader sees it arrive out of turn.
        write_message(outbox, dict(reply[0], seq=header.get("seq")), reply[1])


def read_frame(stream):
    size_bytes = stream.read(4)
    if len(size_bytes) < 4:
        raise EOFError("the other side closed the pipe")
    (size,) = struct.unpack(">I", size_bytes)
    if size > MAX_FRAME_BYTES:
        raise ValueError(f"a frame of {size} bytes is larger than allowed")
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError("the other side closed the pipe mid-message")
    return payload


def read_message(stream):
    """Blocking read of one message (the child's side; the parent reads with deadlines)."""
    header = json.loads(read_frame(stream))
    arrays = [decode_npy(read_frame(stream)) for _ in range(header.get("n_arrays", 0))]
    return header, arrays


if __name__ == "__main__":
    main()
