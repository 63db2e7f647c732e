"""The benches' closing table: one line per target of issue 17, what was measured, met or not."""

from __future__ import annotations


def target_table(rows: list[tuple[str, str, bool | None]]) -> str:
    """``rows`` of (target, measured, met); ``met`` None for a figure that is only reported."""
    width = max(len(target) for target, _, _ in rows)
    lines = [f"{'target':<{width}}  met  measured"]
    for target, measured, met in rows:
        lines.append(f"{target:<{width}}  {'-' if met is None else 'yes' if met else 'NO':<3}  {measured}")
    return "\n".join(lines)
