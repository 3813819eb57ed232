"""The font that draws Chinese and Latin labels, for matplotlib and Graphviz.

Matplotlib's default font (DejaVu Sans) has no CJK glyphs, and the "Last Resort" font
it ships draws *every* character as a box. :func:`use_cjk_font` therefore puts a font
with real Latin **and** Chinese glyphs first in matplotlib's sans-serif list:

1. the font named by the environment variable ``SVCMINING_CJK_FONT`` (a family name or
   a font file), when it has both kinds of glyphs;
2. else a good system CJK font from :data:`CJK_FONT_CANDIDATES`, found through
   fontconfig (``fc-list``) where it exists, or through matplotlib's own font list on
   systems without fontconfig (macOS, Windows); set ``SVCMINING_SYSTEM_FONTS=0`` to skip
   system fonts;
3. else the font bundled with svcmining (:data:`BUNDLED_FONT_PATH`, a subset of Noto
   Sans CJK SC under the SIL Open Font License), which is always there.

Every font is registered with matplotlib by file (``font_manager.addfont``), so
neither matplotlib's font cache nor a font installed after that cache was built
matters. :func:`cjk_font_family` returns the chosen family (also the Graphviz
``fontname``); :func:`graphviz_env` lets Graphviz find the bundled font too.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "BUNDLED_FONT_FAMILY",
    "BUNDLED_FONT_PATH",
    "CJK_FONT_CANDIDATES",
    "cjk_font_family",
    "cjk_font_path",
    "figure_svg",
    "graphviz_env",
    "has_cjk",
    "is_text_font",
    "use_cjk_font",
]

#: The font shipped in the package: all of GB2312 plus Latin (see ``fonts/README.md``).
BUNDLED_FONT_PATH: Path = Path(__file__).with_name("fonts") / "NotoSansCJKsc-Subset.ttf"
#: Its family name (renamed so it never shadows a full system install).
BUNDLED_FONT_FAMILY = "Noto Sans CJK SC Subset"

#: System families tried in order (Simplified Chinese first), before the bundled font.
CJK_FONT_CANDIDATES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Sarasa Gothic SC",
    "SimHei",
    "Heiti SC",
    "STHeiti",
    "Droid Sans Fallback",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Noto Sans CJK HK",
    "Noto Sans CJK KR",
    "Noto Serif CJK SC",
    "SimSun",
    "Arial Unicode MS",
)

# Pairs of characters a real text font draws differently; a "last resort" font maps
# each Unicode block to one box glyph, so it gives both members of a pair one glyph.
_LATIN_PAIR = "AB"
_CJK_PAIR = "中国"
_OFF = {"0", "false", "no", "off"}


def has_cjk(text: str) -> bool:
    """Whether ``text`` contains a CJK ideograph or CJK punctuation/full-width form."""
    return any(
        "\u2e80" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" or "\uff00" <= ch <= "\uffef"
        for ch in text
    )


def is_text_font(path: str | os.PathLike[str], face_index: int = 0) -> bool:
    """Whether the font draws real, distinct Latin and Chinese glyphs.

    False for fonts without Latin letters (a CJK-only font would draw "Close 12 h" in
    another font or as boxes), fonts without Chinese, unreadable files and "last
    resort" fonts, which map every character of a Unicode block to the same box.

    Examples
    --------
    >>> from svcmining._fonts import BUNDLED_FONT_PATH, is_text_font
    >>> is_text_font(BUNDLED_FONT_PATH)
    True
    """
    from matplotlib import ft2font

    index = getattr(path, "face_index", face_index)
    try:
        font = ft2font.FT2Font(os.fspath(path), face_index=index)
    except (OSError, RuntimeError, ValueError):
        return False
    names = f"{font.family_name} {font.postscript_name}".casefold().replace(" ", "")
    if "lastresort" in names:
        return False
    glyphs = [font.get_char_index(ord(ch)) for ch in _LATIN_PAIR + _CJK_PAIR]
    return all(glyphs) and glyphs[0] != glyphs[1] and glyphs[2] != glyphs[3]


def _system_fonts_allowed() -> bool:
    return os.environ.get("SVCMINING_SYSTEM_FONTS", "1").strip().casefold() not in _OFF


def _fontconfig_files() -> dict[str, list[str]] | None:
    """Family name (casefolded) -> font files, as fontconfig lists them; None without it.

    fontconfig honours ``FONTCONFIG_FILE``, so an empty configuration hides every
    system font (CI's bare run relies on that).
    """
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        out = subprocess.run(  # noqa: S603 - fixed arguments, program found on PATH
            [fc_list, "--format", "%{family}\t%{style}\t%{file}\n"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files: dict[str, list[tuple[int, str]]] = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 3:
            continue
        families, style, file = parts
        rank = 0 if any(s in style for s in ("Regular", "Book", "Normal")) else 1
        for family in families.split(","):
            files.setdefault(family.strip().casefold(), []).append((rank, file))
    return {k: [f for _, f in sorted(v)] for k, v in files.items()}


def _register(file: str) -> None:
    """Make matplotlib know the font file (all its faces), once; skip unreadable files."""
    from matplotlib import font_manager

    manager = font_manager.fontManager  # rebuilt by matplotlib when a cached file vanished
    real = os.path.realpath(file)
    if any(os.path.realpath(e.fname) == real for e in manager.ttflist):
        return
    with contextlib.suppress(OSError, RuntimeError, ValueError):  # not a font we can read
        manager.addfont(file)


def _find(family: str) -> str | None:
    """The font file (a ``FontPath`` with its face index) matplotlib uses for ``family``."""
    from matplotlib import font_manager

    try:
        path = font_manager.findfont(
            font_manager.FontProperties(family=family), fallback_to_default=False
        )
    except ValueError:
        return None
    return path


def _system_fonts(names: list[str]) -> Iterator[tuple[str, str]]:
    """(family, file) of the installed fonts among ``names``, in the order given, lazily."""
    listed = _fontconfig_files()
    for name in names:
        if listed is not None:
            files = listed.get(name.casefold(), [])
            if not files:
                continue
            for file in files:
                _register(file)
        path = _find(name)
        if path is not None:
            yield name, path


def _forced_font(value: str) -> tuple[str, str] | None:
    """(family, file) for ``SVCMINING_CJK_FONT``: a font file or an installed family."""
    from matplotlib import ft2font

    if Path(value).is_file():
        try:
            family = ft2font.FT2Font(value).family_name
        except (OSError, RuntimeError, ValueError):
            return None
        _register(value)
        path = _find(family)
        return (family, path) if path is not None else None
    return next(iter(_system_fonts([value])), None)


@functools.cache
def _resolve() -> tuple[str, str]:
    """(family, file) of the font for labels: forced, else system, else bundled."""
    forced = os.environ.get("SVCMINING_CJK_FONT", "").strip()
    if forced:
        choice = _forced_font(forced)
        if choice is not None and is_text_font(choice[1]):
            return choice
        warnings.warn(
            f"SVCMINING_CJK_FONT={forced!r} is not an installed font (family name or "
            "file) with both Latin and Chinese glyphs; ignoring it.",
            UserWarning,
            stacklevel=4,
        )
    if _system_fonts_allowed():
        for family, path in _system_fonts(list(CJK_FONT_CANDIDATES)):
            if is_text_font(path):
                return family, path
    _register(str(BUNDLED_FONT_PATH))
    bundled = _find(BUNDLED_FONT_FAMILY)
    return BUNDLED_FONT_FAMILY, bundled if bundled is not None else str(BUNDLED_FONT_PATH)


def graphviz_env() -> dict[str, str] | None:
    """Environment for running Graphviz so that it finds the label font, or ``None``.

    Graphviz looks fonts up through fontconfig, which does not know the bundled font.
    When that font is the one in use, the returned environment points
    ``XDG_DATA_HOME`` at a folder whose ``fonts`` entry links to the bundled font (the
    default fontconfig configuration reads ``$XDG_DATA_HOME/fonts``). ``None`` means the
    current environment already works (a system font was chosen).

    Examples
    --------
    >>> from svcmining._fonts import graphviz_env
    >>> env = graphviz_env()  # pass as subprocess.run(["dot", ...], env=env)
    """
    if cjk_font_family() != BUNDLED_FONT_FAMILY:
        return None
    home = _bundled_font_data_home()
    return None if home is None else {**os.environ, "XDG_DATA_HOME": home}


@functools.cache
def _bundled_font_data_home() -> str | None:
    """A folder in matplotlib's cache holding ``fonts`` -> the bundled font folder."""
    import hashlib

    import matplotlib as mpl

    fonts = BUNDLED_FONT_PATH.parent
    key = hashlib.sha256(str(fonts.resolve()).encode("utf-8")).hexdigest()[:12]
    home = Path(mpl.get_cachedir()) / f"svcmining-fonts-{key}"
    link = home / "fonts"
    try:
        if not (link / BUNDLED_FONT_PATH.name).is_file():
            home.mkdir(parents=True, exist_ok=True)
            try:
                link.symlink_to(fonts, target_is_directory=True)
            except OSError:  # no symlinks here (some Windows set-ups), or a stale entry
                if link.is_symlink():
                    link.unlink()
                link.mkdir(exist_ok=True)
                shutil.copy2(BUNDLED_FONT_PATH, link / BUNDLED_FONT_PATH.name)
    except OSError:  # a read-only cache: Graphviz falls back to its default font
        return None
    return str(home)


def cjk_font_family() -> str:
    """Family name of the font that draws Chinese and Latin labels.

    Always a font with real glyphs for both: a system CJK font when one is installed,
    else the bundled subset of Noto Sans CJK SC.

    Examples
    --------
    >>> from svcmining._fonts import cjk_font_family
    >>> cjk_font_family()  # doctest: +SKIP
    'Noto Sans CJK SC'
    """
    return _resolve()[0]


def cjk_font_path() -> str:
    """File of the font :func:`cjk_font_family` names (a ``FontPath`` for collections)."""
    return _resolve()[1]


def use_cjk_font() -> str:
    """Make matplotlib render Chinese and Latin: put the label font first.

    Sets ``font.family`` to sans-serif, prepends the family of :func:`cjk_font_family`
    to ``font.sans-serif`` and turns off the Unicode minus. Idempotent.

    Returns
    -------
    str
        The family used.

    Examples
    --------
    >>> from svcmining._fonts import use_cjk_font
    >>> family = use_cjk_font()  # doctest: +SKIP
    """
    import matplotlib as mpl

    family, path = _resolve()
    _register(str(path))  # again, in case matplotlib rebuilt its font list since
    current = [f for f in mpl.rcParams["font.sans-serif"] if f != family]
    mpl.rcParams["font.sans-serif"] = [family, *current]
    mpl.rcParams["font.family"] = ["sans-serif"]
    mpl.rcParams["axes.unicode_minus"] = False
    return family


def figure_svg(fig: Any) -> bytes:
    """``fig`` as SVG bytes, the same for the same picture (no date, fixed element ids)."""
    import io

    import matplotlib as mpl

    buf = io.BytesIO()
    with mpl.rc_context({"svg.hashsalt": "svcmining"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buf.getvalue()
