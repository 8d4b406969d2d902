"""Control characters: never text, sometimes terminal escapes (C0 but tab and line ends, DEL, C1)."""

from __future__ import annotations

import re

CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def visible_controls(text: str) -> str:
    """`text` safe to print to a terminal: each control character shown as `\\xNN` instead of acting."""
    return CONTROL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
