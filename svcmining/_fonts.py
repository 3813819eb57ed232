"""Find a font that renders Chinese (CJK) labels, for matplotlib and Graphviz.

Matplotlib's default font (DejaVu Sans) has no CJK glyphs: 投诉登记 would be drawn as
empty boxes. :func:`use_cjk_font` puts a CJK-capable family first in matplotlib's
sans-serif list; :func:`cjk_font_family` returns its name (also used as the Graphviz
``fontname``). When no CJK font is installed, a single warning says how to install one.

Set the environment variable ``SVCMINING_CJK_FONT`` to a family name to force a font.
"""

from __future__ import annotations

import functools
import os
import warnings

__all__ = ["CJK_FONT_CANDIDATES", "cjk_font_family", "cjk_font_path", "has_cjk", "use_cjk_font"]

#: Families tried in order (Simplified Chinese first), before any other font with CJK glyphs.
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

INSTALL_ADVICE = (
    "No font with Chinese (CJK) glyphs was found, so Chinese labels will show as boxes. "
    "Install one and clear matplotlib's font cache (rm -rf ~/.cache/matplotlib): "
    "Debian/Ubuntu `sudo apt-get install fonts-noto-cjk`; Fedora `sudo dnf install "
    "google-noto-sans-cjk-fonts`; conda `conda install -c conda-forge font-ttf-noto-cjk`; "
    "macOS and Windows ship PingFang SC / Microsoft YaHei. Or set SVCMINING_CJK_FONT to "
    "the family name of an installed CJK font."
)

_PROBE = "中"  # a character every CJK font has and Latin fonts lack
_warned = False


def has_cjk(text: str) -> bool:
    """Whether ``text`` contains a CJK ideograph or CJK punctuation/full-width form."""
    return any(
        "\u2e80" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" or "\uff00" <= ch <= "\uffef"
        for ch in text
    )


def _font_has_glyph(path: str, char: str = _PROBE) -> bool:
    from matplotlib import font_manager

    try:
        return bool(font_manager.get_font(path).get_char_index(ord(char)))
    except (OSError, RuntimeError, ValueError):
        return False


def _family_path(family: str) -> str | None:
    """The font file matplotlib uses for ``family`` (no fallback), or None."""
    from matplotlib import font_manager

    try:
        path = font_manager.findfont(
            font_manager.FontProperties(family=family), fallback_to_default=False
        )
    except ValueError:
        return None
    return str(path)


@functools.cache
def _resolve() -> tuple[str, str] | None:
    """(family, file) of the best CJK-capable font, or None."""
    from matplotlib import font_manager

    forced = os.environ.get("SVCMINING_CJK_FONT")
    names = [forced] if forced else []
    names += list(CJK_FONT_CANDIDATES)
    for name in names:
        path = _family_path(name)
        if path and _font_has_glyph(path):
            return name, path
    # Any other installed font that has the probe glyph (checked by file, once each).
    seen: set[str] = set()
    for entry in sorted(font_manager.fontManager.ttflist, key=lambda e: e.name):
        if entry.fname in seen:
            continue
        seen.add(entry.fname)
        if _font_has_glyph(entry.fname):
            return entry.name, entry.fname
    return None


def cjk_font_family() -> str | None:
    """Family name of an installed font with Chinese glyphs, or ``None`` when there is none.

    Examples
    --------
    >>> from svcmining._fonts import cjk_font_family
    >>> cjk_font_family()  # doctest: +SKIP
    'Noto Sans CJK SC'
    """
    found = _resolve()
    return found[0] if found else None


def cjk_font_path() -> str | None:
    """File of the font :func:`cjk_font_family` names, or ``None``."""
    found = _resolve()
    return found[1] if found else None


def _warn_no_font() -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(INSTALL_ADVICE, UserWarning, stacklevel=3)


def use_cjk_font() -> str | None:
    """Make matplotlib render Chinese: put a CJK font first in the sans-serif list.

    Sets ``font.family`` to sans-serif, prepends the CJK family to ``font.sans-serif``
    and turns off the Unicode minus (several CJK fonts lack it). Warns once, with
    install advice, when no CJK font exists. Idempotent.

    Returns
    -------
    str or None
        The family used, or ``None`` when no CJK font is installed.

    Examples
    --------
    >>> from svcmining._fonts import use_cjk_font
    >>> family = use_cjk_font()  # doctest: +SKIP
    """
    import matplotlib as mpl

    family = cjk_font_family()
    if family is None:
        _warn_no_font()
        return None
    current = [f for f in mpl.rcParams["font.sans-serif"] if f != family]
    mpl.rcParams["font.sans-serif"] = [family, *current]
    mpl.rcParams["font.family"] = ["sans-serif"]
    mpl.rcParams["axes.unicode_minus"] = False
    return family
