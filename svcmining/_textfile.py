"""Reading small text files (mappings, SOPs, calendars) as our users save them."""

from __future__ import annotations

from pathlib import Path

from .exceptions import ReadError

__all__ = ["read_text"]


def read_text(path: str | Path, what: str) -> str:
    """The file's text: UTF-8 (with or without BOM), else GBK/GB18030 (Chinese Windows).

    Raises :class:`ReadError` naming the file when it cannot be read or decoded.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as err:
        raise ReadError(f"{p}: cannot read the {what} ({err.strerror or err}).") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ReadError(
            f"{p}: line {line} of the {what} is neither UTF-8 nor GBK text; save it as UTF-8."
        ) from None
