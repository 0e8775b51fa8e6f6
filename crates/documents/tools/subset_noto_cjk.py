#!/usr/bin/env python3
"""Make the fonts shipped in assets/fonts/ from Debian's `fonts-noto-cjk`.

The Debian package ships Noto Sans CJK as .ttc collections (~20 MB each) whose
faces share one 65,535-glyph CFF table. This script takes the Simplified Chinese
face (index 2 of NotoSansCJK-{Regular,Bold}.ttc) and keeps every code point that
face maps except Hangul (44,810 -> 33,125 code points: all of GB 2312 and GBK but
U+2252, CJK Unified Ideographs, Extension A, the 2,365 Extension B-I ideographs the
font has, e.g. U+20BB7, Latin, punctuation, kana, symbols), with only the OpenType
features horizontal/vertical Chinese text needs. Outlines, metrics, hinting and the
name table are unchanged; the result is ~9 MB per weight instead of ~20 MB.

Noto Sans CJK is under the SIL Open Font License 1.1; the only Reserved Font Name
is "Source", which the output does not use. See assets/fonts/OFL.txt.

Usage (needs `pip install fonttools` and `apt-get install fonts-noto-cjk`):
    python3 crates/documents/tools/subset_noto_cjk.py /usr/share/fonts/opentype/noto assets/fonts
"""
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

SC_FACE = 2  # JP, KR, SC, TC, HK, then the Mono faces
FEATURES = ["ccmp", "kern", "liga", "calt", "clig", "rlig", "mark", "mkmk", "halt",
            "palt", "vert", "vrt2", "dlig", "frac", "numr", "dnom", "sups", "subs"]


def hangul(u: int) -> bool:
    return (0xAC00 <= u <= 0xD7FF or 0x1100 <= u <= 0x11FF or 0x3130 <= u <= 0x318F
            or 0xA960 <= u <= 0xA97F or 0x3200 <= u <= 0x321E or 0x3260 <= u <= 0x327E)


def main() -> None:
    src_dir, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    for weight in ("Regular", "Bold"):
        font = TTFont(src_dir / f"NotoSansCJK-{weight}.ttc", fontNumber=SC_FACE, recalcTimestamp=False)
        keep = sorted(u for u in font.getBestCmap() if not hangul(u))
        opts = subset.Options()
        opts.layout_features = FEATURES
        opts.name_IDs = ["*"]
        opts.name_languages = ["*"]
        opts.name_legacy = True
        opts.notdef_outline = True
        opts.hinting = True
        opts.legacy_kern = True
        opts.drop_tables = []
        subsetter = subset.Subsetter(opts)
        subsetter.populate(unicodes=keep)
        subsetter.subset(font)
        out = out_dir / f"NotoSansCJKsc-{weight}.subset.otf"
        font.save(out)
        print(out, len(keep), "code points", font["maxp"].numGlyphs, "glyphs")


if __name__ == "__main__":
    main()
