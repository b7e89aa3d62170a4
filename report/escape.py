"""Escaping of untrusted text for LaTeX.

All plain text goes through :func:`escape_text`; only trusted LaTeX from the
solvers (SymPy's ``latex()`` output, the registry's statements) is wrapped in
:class:`pylatex.NoEscape` and passes unchanged.

>>> escape_text(r"\\input{/etc/passwd} 50% #1 a_b ~ ^")
'\\\\textbackslash{}input\\\\{/etc/passwd\\\\} 50\\\\% \\\\#1 a\\\\_b \\\\textasciitilde{} \\\\textasciicircum{}'
"""
from __future__ import annotations

import unicodedata

from pylatex import NoEscape
from pylatex.utils import escape_latex

# characters pdflatex with T1 + utf8 inputenc can typeset directly
_SAFE_NON_ASCII = set("ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿŁłŒœŠšŸŽžĆćČčĘęŃńŚśŹźŻżŘřŮůĚěĞğİıŞş–—‘’“”„«»…€£§©®°±×÷")
_MAX_WORD = 24   # longer words get break points every 16 characters (narrow table cells, typewriter claims)
_LIGATURE_CHARS = {"`": r"\textasciigrave{}", "'": r"\textquotesingle{}", '"': r"\textquotedbl{}",
                   "<": r"\textless{}", ">": r"\textgreater{}"}


def _char(ch: str) -> str:
    if ch in "\n\r\t":
        return " "
    if 32 <= ord(ch) < 127 or ch in _SAFE_NON_ASCII:
        return ch
    if unicodedata.category(ch).startswith("Z"):
        return " "
    if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
        return " " if ch in "\n\r\t" else ""
    return f"[U+{ord(ch):04X}]"


def paragraphs(value) -> list[str]:
    """Split text at blank lines; each paragraph escaped."""
    import re

    return [escape_text(p) for p in re.split(r"\n\s*\n", str(value)) if p.strip()]


def printable(value) -> str:
    """The text a PDF shows for ``value`` (what :func:`escape_text` typesets), for tests and checks.

    >>> printable("a\u200bb  \U0001F393")
    'ab [U+1F393]'
    """
    return " ".join("".join(_char(c) for c in str(value)).split())


def escape_text(value) -> str:
    """Escape any value for LaTeX text mode; non-typesettable characters become [U+XXXX]."""
    if isinstance(value, NoEscape):
        return str(value)
    text = "".join(_char(c) for c in str(value))
    text = " ".join(text.split())  # newlines and tabs become spaces; paragraphs are split by the caller
    out = escape_latex(text).replace(r"\^{}", r"\textasciicircum{}")
    # characters that T1 fonts turn into ligatures or curly quotes: typeset them as themselves
    for ch, cmd in _LIGATURE_CHARS.items():
        out = out.replace(ch, cmd)
    return out.replace(",,", ",{},").replace(",,", ",{},")


def escape_breakable(value) -> str:
    """Like :func:`escape_text`, with break points in very long words so they cannot overflow."""
    words = []
    for word in str(value).split(" "):
        if len(word) > _MAX_WORD:
            chunks = [word[i:i + 16] for i in range(0, len(word), 16)]
            words.append(r"\allowbreak{}".join(escape_text(c) for c in chunks))
        else:
            words.append(escape_text(word))
    return " ".join(words)


def trusted(latex: str) -> NoEscape:
    """Mark solver-made LaTeX as trusted (never user text)."""
    return NoEscape(latex)
