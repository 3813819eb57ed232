"""Tests for svcmining._fonts: the font that draws Chinese and Latin labels."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager, ft2font

from svcmining import _fonts

LABEL = "投诉登记 → Close 12 h"
LAST_RESORT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "LastResortHE-Regular.ttf"
DEJAVU = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


@pytest.fixture(autouse=True)
def fresh_fonts():
    """Each test resolves the font anew and leaves matplotlib's fonts and rcParams as found."""
    ttflist = list(font_manager.fontManager.ttflist)
    _fonts._resolve.cache_clear()
    with matplotlib.rc_context():
        yield
    _fonts._resolve.cache_clear()
    font_manager.fontManager.ttflist[:] = ttflist
    font_manager.fontManager._findfont_cached.cache_clear()


def _glyph_sources(text) -> dict[str, tuple[str, int, int]]:
    """Character -> (font file, face index, glyph index) matplotlib draws it with.

    The Agg, PDF, PS and SVG backends all draw a Text with the fallback chain that
    ``FontManager._find_fonts_by_props`` gives for its FontProperties: each character
    comes from the first font of the chain that maps it (else from Last Resort).
    """
    chain = font_manager.fontManager._find_fonts_by_props(text.get_fontproperties())
    faces = [(str(p), getattr(p, "face_index", 0)) for p in chain]
    sources = {}
    for ch in set(text.get_text()) - {" "}:
        for path, index in faces:
            glyph = ft2font.FT2Font(path, face_index=index).get_char_index(ord(ch))
            if glyph:
                sources[ch] = (path, index, glyph)
                break
        else:
            sources[ch] = (str(LAST_RESORT), 0, 0)
    return sources


def test_mixed_label_every_character_has_a_real_glyph(tmp_path):
    """投诉登记 → Close 12 h: each character is a real glyph in a font's cmap, never a box."""
    _fonts.use_cjk_font()
    fig, ax = plt.subplots(figsize=(3, 1))
    text = ax.text(0.05, 0.5, LABEL)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        fig.savefig(tmp_path / "label.png")
    sources = _glyph_sources(text)
    plt.close(fig)
    by_font: dict[tuple[str, int], dict[str, int]] = {}
    for ch, (path, index, glyph) in sources.items():
        by_font.setdefault((path, index), {})[ch] = glyph
    for (path, index), glyphs in by_font.items():
        with TTFont(path, fontNumber=index, lazy=True) as font:
            family = font["name"].getDebugName(1) or ""
            cmap = font.getBestCmap()
            order = font.getGlyphOrder()
        assert "last resort" not in family.casefold(), f"{sorted(glyphs)} drawn with {family}"
        for ch, glyph in glyphs.items():
            assert ord(ch) in cmap, f"{ch!r} not in the cmap of {path}"
            assert cmap[ord(ch)] == order[glyph] != ".notdef", f"{ch!r} is .notdef in {path}"
        # a box font gives one glyph to a whole block: distinct characters, distinct glyphs
        assert len(set(glyphs.values())) == len(glyphs), f"{family} repeats glyphs"


def test_bundled_font_covers_gb2312_latin_and_is_small():
    """The shipped font has every GB2312 character, Latin-1, →, CJK punctuation; ≤ 6 MB."""
    path = _fonts.BUNDLED_FONT_PATH
    assert path.stat().st_size <= 6 * 2**20
    assert (path.parent / "OFL.txt").read_text(encoding="utf-8").count("SIL OPEN FONT LICENSE") == 1
    with TTFont(path) as font:
        assert "glyf" in font  # TrueType outlines: Type 42 embedding in PDF/PS works
        assert font["name"].getDebugName(1) == _fonts.BUNDLED_FONT_FAMILY
        cmap = font.getBestCmap()
    gb2312 = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                gb2312.add(ord(bytes((row, cell)).decode("gb2312")))
    assert len(gb2312) == 7445
    assert not gb2312 - set(cmap)
    wanted = (
        set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) | {ord(c) for c in "→，：（）、。【】"}
    )
    assert not wanted - set(cmap)
    assert _fonts.is_text_font(path)


