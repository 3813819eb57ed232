"""Showing text from the data safely: one escaping rule and one length bound (issue 21).

Data can carry terminal control sequences (``\\x1b]0;title\\x07``, ``\\x1b[2J``) and bidi
overrides (``T\\u202e2gpj.exe`` shows as ``Texe.jpg2``). :func:`escape_text` is the one
judge of what is shown raw: printable text (Chinese, Latin, ordinary spaces) stays as it is;
C0/C1 controls, DEL, the bidi embeddings/overrides/isolates (U+202A–U+202E, U+2066–U+2069),
the direction marks (U+200E, U+200F, U+061C) and the line/paragraph separators
(U+2028, U+2029), lone surrogates and U+FFFE/U+FFFF become visible escapes (``\\x1b``,
``\\u202e``). ``keep`` lets a format keep characters it quotes itself (a CSV cell keeps
tab and newline).

:func:`shorten` bounds a message to a few hundred characters, ending with "…".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "SafeStream",
    "escape_text",
    "guard_streams",
    "has_unsafe",
    "json_safe",
    "raw_stream",
    "shorten",
]

_UNSAFE_CHARS = (
    "\x00-\x1f\x7f-\x9f"  # C0, DEL, C1
    "\u061c\u200e\u200f"  # direction marks
    "\u2028\u2029"  # line / paragraph separators
    "\u202a-\u202e"  # embeddings, overrides
    "\u2066-\u2069"  # isolates
    "\ud800-\udfff"  # lone surrogates (undecodable file names), not writable as UTF-8
    "\ufffe\uffff"  # noncharacters, not allowed in XML
)
_UNSAFE_RE = re.compile(f"[{_UNSAFE_CHARS}]")
_CACHE: dict[str, re.Pattern[str]] = {"": _UNSAFE_RE}


def _escape_one(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _pattern(keep: str) -> re.Pattern[str]:
    pat = _CACHE.get(keep)
    if pat is None:
        kept = "".join(re.escape(c) for c in keep)
        pat = re.compile(f"(?![{kept}])[{_UNSAFE_CHARS}]")
        _CACHE[keep] = pat
    return pat


def escape_text(text: str, *, keep: str = "") -> str:
    r"""Return ``text`` with control and bidi characters written as visible escapes.

    Parameters
    ----------
    text : str
        Any text from the data (a label, an id, a file name).
    keep : str, default ""
        Characters to leave raw because the output format quotes them (``"\t\n\r"`` in a
        CSV cell). Everything else unsafe is escaped.

    Examples
    --------
    >>> escape_text("客服\x1b]0;x\x07中心")
    '客服\\x1b]0;x\\x07中心'
    >>> escape_text("T\u202e2gpj.exe")
    'T\\u202e2gpj.exe'
    >>> escape_text("a\tb", keep="\t")
    'a\tb'
    """
    pat = _pattern(keep)
    if pat.search(text) is None:
        return text
    return pat.sub(lambda m: _escape_one(m.group()), text)


def has_unsafe(text: str) -> bool:
    """True when :func:`escape_text` would change ``text``."""
    return _UNSAFE_RE.search(text) is not None


def shorten(text: str, limit: int = 300) -> str:
    """Cut ``text`` to at most ``limit`` characters, ending with "…" when cut.

    >>> shorten("x" * 10, 5)
    'xxxx…'
    """
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + "…"


class SafeStream:
    """A text stream that shows data safely: writes go through :func:`escape_text`.

    Newline, carriage return and tab stay raw (our own line structure, CSV line ends and
    progress bars); every other control or bidi character is written as an escape, so no
    export can set the window title, clear the screen or reverse a line on a terminal.
    ``raw`` is the wrapped stream.
    """

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(escape_text(text, keep="\n\r\t"))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def guard_streams() -> Callable[[], None]:
    """Wrap ``sys.stdout``/``sys.stderr`` in :class:`SafeStream`; return the undo."""
    import sys

    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(out), SafeStream(err)

    def restore() -> None:
        sys.stdout, sys.stderr = out, err

    return restore


def raw_stream(stream: Any) -> Any:
    """The stream under a :class:`SafeStream` (progress bars write their own escapes)."""
    return stream.raw if isinstance(stream, SafeStream) else stream


def json_safe(text: str) -> str:
    r"""Write the unsafe characters of a JSON text as ``\uXXXX`` escapes (same data).

    ``json.dumps(..., ensure_ascii=False)`` escapes C0 controls but writes C1 controls,
    bidi overrides and lone surrogates raw; outside strings JSON has only ASCII, so this
    replaces characters inside strings only and the document parses to the same values.
    """
    return _pattern("\n\r\t").sub(lambda m: f"\\u{ord(m.group()):04x}", text)
