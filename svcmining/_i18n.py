"""The report's two languages: one call picks the English or Chinese text of a phrase.

Every heading, sentence, column name, glossary entry and chart label that the report
*writes* goes through :func:`tr` (labels that come from the data stay as they are)::

    tr(ctx.lang, en="Rework", zh="返工")
    tr(lang, en="{n:,} tickets", zh="{n:,} 张工单", n=1200)

:func:`default_lang` picks the language from the data: ``"zh"`` when the activity or
department labels are written in Chinese (CJK ideographs), else ``"en"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from .exceptions import InvalidParameterError

__all__ = ["LANGS", "Lang", "check_lang", "default_lang", "tr"]

Lang = Literal["en", "zh"]
#: The languages the report is written in.
LANGS: tuple[str, ...] = ("en", "zh")

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def tr(lang: str, *, en: str, zh: str, **fields: Any) -> str:
    """The phrase in ``lang`` (``"zh"`` or anything else: English), formatted with ``fields``."""
    text = zh if lang == "zh" else en
    return text.format(**fields) if fields else text


def check_lang(func: str, lang: str | None) -> str | None:
    """``lang`` checked: None (decide from the data), "en" or "zh"."""
    if lang is None or lang in LANGS:
        return lang
    raise InvalidParameterError(
        f"The 'lang' parameter of {func} must be one of {{'en', 'zh'}} or None. "
        f"Got {lang!r} instead."
    )


def default_lang(labels: Iterable[Any]) -> Lang:
    """``"zh"`` when more than a few of the labels are written in Chinese, else ``"en"``."""
    seen = cjk = 0
    for label in labels:
        if not isinstance(label, str) or not label:
            continue
        seen += 1
        cjk += bool(_CJK.search(label))
    return "zh" if seen and cjk * 5 >= seen else "en"
