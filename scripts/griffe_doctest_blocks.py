"""Griffe extension for `make docs`: shows doctest examples as code blocks.

coolkeras docstrings follow Keras: `Example:` is followed by unindented
`>>>` lines, which pytest runs as doctests. Markdown would render those lines
as nested quotes (and `[0.5]` outputs as links); this extension fences each
run of doctest lines as a `pycon` code block before the docstring is parsed.
"""

from __future__ import annotations

from typing import Any

import griffe

FENCE = "```"


def fence_doctests(text: str) -> str:
    """Wraps each blank-line-delimited block starting with `>>>` in a fence."""
    lines = text.splitlines()
    out: list[str] = []
    in_fence = in_doctest = False
    indent = ""
    for line in lines:
        stripped = line.lstrip()
        if in_doctest and not stripped:
            out.append(indent + FENCE)
            in_doctest = False
        elif not in_fence and not in_doctest and stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            out.append(indent + FENCE + "pycon")
            in_doctest = True
        elif not in_doctest and stripped.startswith(FENCE):
            in_fence = not in_fence
        out.append(line)
    if in_doctest:
        out.append(indent + FENCE)
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    """Fences doctest examples in every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
