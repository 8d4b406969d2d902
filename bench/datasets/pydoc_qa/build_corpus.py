"""Rebuild corpus.jsonl of this dataset from Python's own help texts (pydoc_data.topics, Python 3.11).

Topics whose text is contained in another topic are left out so that every passage exists once; each remaining
topic is cut at paragraph breaks into passages of at most ~1,500 characters, ids `<topic>-<n>`.
Run: .venv/bin/python bench/datasets/pydoc_qa/build_corpus.py (the committed corpus.jsonl is its output).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from pydoc_data.topics import topics

# containers of other topics, and topics repeated verbatim inside another one
SKIP = {"compound", "specialnames", "execmodel", "else", "in", "id-classes", "augassign", "typesseq-mutable"}
MAX_CHARS = 1500


def passages(text: str) -> list[str]:
    """Greedy packing of paragraphs into passages of at most MAX_CHARS (a longer paragraph stays whole)."""
    out, current = [], ""
    for para in text.split("\n\n"):
        if current and len(current) + len(para) + 2 > MAX_CHARS:
            out.append(current)
            current = ""
        current = f"{current}\n\n{para}" if current else para
    if current.strip():
        out.append(current)
    return out


def main() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit("build with Python 3.11: the help texts differ between versions")
    lines = []
    for name in sorted(set(topics) - SKIP):
        text = topics[name].strip()
        title = text.splitlines()[0].strip()
        for n, body in enumerate(passages(text)):
            lines.append(json.dumps({"_id": f"{name}-{n}", "title": title, "text": body}, ensure_ascii=False))
    Path(__file__).with_name("corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
