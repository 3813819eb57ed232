"""Where the command line writes (``--out``): checked first, never through a link (issue 21).

* :func:`prepare_file` / :func:`prepare_folder` run *before* any analysis: they refuse a
  symbolic link, a folder where a file is expected (and the reverse), create the missing
  folders and prove the folder writable, so a bad ``--out`` fails in a second, not after
  the whole analysis;
* :func:`write_file` writes a temporary file beside the target and renames it over the
  target: a rename replaces a link instead of following it, so nothing is ever written
  outside the chosen folder, and a reader never sees half a file.

Errors are :class:`~svcmining.exceptions.InvalidParameterError` saying what was found
and what to do.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from ._safetext import escape_text
from .exceptions import InvalidParameterError

__all__ = ["prepare_file", "prepare_folder", "write_file"]


def _bad(option: str, path: Path, msg: str) -> InvalidParameterError:
    return InvalidParameterError(f"{option} {escape_text(str(path))}: {msg}")


def _link_target(path: Path) -> str:
    try:
        return escape_text(str(path.readlink()))
    except OSError:  # pragma: no cover - raced away
        return "?"


def _make_folder(folder: Path, option: str, shown: Path) -> None:
    """Create ``folder`` (and parents) and prove a file can be created in it."""
    for part in (folder, *folder.parents):
        if part.exists() and not part.is_dir():
            raise _bad(
                option,
                shown,
                f"{escape_text(str(part))} is a file, not a folder; choose a path in a "
                "folder (or remove or rename that file).",
            )
        if part.is_dir():
            break
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".svcmining-write-test-")
        os.close(fd)
        Path(probe).unlink()
    except PermissionError:
        raise _bad(
            option,
            shown,
            f"the folder {escape_text(str(folder))} is not writable (permission denied); "
            "choose a folder you can write to, or change its permissions.",
        ) from None
    except OSError as err:
        raise _bad(
            option,
            shown,
            f"cannot write there ({escape_text(err.strerror or str(err))}); choose another folder.",
        ) from None


def _refuse_link_or_folder(path: Path, option: str, example: str) -> None:
    if path.is_symlink():
        raise _bad(
            option,
            path,
            f"it is a symbolic link (to {_link_target(path)}); svcmining does not write "
            "through links. Remove the link or choose another file name.",
        )
    if path.is_dir():
        raise _bad(
            option,
            path,
            f"it is a folder; give a file path, e.g. {escape_text(str(path / example))}.",
        )
    if path.exists() and not os.access(path, os.W_OK):
        raise _bad(
            option,
            path,
            "the file exists and is read-only; choose another file name or make it writable.",
        )


def prepare_file(
    path: str | os.PathLike[str], option: str = "--out", example: str = "report.html"
) -> Path:
    """Check an output *file* before the analysis: not a link, not a folder, writable.

    ``example`` is the file name suggested when ``path`` is a folder."""
    p = Path(path)
    _refuse_link_or_folder(p, option, example)
    _make_folder(p.parent, option, p)
    return p


def prepare_folder(
    path: str | os.PathLike[str], names: Iterable[str], option: str = "--out"
) -> Path:
    """Check an output *folder* (and the files ``names`` to be written in it) before the
    analysis."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise _bad(
            option,
            p,
            "it is a file, but this --out takes a folder (the outputs are written into "
            "it); give a folder path, e.g. check-results/, or remove that file.",
        )
    _make_folder(p, option, p)
    for name in names:
        _refuse_link_or_folder(p / name, option, name)
    return p


def write_file(path: str | os.PathLike[str], data: str | bytes | Callable[[Path], object]) -> Path:
    """Write ``data`` (text as UTF-8, bytes, or a function that saves to a given path) to
    ``path`` via a temporary file in the same folder and a rename (never through a link)."""
    p = Path(path)
    folder = p.parent
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{p.name}.", suffix=f".tmp{p.suffix}")
    tmp = Path(tmp_name)
    try:
        if callable(data):
            os.close(fd)
            data(tmp)
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        tmp.chmod(_mode_for(p))
        tmp.replace(p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return p


def _mode_for(path: Path) -> int:
    """The permissions of the file being replaced, else the usual 0666 minus the umask."""
    import stat

    try:
        st = path.lstat()
    except OSError:
        st = None
    if st is not None and stat.S_ISREG(st.st_mode):
        return stat.S_IMODE(st.st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