def test_is_text_font_rejects_box_and_single_script_fonts(tmp_path):
    """Last Resort (boxes), a Latin-only and a CJK-only font are never label fonts."""
    cjk_only = tmp_path / "cjk_only.ttf"
    _subset(_fonts.BUNDLED_FONT_PATH, cjk_only, "中国投诉登记", "CJK Only")
    assert not _fonts.is_text_font(LAST_RESORT)
    assert not _fonts.is_text_font(DEJAVU)
    assert not _fonts.is_text_font(cjk_only)
    assert not _fonts.is_text_font(tmp_path / "missing.ttf")
    assert _fonts.is_text_font(_fonts.BUNDLED_FONT_PATH)


def _subset(src: Path, out: Path, chars: str, family: str) -> Path:
    from fontTools import subset

    with TTFont(src) as font:
        sub = subset.Subsetter(subset.Options())
        sub.populate(text=chars)
        sub.subset(font)
        for rec in font["name"].names:
            if rec.nameID in (1, 4):
                rec.string = family
            if rec.nameID == 6:
                rec.string = family.replace(" ", "")
        font.save(out)
    return out


def test_system_fonts_lacking_latin_or_drawing_boxes_are_skipped(monkeypatch, tmp_path):
    """A CJK-only candidate and Last Resort are passed over; the bundled font is used."""
    cjk_only = _subset(_fonts.BUNDLED_FONT_PATH, tmp_path / "c.ttf", "中国投诉登记", "CJK Only")
    offered = [("CJK Only", str(cjk_only)), ("Last Resort High-Efficiency", str(LAST_RESORT))]
    monkeypatch.setattr(_fonts, "_system_fonts", lambda names: offered)
    monkeypatch.delenv("SVCMINING_CJK_FONT", raising=False)
    monkeypatch.delenv("SVCMINING_SYSTEM_FONTS", raising=False)
    assert _fonts.cjk_font_family() == "Noto Sans CJK SC Subset"
    assert _fonts.use_cjk_font() == "Noto Sans CJK SC Subset"
    assert matplotlib.rcParams["font.sans-serif"][0] == "Noto Sans CJK SC Subset"
    assert Path(_fonts.cjk_font_path()).resolve() == _fonts.BUNDLED_FONT_PATH.resolve()


def test_system_font_listed_by_fontconfig_is_preferred_and_registered(monkeypatch, tmp_path):
    """A good CJK font fontconfig lists is registered by file and wins over the bundled one."""
    fake = tmp_path / "sys.ttf"
    _subset(_fonts.BUNDLED_FONT_PATH, fake, "ABCabc中国投诉登记 →", "WenQuanYi Micro Hei")
    monkeypatch.setattr(_fonts, "_fontconfig_files", lambda: {"wenquanyi micro hei": [str(fake)]})
    monkeypatch.delenv("SVCMINING_CJK_FONT", raising=False)
    monkeypatch.delenv("SVCMINING_SYSTEM_FONTS", raising=False)
    assert _fonts.cjk_font_family() == "WenQuanYi Micro Hei"
    assert Path(_fonts.cjk_font_path()) == fake
    _fonts._resolve.cache_clear()
    monkeypatch.setenv("SVCMINING_SYSTEM_FONTS", "0")  # the bare CI run hides system fonts
    assert _fonts.cjk_font_family() == "Noto Sans CJK SC Subset"


def test_forced_font_file_is_used_and_a_bad_one_warns(monkeypatch, tmp_path):
    """SVCMINING_CJK_FONT names a file to use; a font without Chinese warns and is ignored."""
    good = _subset(_fonts.BUNDLED_FONT_PATH, tmp_path / "g.ttf", "AB中国", "Forced Sans")
    monkeypatch.setenv("SVCMINING_CJK_FONT", str(good))
    assert _fonts.cjk_font_family() == "Forced Sans"
    _fonts._resolve.cache_clear()
    monkeypatch.setenv("SVCMINING_CJK_FONT", str(DEJAVU))
    monkeypatch.setenv("SVCMINING_SYSTEM_FONTS", "0")
    with pytest.warns(UserWarning, match="with both Latin and Chinese glyphs; ignoring it"):
        assert _fonts.cjk_font_family() == "Noto Sans CJK SC Subset"


