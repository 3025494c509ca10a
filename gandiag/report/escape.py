"""Escaping text that came from a run (folder names, CSV values, rule messages) for each output format.

A folder name or a logged value is data, not markup: it must not end a JUnit
document (XML 1.0 forbids most control characters), open an HTML tag or a
link in a pull-request comment, break out of a Markdown code span, mention a
GitHub user, or move the cursor of the terminal that prints a report.
"""

from __future__ import annotations

import re

# Characters XML 1.0 does not allow at all (besides tab, newline and carriage return), and lone surrogates.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Control and format characters a terminal may act on (newline and tab are kept by terminal_text).
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# Punctuation that can start emphasis, code, a link or a table cell; an underscore inside a word cannot.
_MD_PUNCTUATION = re.compile(r"([\\`*\[\]|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")


def _escaped(m: re.Match[str]) -> str:
    return ascii(m.group())[1:-1]


def xml_text(text: object) -> str:
    """``text`` with the characters XML 1.0 cannot hold written as visible escapes (``\\x1b``)."""
    return _XML_FORBIDDEN.sub(_escaped, str(text))


def terminal_text(text: object) -> str:
    """``text`` for a terminal: control characters (ANSI escapes, bidi overrides) written as escapes; newlines kept."""
    return _TERMINAL_UNSAFE.sub(_escaped, str(text))


def one_line(text: object) -> str:
    """``text`` folded to one line, control characters escaped."""
    return terminal_text(" ".join(str(text).split()))


def md_text(text: object) -> str:
    """Plain text in a Markdown table cell or paragraph: no HTML, links, emphasis, mentions or pipes.

    ``&`` and ``<`` become entities, Markdown punctuation is backslash-escaped,
    ``@`` becomes ``&#64;`` (no mention) and newlines fold to spaces.
    """
    s = one_line(text).replace("&", "&amp;").replace("<", "&lt;")  # no tag, entity or autolink can open
    s = _MD_PUNCTUATION.sub(r"\\\1", s)
    return s.replace("@", "&#64;")


def md_code(text: object) -> str:
    """A Markdown code span holding ``text`` literally, whatever backticks or pipes it contains.

    The fence is one backtick longer than the longest run of backticks inside
    (CommonMark), a leading or trailing backtick is padded with a space, and
    ``|`` is escaped so that the span cannot end a table cell.
    """
    s = one_line(text).replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    if s.startswith("`") or s.endswith("`"):
        s = f" {s} "
    return f"{fence}{s}{fence}"
