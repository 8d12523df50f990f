"""The one way both CLIs print a size: decimal megabytes, never ``0.0 MB`` for a small file.

``format_size(1_234_567)`` is ``1.2 MB``; below 0.1 MB the size is given in kB (``12.3 kB``) or
bytes (``512 B``), so a small file never reads as empty.  Imports nothing of the project.
"""

from __future__ import annotations


def format_size(n: int | float) -> str:
    """``n`` bytes as ``X.Y MB``; ``X.Y kB`` below 0.1 MB, ``N B`` below 1 kB (decimal units, as ``MB``)."""
    n = max(0, n)
    if n < 1000:
        return f"{int(n)} B"
    if n < 100_000:
        return f"{n / 1e3:.1f} kB"
    return f"{n / 1e6:.1f} MB"
