"""Formulas in the feedback HTML as MathML, which browsers draw without MathJax or a CDN (issue 14).

nbgrader's feedback page would load MathJax from a CDN to typeset the notebook's
TeX; the course's page loads nothing from the network. Instead, at feedback
time, each formula of a markdown cell ($...$, $$...$$, \\(...\\), \\[...\\],
\\begin{...}...\\end{...}) is converted to MathML by latex2mathml, a pure-Python
converter, and Chromium and Firefox draw MathML themselves.

nbconvert's markdown parser (mistune with nbconvert's math rules) finds the
formulas, so a `$` inside a code span or an escaped \\$ is no formula, exactly
as in JupyterLab. A formula the converter cannot handle (an unknown command, a
missing brace) stays as its TeX text, escaped, never an exception: a student's
broken formula must not cost them their feedback page.

nbgrader_config.py installs `markdown2html` below as the feedback exporter's
`markdown2html` filter.
"""
import re
import xml.etree.ElementTree as ET

from jinja2 import pass_context
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

# Elements a converted formula may contain: MathML's own, nothing else. A \text{<b>}
# reaches latex2mathml's output unescaped, so anything else means "keep the TeX".
MATHML_TAGS = set("""math mi mn mo ms mspace mtext mrow mfrac msqrt mroot mstyle merror mpadded mphantom
    mfenced menclose msub msup msubsup munder mover munderover mmultiscripts mprescripts none mtable mtr
    mtd mlabeledtr maligngroup malignmark semantics annotation annotation-xml""".split())
MTEXT = re.compile(r"(<mtext[^>]*>)(.*?)(</mtext>)", re.S)
ALIGNED = re.compile(r"\\begin\{(aligned|align\*?|split|gathered|gather\*?)\}(.*?)\\end\{\1\}", re.S)


def tex_to_mathml(tex, display=False):
    """MathML for the TeX formula `tex` (without its $ delimiters), or None when it cannot be converted.

    display: True for a formula on its own line ($$...$$), False inline.
    """
    try:
        from latex2mathml.converter import convert
        mathml = convert(_rewrite(tex.strip()), display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - any converter failure leaves the TeX as it was
        return None
    mathml = MTEXT.sub(lambda m: m.group(1) + _unescape_text(m.group(2)) + m.group(3), mathml)
    return mathml if _is_plain_mathml(mathml) else None


def _unescape_text(text):
    r"""\text{running\_mean} as running_mean: latex2mathml keeps the backslashes of escaped characters."""
    return re.sub(r"\\([_%#$])", r"\1", text).replace("\\&", "&amp;")


def _rewrite(tex):
    """TeX the converter handles: aligned equations as a right/left aligned array.

    latex2mathml puts an aligned environment on one row with a bare `&` in it;
    an array with columns r, l, r, l, ... lines up the `&`s as TeX does.
    """
    def as_array(match):
        body = match.group(2)
        columns = 1 + max(row.count("&") for row in re.split(r"\\\\", body))
        spec = ("rl" * columns)[:columns]
        return f"\\begin{{array}}{{{spec}}}{body}\\end{{array}}"
    return ALIGNED.sub(as_array, tex)


def _is_plain_mathml(mathml):
    """True for well-formed XML made of MathML elements only, with no command left unconverted."""
    try:
        root = ET.fromstring(mathml)
    except ET.ParseError:
        return False
    for element in root.iter():
        if element.tag.rpartition("}")[2] not in MATHML_TAGS:
            return False
        if any(name.lower().startswith("on") or "href" in name.lower() for name in element.attrib):
            return False   # no script handlers or links from a formula
        # an unknown command comes out as <mi>\foo</mi>: the reader is better served by the TeX
        if element.text and re.search(r"\\[A-Za-z]", element.text):
            return False
    return True


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, with formulas as MathML instead of TeX left for MathJax."""

    def block_math(self, body):
        return tex_to_mathml(body, display=True) or super().block_math(body)

    def inline_math(self, body):
        return tex_to_mathml(body) or super().inline_math(body)

    def latex_environment(self, name, body):
        return (tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)
                or super().latex_environment(name, body))


def markdown_to_html(source, attachments=None, path=""):
    """HTML of a markdown cell's `source`, its formulas as MathML."""
    renderer = MathMLRenderer(escape=False, attachments=attachments or {}, path=path)
    return MarkdownWithMath(renderer=renderer).render(source)


@pass_context
def markdown2html(context, source):
    """HTMLExporter.markdown2html (nbconvert 7) with MathMLRenderer: the feedback page's markdown filter."""
    cell = context.get("cell", {})
    return markdown_to_html(source, cell.get("attachments", {}),
                            context.get("resources", {}).get("metadata", {}).get("path", ""))
