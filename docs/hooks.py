"""MkDocs hooks: pages that must follow the code, filled in (and checked) at build time.

* ``<!-- cli-help -->`` in a page becomes the ``--help`` text of ``svcmining`` and of every
  subcommand, straight from the argument parser, so the CLI reference cannot drift.
* The SOP YAML reference must document every key the loader accepts
  (``svcmining.sop._TOP_KEYS``, ``_STEP_KEYS``, ``_SLA_KEYS``, the flow blocks, the
  calendar keys and the ``states:`` kinds): a key missing from the page fails the build.
"""

from __future__ import annotations

import os
import re
from typing import Any


def _cli_help() -> str:
    os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal width: make it fixed
    from svcmining.cli import _parser

    parser = _parser()
    parser.prog = "svcmining"
    parts = ["```text\n$ svcmining --help\n" + parser.format_help().rstrip() + "\n```"]
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, p in sub.choices.items():  # type: ignore[attr-defined]
        parts.append(
            f"### `svcmining {name}`\n\n```text\n$ svcmining {name} --help\n"
            + p.format_help().rstrip()
            + "\n```"
        )
    return "\n\n".join(parts)


def _check_sop_keys(markdown: str) -> None:
    from svcmining import sop, states

    documented = set(re.findall(r"`([a-z_]+)\b", markdown))
    keys = set(sop._TOP_KEYS) | set(sop._STEP_KEYS) | set(sop._SLA_KEYS)
    keys |= {"choice", "parallel", "sequence", "loop", "do", "redo"}
    keys |= {"workdays", "hours", "holidays", "extra_workdays", "timezone"}
    keys |= {*states.STATE_KINDS, "extend"}  # the ``states:`` block
    missing = sorted(keys - documented)
    if missing:
        raise SystemExit(f"docs/sop-yaml.md does not document the SOP key(s): {missing}")


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if "<!-- cli-help -->" in markdown:
        markdown = markdown.replace("<!-- cli-help -->", _cli_help())
    if page.file.src_uri == "sop-yaml.md":
        _check_sop_keys(markdown)
    return markdown
