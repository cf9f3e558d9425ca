"""JupyterLab in a real browser: a student opens a notebook, runs every cell and sees the figures.

One JupyterLab server runs on 127.0.0.1 over a throwaway copy of the course (notebooks/,
release/, nbgrader_config.py) and Debian's Chromium, driven by Playwright, opens each notebook
the way a student would: the menus, the toolbar, Run All. Every cell must run once, in order, in
one kernel (in a release notebook the unsolved exercises raise, and the run goes on past them),
every figure the kernel sent must be drawn on the page, a slider must reach the kernel, and
nbgrader's Validate button and assignment tools must be there and answer. Screenshots go to
tmp_path, and to $ARTIFACTS_DIR (or artifacts/ when $CI is set) for people to look at.

Needs `chromium` from Debian (never a browser downloaded by Playwright) and the `playwright`
package; skips with the reason when either is missing.
"""
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (it is in requirements.txt); "
                                  "the browser test needs it")

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's Chromium is not installed "
                                                "(apt-get install chromium); no browser to test JupyterLab in"),
]
# Both notebooks share one JupyterLab server and one browser: pytest's `--dist loadfile`
# keeps this file's tests on one xdist worker.

# As root Chromium needs --no-sandbox; the closed network refuses the connections Chromium makes
# on its own (updates, sync, field trials), so those are switched off instead of left to time out.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# JupyterLab settings for the test: every cell stays in the page (no virtual scrolling, so all
# outputs can be counted and photographed), and no news or update pop-ups over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        '{"fetchNews": "false", "checkForUpdates": false}',
}

NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in the current tab
CODE_PROMPTS = f"{NOTEBOOK} .jp-CodeCell .jp-InputPrompt"
KERNEL_IDLE = ".jp-StatusBar-TextItem:has-text('| Idle')"

