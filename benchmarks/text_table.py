"""The benchmarks' tables, as plain text for a terminal."""
from __future__ import annotations

from collections.abc import Sequence


def text_table(head: Sequence[object], rows: Sequence[Sequence[object]]) -> str:
    """Columns padded to their widest cell, a rule under the head."""
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True))
             for row in [head, *rows]]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)