def test_use_cjk_font_registers_again_after_matplotlib_forgets(monkeypatch, tmp_path):
    """When matplotlib rebuilds its font list, the next use_cjk_font() registers the font again."""
    monkeypatch.setenv("SVCMINING_SYSTEM_FONTS", "0")
    family = _fonts.use_cjk_font()
    manager = font_manager.fontManager
    manager.ttflist[:] = [e for e in manager.ttflist if e.name != family]
    manager._findfont_cached.cache_clear()
    assert _fonts.use_cjk_font() == family
    path = font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False
    )
    assert Path(path).resolve() == _fonts.BUNDLED_FONT_PATH.resolve()
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"not a font")
    _fonts._register(str(junk))  # an unreadable system font file is skipped, not an error
    assert all(e.fname != str(junk) for e in manager.ttflist)


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="fontconfig's fc-list not installed")
def test_empty_fontconfig_configuration_hides_system_fonts(monkeypatch, tmp_path):
    """With FONTCONFIG_FILE pointing to an empty configuration fontconfig lists no font."""
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<fontconfig></fontconfig>\n', encoding="utf-8")
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert _fonts._fontconfig_files() == {}


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="fontconfig's fc-match not installed")
def test_graphviz_env_lets_fontconfig_programs_find_the_bundled_font(monkeypatch, tmp_path):
    """With the bundled font in use, fontconfig (so Graphviz) resolves its family to its file."""
    monkeypatch.setenv("SVCMINING_SYSTEM_FONTS", "0")
    monkeypatch.setattr(matplotlib, "get_cachedir", lambda: str(tmp_path / "mpl"))
    monkeypatch.delenv("FONTCONFIG_FILE", raising=False)
    _fonts._bundled_font_data_home.cache_clear()
    try:
        env = _fonts.graphviz_env()
    finally:
        _fonts._bundled_font_data_home.cache_clear()
    assert env is not None and env["XDG_DATA_HOME"].startswith(str(tmp_path / "mpl"))
    found = subprocess.run(
        ["fc-match", "--format", "%{family}|%{file}", _fonts.BUNDLED_FONT_FAMILY],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    family, file = found.split("|")
    assert family == _fonts.BUNDLED_FONT_FAMILY
    assert Path(file).resolve() == _fonts.BUNDLED_FONT_PATH.resolve()


def test_graphviz_runs_with_the_font_environment(monkeypatch, tmp_path):
    """_processmap._run_dot starts dot with graphviz_env(), or the current environment for None."""
    from svcmining import _processmap as plots

    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nprintf "%s" "$XDG_DATA_HOME"\n', encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    monkeypatch.setenv("XDG_DATA_HOME", "/original")
    monkeypatch.setattr(plots, "graphviz_env", lambda: {"XDG_DATA_HOME": "/bundled"})
    assert plots._run_dot("digraph {}", "svg") == b"/bundled"
    monkeypatch.setattr(plots, "graphviz_env", lambda: None)
    assert plots._run_dot("digraph {}", "svg") == b"/original"


def test_graphviz_env_is_unchanged_with_a_system_font(monkeypatch):
    """When a system CJK font is used Graphviz finds it by name: no environment change."""
    monkeypatch.setattr(_fonts, "_resolve", lambda: ("Noto Sans CJK SC", "/fonts/x.ttc"))
    assert _fonts.graphviz_env() is None


@pytest.mark.parametrize("fmt", ["png", "pdf", "svg", "ps"])
@pytest.mark.parametrize("fonttype", [3, 42])
def test_bundled_font_saves_in_every_format(monkeypatch, tmp_path, fmt, fonttype):
    """The bundled font embeds in PNG, PDF, SVG and PS, as Type 3 and Type 42, without warnings."""
    monkeypatch.setenv("SVCMINING_SYSTEM_FONTS", "0")
    monkeypatch.delenv("SVCMINING_CJK_FONT", raising=False)
    assert _fonts.use_cjk_font() == "Noto Sans CJK SC Subset"
    matplotlib.rcParams["pdf.fonttype"] = matplotlib.rcParams["ps.fonttype"] = fonttype
    fig, ax = plt.subplots(figsize=(3, 1))
    ax.set_title(LABEL)
    out = tmp_path / f"label.{fmt}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(out)
    plt.close(fig)
    data = out.read_bytes()
    if fmt in {"pdf", "ps"}:
        assert b"NotoSansCJKscSubset" in data
        assert b"LastResort" not in data
    if fmt == "svg":  # text is drawn as paths: the SVG shows right without the font
        assert b"<text" not in data


def test_has_cjk():
    """has_cjk tells Chinese/full-width text from plain ASCII."""
    assert _fonts.has_cjk("结单")
    assert _fonts.has_cjk("ABC（")
    assert not _fonts.has_cjk("Closed")
