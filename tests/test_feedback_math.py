"""Formulas in the feedback HTML render without a CDN (issue 14): TeX becomes MathML at feedback time.

The exporter here is configured as nbgrader's generate_feedback configures it
(nbgrader_config.py's GenerateFeedback.HTMLExporter section, plus the bootstrap
folder nbgrader adds), so the test covers the configuration, not a copy of it.
tests/test_browser.py checks that Chromium draws the MathML.
"""
import re
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("latex2mathml", reason="latex2mathml (requirements.txt) converts the feedback's formulas")

from autograder.feedback_math import markdown_to_html, tex_to_mathml  # noqa: E402
from lesson_tools import LESSON_IDS, release_path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FORMULA = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?!\$)(.+?)(?<!\\)\$", re.S)


def feedback_html(notebook):
    """The notebook as generate_feedback renders it with the course's configuration."""
    import nbgrader
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader
    course = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    config = Config({"HTMLExporter": course.GenerateFeedback.HTMLExporter})
    # what nbgrader's GenerateFeedback adds itself: the folder of bootstrap.min.css
    config.HTMLExporter.extra_template_paths = [str(Path(nbgrader.__file__).parent / "server_extensions" /
                                                    "formgrader" / "static" / "node_modules" / "bootstrap" /
                                                    "dist" / "css")]
    for cell in notebook.cells:   # what nbgrader's GetGrades writes into each graded cell
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata.nbgrader["score"] = 0
    resources = {"nbgrader": {"notebook": "lesson", "score": 0, "max_score": 1, "late_penalty": 0}}
    return HTMLExporter(config=config).from_notebook_node(notebook, resources=resources)[0]


def lesson_formulas(lesson_id):
    """(TeX, display) of every formula in the lesson's markdown cells, code spans left out."""
    notebook = nbformat.read(str(release_path(lesson_id)), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for match in FORMULA.finditer(re.sub(r"`[^`]*`", "", cell.source)):
                yield (match.group(1) or match.group(2)), match.group(1) is not None


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_every_formula_of_the_lessons_converts(lesson_id):
    formulas = list(lesson_formulas(lesson_id))
    failed = [tex for tex, display in formulas if tex_to_mathml(tex, display) is None]
    assert not failed, f"{len(failed)} of {len(formulas)} formulas stay TeX: {failed[:5]}"


@pytest.mark.parametrize("tex, element", [
    (r"\left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1", "mfrac"),
    (r"\operatorname{out}(x) = \text{max}", "mtext"),
    (r"\hat{x} = \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}}", "msqrt"),
    (r"\sum_{i=1}^{n} x_i", "msubsup"),
    (r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}", "mtable"),
    (r"\lceil x \rceil \cdot \tfrac{1}{2}", "mfrac"),
])
def test_common_tex_becomes_mathml(tex, element):
    mathml = tex_to_mathml(tex)
    assert mathml.startswith("<math") and f"<{element}" in mathml, mathml


def test_aligned_equations_line_up_in_a_table():
    mathml = tex_to_mathml(r"\begin{aligned} a &= b + c \\ d &= e \end{aligned}", display=True)
    assert 'display="block"' in mathml
    assert mathml.count("<mtr>") == 2 and mathml.count('columnalign="right"') == 2 and "&</mi>" not in mathml


def test_escaped_characters_in_text_lose_their_backslash():
    mathml = tex_to_mathml(r"\text{running\_var} = 50\% \text{ of a \& b}")
    assert "<mtext>running_var</mtext>" in mathml and "a&#x000A0;&amp;&#x000A0;b" in mathml, mathml
    assert "\\" not in mathml


def test_dollars_in_code_spans_and_escaped_dollars_are_no_formulas():
    html = markdown_to_html(r"`x[$i]` costs \$5, not \$6; but $x^2$ is one")
    assert "<code>x[$i]</code>" in html and "costs $5, not $6" in html
    assert html.count("<math") == 1


@pytest.mark.parametrize("tex", [r"\frac{a}{", r"x^", r"\left( x", r"\unknowncommand{x}",
                                 r"\text{<script>alert(1)</script>}", r"\href{javascript:alert(1)}{x}"])
def test_what_cannot_be_converted_stays_readable_tex(tex):
    assert tex_to_mathml(tex) is None
    html = markdown_to_html(f"before ${tex}$ after")
    assert "<math" not in html and "<script" not in html
    assert "before $" in html and "$ after" in html


def test_feedback_html_of_a_lesson_has_mathml_and_nothing_from_the_network():
    lesson_id = "04_normalization" if "04_normalization" in LESSON_IDS else LESSON_IDS[0]
    html = feedback_html(nbformat.read(str(release_path(lesson_id)), as_version=4))
    assert html.count("<math") >= 20
    assert "<mfrac>" in html
    assert not re.search(r"cdn|mathjax", html, re.IGNORECASE)
    assert not re.search(r"<script[^>]*\ssrc=", html) and not re.search(r"<link[^>]*\shref=\"?https?:", html)
    # no formula was left for a typesetter: outside code, no $\frac{...}$ remains
    assert not re.search(r"\$\\(frac|lfloor|sum|hat)", re.sub(r"<(code|pre)>.*?</\1>", "", html, flags=re.S))
