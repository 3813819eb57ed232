"""Make the CJK font subset shipped in ``svcmining/fonts/``.

Usage::

    apt-get download fonts-noto-cjk && dpkg -x fonts-noto-cjk_*.deb /tmp/noto
    python tools/make_font_subset.py \
        /tmp/noto/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
        svcmining/fonts/NotoSansCJKsc-Subset.ttf

Takes the "Noto Sans CJK SC" face out of the Debian collection (or a single-face
OTF), keeps only the characters listed by :func:`charset` (all of GB2312 plus
Latin, digits, punctuation, arrows and full-width forms), drops hinting and
OpenType layout tables, converts the CFF outlines to TrueType (``glyf``)
quadratic outlines so every matplotlib backend (Agg, PDF, PS, SVG, Type 42 or
Type 3) can embed it, and renames the family to ``Noto Sans CJK SC Subset`` so it
never shadows a full system install. Needs only fontTools.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

FAMILY = "Noto Sans CJK SC Subset"
POSTSCRIPT_NAME = "NotoSansCJKscSubset-Regular"

#: Unicode ranges kept besides GB2312 (only code points the source font has survive).
EXTRA_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0020, 0x007E, "ASCII"),
    (0x00A0, 0x00FF, "Latin-1 Supplement"),
    (0x0100, 0x017F, "Latin Extended-A"),
    (0x01CD, 0x01DC, "pinyin letters with caron"),
    (0x2010, 0x205E, "General Punctuation"),
    (0x20AC, 0x20AC, "euro sign"),
    (0x2100, 0x214F, "Letterlike Symbols (℃, №, ™)"),
    (0x2150, 0x218F, "Number Forms (Ⅰ, Ⅻ, ⅰ)"),
    (0x2190, 0x21FF, "Arrows (→, ⇒)"),
    (0x2200, 0x22FF, "Mathematical Operators (−, ≤, ≥, ×)"),
    (0x2460, 0x24FF, "Enclosed Alphanumerics (①)"),
    (0x25A0, 0x25FF, "Geometric Shapes (●, ▲)"),
    (0x2600, 0x2606, "stars (★, ☆)"),
    (0x3000, 0x303F, "CJK Symbols and Punctuation (、。「」【】)"),
    (0xFE30, 0xFE4F, "CJK Compatibility Forms"),
    (0xFF00, 0xFFEF, "Halfwidth and Fullwidth Forms (，：（）)"),
)


def gb2312() -> set[int]:
    """Every character GB2312 encodes (rows 0xA1-0xF7, cells 0xA1-0xFE)."""
    chars: set[int] = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                ch = bytes((row, cell)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            chars.add(ord(ch))
    return chars


def charset() -> set[int]:
    """The code points to keep: GB2312 plus :data:`EXTRA_RANGES`."""
    chars = gb2312()
    for lo, hi, _ in EXTRA_RANGES:
        chars.update(range(lo, hi + 1))
    return chars


def _open_face(path: Path, family: str) -> TTFont:
    if path.suffix.lower() in {".ttc", ".otc"}:
        for font in TTCollection(str(path), lazy=False).fonts:
            if font["name"].getDebugName(1) == family:
                return font
        raise SystemExit(f"{path}: no face named {family!r}")
    return TTFont(str(path), lazy=False)


def _to_truetype(font: TTFont, max_err: float = 1.0) -> None:
    """Convert CFF outlines to TrueType quadratic ones (fontTools' otf2ttf recipe)."""
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyphs.items():
        if hasattr(glyph, "xMin"):
            hmtx[name] = (hmtx[name][0], glyph.xMin)
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.numGlyphs = len(order)
    for attr in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
        "maxComponentDepth",
    ):
        setattr(maxp, attr, 1 if attr == "maxZones" else 0)
    maxp.recalc(font)
    post = font["post"]
    post.formatType = 3.0  # no glyph names: readers derive them from the cmap
    post.extraNames = []
    post.mapping = {}
    font.sfntVersion = "\x00\x01\x00\x00"


def _rename(font: TTFont) -> None:
    name = font["name"]
    version = name.getDebugName(5) or ""
    src_family = name.getDebugName(1)
    keep = {0, 7, 8, 9, 10, 11, 12, 13, 14}
    name.names = [r for r in name.names if r.nameID in keep]
    for name_id, value in (
        (1, FAMILY),
        (2, "Regular"),
        (3, f"{POSTSCRIPT_NAME};{version}"),
        (4, FAMILY),
        (5, f"{version}; subset of {src_family} by svcmining tools/make_font_subset.py"),
        (6, POSTSCRIPT_NAME),
    ):
        name.setName(value, name_id, 3, 1, 0x409)


def make_subset(source: Path, out: Path, *, family: str = "Noto Sans CJK SC") -> TTFont:
    """Write the subset of ``family`` from ``source`` to ``out`` and return it."""
    font = _open_face(source, family)
    options = subset.Options()
    options.layout_features = []  # matplotlib lays out text without GSUB/GPOS
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx", "DSIG"]
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.name_languages = [0x409]
    options.glyph_names = False
    sub = subset.Subsetter(options)
    sub.populate(unicodes=sorted(charset()))
    sub.subset(font)
    _to_truetype(font)
    _rename(font)
    out.parent.mkdir(parents=True, exist_ok=True)
    font.recalcTimestamp = False  # keep the source's date: the same input gives the same bytes
    font.save(str(out))
    return TTFont(str(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "source", type=Path, help="NotoSansCJK-Regular.ttc or NotoSansCJKsc-Regular.otf"
    )
    parser.add_argument("out", type=Path, help="the .ttf to write")
    parser.add_argument(
        "--family", default="Noto Sans CJK SC", help="face to take from a collection"
    )
    args = parser.parse_args(argv)
    font = make_subset(args.source, args.out, family=args.family)
    cmap = font.getBestCmap()
    hanzi = sum(1 for cp in cmap if 0x4E00 <= cp <= 0x9FFF)
    print(
        f"{args.out}: {args.out.stat().st_size:,} bytes, {len(cmap):,} characters "
        f"({hanzi:,} hanzi), {font['maxp'].numGlyphs:,} glyphs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