# (path in the repository, whether unsolved exercises raise, figures that must render at least,
# whether it has a slider to move). Start-here checks the environment and shows a slider, no figure;
# the figures counted are those that need none of the student's functions (in 02: receptive
# field, connectivity, sizes per step, the two backward-pass diagrams, the digits); the others
# appear once the exercises are solved.
NOTEBOOKS = [
    pytest.param("notebooks/00_start_here.ipynb", False, 0, True, id="00_start_here"),
    pytest.param("release/01_pooling/01_pooling.ipynb", True, 6, False, id="01_pooling-release"),
    pytest.param("release/02_cnn_backprop/02_cnn_backprop.ipynb", True, 6, False, id="02_cnn_backprop-release"),
    pytest.param("release/03_conv_variants/03_conv_variants.ipynb", True, 9, False, id="03_conv_variants-release"),
]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_course(destination):
    """What a student's JupyterLab sees: the notebooks, the release lessons and nbgrader's config."""
    for name in ("notebooks", "release"):
        shutil.copytree(ROOT / name, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", destination / "nbgrader_config.py")
    return destination


def wait_until_answering(url, process, log, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with status {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"JupyterLab did not answer {url} within {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server over a copy of the course; yields (base URL, token, course root)."""
    base = tmp_path_factory.mktemp("lab")
    course = copy_course(base / "course")
    config = base / "config"
    for name, text in LAB_SETTINGS.items():
        path = config / "lab" / "user-settings" / name
        path.parent.mkdir(parents=True)
        path.write_text(text)
    venv_bin = os.path.dirname(sys.executable)
    # Our own config, data and IPython folders: no user settings, workspaces or kernels leak in.
    env = dict(os.environ, PATH=venv_bin + os.pathsep + os.environ.get("PATH", ""),
               JUPYTER_CONFIG_DIR=str(config), JUPYTER_DATA_DIR=str(base / "data"),
               JUPYTER_RUNTIME_DIR=str(base / "runtime"), IPYTHONDIR=str(base / "ipython"))
    env.pop("MPLBACKEND", None)  # conftest.py sets Agg; the kernel must use its inline backend
    port, token = free_port(), secrets.token_hex(16)
    log = base / "jupyterlab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
             f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}"],
            cwd=course, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_answering(f"{url}/api/status?token={token}", process, log)
        yield url, token, course
    finally:
        process.terminate()  # JupyterLab shuts its kernels down on SIGTERM ...
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        try:  # ... and whatever is left of its session (kernels) goes too
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(30_000)
        try:
            yield context
        finally:
            context.close()


def prompts(page):
    return [text.strip() for text in page.locator(CODE_PROMPTS).all_inner_texts()]


def prepare(path):
    """Clear the copy's outputs, and tag every code cell `raises-exception` so Run All runs them all.

    Without the tag, an error (an unsolved exercise) makes JupyterLab mark the queued cells as not
    run while the kernel cancels some of them, and which ones is a race (ipykernel 7 still runs
    those that reach it after the error). With it, every cell runs, in order; errors stay in the
    outputs, where the test reads them.
    """
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata["tags"] = sorted(set(cell.metadata.get("tags", [])) | {"raises-exception"})
    nbformat.write(notebook, path)


def run_all(page):
    """Run All from the Run menu; wait until every code cell has its execution count.

    Fails at once when a dialog opens instead (JupyterLab's "Kernel Restarting" when the kernel died).
    """
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator("li[data-command='runmenu:run-all']").click()
    try:
        page.wait_for_function(
            """selector => document.querySelector('.jp-Dialog') || [...document.querySelectorAll(selector)]
                .every(e => /^\\[\\d+\\]:$/.test(e.textContent.trim()))""", arg=CODE_PROMPTS, timeout=120_000)
    except sync_api.TimeoutError:
        pytest.fail(f"Run All did not run every cell within 120 s: {' '.join(prompts(page))}")
    dialogs = page.locator(".jp-Dialog")
    if dialogs.count():
        pytest.fail(f"a dialog opened during Run All (kernel died?): {dialogs.all_inner_texts()}")
    return prompts(page)


def screenshot_notebook(page, folder, stem, tallest=12_000):
    """The whole notebook, top to bottom: one tall screenshot, or a few when it is taller than `tallest`."""
    scroller = page.locator(f"{NOTEBOOK} .jp-WindowedPanel-outer")
    # From the top of the notebook to the bottom of its last cell (below it is blank space).
    measure = """e => { const cells = e.querySelectorAll('.jp-Cell');
                        const bottom = cells[cells.length - 1].getBoundingClientRect().bottom;
                        return [Math.ceil(bottom - e.getBoundingClientRect().top + e.scrollTop) + 20, e.clientHeight]; }"""
    viewport = page.viewport_size
    height, visible = scroller.evaluate(measure)
    chrome = viewport["height"] - visible  # menus, toolbars and status bar
    # JupyterLab fills the window: a window as tall as the notebook (plus menus and toolbars) shows it all.
    tall = min(height + chrome, tallest)
    page.set_viewport_size({"width": viewport["width"], "height": tall})
    try:
        # JupyterLab lays itself out again a moment after the resize; measure only after that
        # (or after 5 s: then there are more, shorter pieces, at most 5).
        scroller.evaluate("(e, want) => new Promise(done => { setTimeout(done, 5000); const check = () => "
                          "e.clientHeight >= want ? done() : requestAnimationFrame(check); check(); })",
                          tall - chrome - 2)
        height, step = scroller.evaluate(measure)
        for k, top in enumerate(range(0, height, step)[:5], start=1):
            scroller.evaluate("(e, top) => { e.scrollTop = top; }", top)
            page.wait_for_timeout(300)  # let the scrolled outputs paint
            page.screenshot(path=folder / f"{stem}-3-run-{k}.png")
    finally:
        page.set_viewport_size(viewport)


def saved_outputs(path):
    """Image outputs and error names in the notebook as JupyterLab saved it."""
    notebook = nbformat.read(path, as_version=4)
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    images = sum("image/png" in output.get("data", {}) for output in outputs)
    errors = [output.ename for output in outputs if output.output_type == "error"]
    return images, errors


def move_first_slider(page):
    """Press the right arrow on the first slider; return what the kernel shows beside it, before and after.

    The text of the slider's output without the slider itself (whose readout the browser updates
    on its own): it changes only when the kernel's callback answered.
    """
    output = page.locator(f"{NOTEBOOK} .jp-OutputArea-output:has(.widget-slider)").first
    assert output.count() == 1, "no slider was drawn (is ipywidgets' JupyterLab extension installed?)"
    beside = """o => { const copy = o.cloneNode(true);
                       copy.querySelectorAll('.widget-slider').forEach(s => s.remove());
                       return copy.textContent.trim(); }"""
    before = output.evaluate(beside)
    output.locator(".noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")
    try:
        page.wait_for_function(f"([o, before]) => ({beside})(o) !== before",
                               arg=[output.element_handle(), before], timeout=10_000)
    except sync_api.TimeoutError:
        pass  # reported by the caller's assertion, with both texts
    return before, output.evaluate(beside)


def keep_screenshots(folder):
    """Copy the screenshots where CI (or whoever set $ARTIFACTS_DIR) keeps them."""
    target = os.environ.get("ARTIFACTS_DIR") or (os.environ.get("CI") and str(ROOT / "artifacts"))
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for path in folder.glob("*.png"):
            shutil.copy(path, Path(target) / path.name)


@pytest.mark.parametrize("notebook, unsolved, min_figures, slider", NOTEBOOKS)
def test_notebook_runs_in_jupyterlab_with_figures_and_nbgrader_tools(lab, browser, tmp_path, notebook,
                                                                     unsolved, min_figures, slider):
    assert (ROOT / notebook).exists(), f"{notebook} does not exist in the repository"
    url, token, course = lab
    stem = Path(notebook).stem
    prepare(course / notebook)
    page = browser.new_page()
    try:
        # A workspace of its own, reset: no tab of another test is restored next to this one.
        page.goto(f"{url}/lab/workspaces/{stem}/tree/{notebook}?reset&token={token}")
        page.locator(KERNEL_IDLE).wait_for(timeout=60_000)
        page.screenshot(path=tmp_path / f"{stem}-1-opened.png")

        # nbgrader's lab extension: Validate in the notebook's toolbar, its tools in its menu.
        assert page.locator(f"{NOTEBOOK} .jp-NotebookPanel-toolbar .validate-button").is_visible(), \
            "nbgrader's Validate button is missing from the notebook toolbar"
        page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
        items = page.locator(".lm-Menu .lm-Menu-itemLabel").all_inner_texts()
        page.screenshot(path=tmp_path / f"{stem}-2-nbgrader-menu.png")
        page.keyboard.press("Escape")
        assert {"Assignment List", "Course List", "Formgrader"} <= set(items), \
            f"nbgrader's menu lacks its assignment tools: {items}"

        counts = [int(text.strip("[]:")) for text in run_all(page)]
        # One kernel ran each cell once, top to bottom: a restart would start the count at 1 again.
        assert counts == list(range(1, len(counts) + 1)), \
            f"execution counts are not 1, 2, 3, ... (kernel restarted or cells run twice?): {counts}"
        page.locator(KERNEL_IDLE).wait_for(timeout=10_000)

        page.keyboard.press("Control+s")
        page.locator(".lm-TabBar-tab.jp-mod-current:not(.jp-mod-dirty)").wait_for()
        images, errors = saved_outputs(course / notebook)
        drawn = page.evaluate(
            f"[...document.querySelectorAll('{NOTEBOOK} .jp-RenderedImage img')]"
            ".filter(img => img.complete && img.naturalWidth > 0 && img.src.startsWith('data:image/png')).length")
        assert not {"ModuleNotFoundError", "ImportError"} & set(errors), \
            f"the student's environment lacks a module: {errors}"
        if unsolved:
            assert "NotImplementedError" in errors, f"the release notebook's exercises did not raise: {errors}"
        else:
            assert errors == [], f"cells raised: {errors}"
        assert drawn == images, f"the kernel sent {images} figures, the page shows {drawn}"
        assert drawn >= min_figures, f"only {drawn} figures rendered, expected at least {min_figures}"
        if slider:  # ipywidgets work: the slider is drawn and the kernel answers when it moves
            before, after = move_first_slider(page)
            assert before != after, f"moving the slider changed nothing beside it: {before!r}"
        screenshot_notebook(page, tmp_path, stem)

        if unsolved:  # Validate works end to end: nbgrader runs the notebook on the server and judges it
            page.locator(f"{NOTEBOOK} .validate-button").click()
            dialog = page.locator(".jp-Dialog")
            dialog.wait_for(timeout=120_000)
            page.screenshot(path=tmp_path / f"{stem}-4-validate.png")
            # nbgrader's verdict, not "There was an error running ...": an unsolved notebook fails
            # its visible tests (0-point test cells), so Validate must not say "Success!".
            assert dialog.locator(".validation-success, .validation-failed").count() == 1, \
                f"Validate gave no verdict: {dialog.inner_text()}"
            assert dialog.locator(".validation-failed").count() == 1, \
                f"Validate passed an unsolved notebook: {dialog.inner_text()}"
    finally:
        page.screenshot(path=tmp_path / f"{stem}-5-last.png")
        page.close()
        keep_screenshots(tmp_path)


def open_offline(browser, page_path):
    """A new page routed so that everything but `page_path` itself is refused and recorded
    (a CDN script or font would show in the list); returns (page, fetched urls)."""
    page = browser.new_page()
    fetched = []

    def offline(route):
        if route.request.url == page_path.as_uri():
            return route.continue_()
        fetched.append(route.request.url)
        return route.abort()

    page.route("**/*", offline)
    return page, fetched


def test_class_report_opens_offline_with_every_figure_drawn(browser, tmp_path):
    """The class report (python -m autograder report) in Chromium: one file, nothing fetched, figures drawn."""
    from autograder.__main__ import main
    from autograder.bench_report import write_class

    results = write_class(tmp_path / "results", 40)
    page_path = tmp_path / "report.html"
    assert main(["report", str(results), "-o", str(page_path)]) == 0
    page, fetched = open_offline(browser, page_path)
    try:
        page.goto(page_path.as_uri())
        page.wait_for_load_state("load")
        images = page.evaluate("[...document.images].map(i => [i.complete && i.naturalWidth > 0, "
                               "i.src.startsWith('data:image/png;base64,')])")
        page.screenshot(path=tmp_path / "class-report.png", full_page=True)
        assert fetched == [], f"the report fetched other files: {fetched}"
        assert len(images) >= 3 and all(drawn and inline for drawn, inline in images), images
        assert page.locator("h2").count() == 1 and page.locator("table tr").count() > 40
    finally:
        page.close()
        keep_screenshots(tmp_path)


def test_feedback_formulas_are_drawn_offline(browser, tmp_path):
    """A lesson's feedback HTML in Chromium with the network refused: its MathML formulas are laid out
    as math (a fraction's numerator above its denominator), not left as TeX for a CDN's MathJax."""
    pytest.importorskip("latex2mathml", reason="latex2mathml (requirements.txt) converts the formulas")
    from lesson_tools import release_path
    from test_feedback_math import feedback_html

    page_path = tmp_path / "feedback.html"
    page_path.write_text(feedback_html(nbformat.read(str(release_path("04_normalization")), as_version=4)))
    page, fetched = open_offline(browser, page_path)
    try:
        page.goto(page_path.as_uri())
        page.wait_for_load_state("load")
        fraction = page.locator("math mfrac").first
        fraction.scroll_into_view_if_needed()
        page.screenshot(path=tmp_path / "feedback-formula.png")
        box = page.locator("math", has=page.locator("mfrac")).first.bounding_box()
        numerator, denominator = (fraction.locator(":scope > *").nth(i).bounding_box() for i in (0, 1))
        assert fetched == [], f"the feedback page fetched other files: {fetched}"
        assert box and box["width"] > 0 and box["height"] > 0, box
        # drawn as MathML: stacked, not side by side as unknown inline elements would be
        assert numerator["y"] + numerator["height"] <= denominator["y"] + 1, (numerator, denominator)
        assert abs((numerator["x"] + numerator["width"] / 2) - (denominator["x"] + denominator["width"] / 2)) < 40
    finally:
        page.close()
        keep_screenshots(tmp_path)
