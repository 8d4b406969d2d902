"""Rows of a table as Markdown table blocks, each block repeating the header, so that every chunk cut from a
block names its columns. The chunker keeps a block whole when it fits (ingest/chunker.py, `_table_units`)."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
BLOCK_TOKENS = 120  # estimated tokens per block: well under the default 200-token chunk, header included


def estimate_tokens(text: str) -> int:
    """A cheap upper estimate of embedder tokens: one per CJK character, one per 2.5 other characters."""
    cjk = len(_CJK.findall(text))
    return cjk + int((len(text) - cjk) / 2.5) + 1


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def markdown_row(cells) -> str:
    """One Markdown table row."""
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def markdown_blocks(header, rows, block_tokens: int = BLOCK_TOKENS) -> list[str]:
    """Blocks of `header` + separator + as many rows as fit in about `block_tokens` (at least one row)."""
    head = markdown_row(header) + "\n" + markdown_row(["---"] * len(header))
    blocks, current, size = [], [], estimate_tokens(head)
    for row in rows:
        line = markdown_row(row)
        cost = estimate_tokens(line)
        if current and size + cost > block_tokens:
            blocks.append("\n".join([head, *current]))
            current, size = [], estimate_tokens(head)
        current.append(line)
        size += cost
    if current:
        blocks.append("\n".join([head, *current]))
    return blocks
