"""The API reference and `help()` show public names only.

`make docs` renders the API pages with griffe and the extension
`scripts/griffe_public_names.py`; `help()` renders with pydoc. Both must show a
user what they import, never coolkeras' private helpers.
"""

from __future__ import annotations

import importlib.util
import pydoc
import re
import sys
from pathlib import Path

import pytest

import coolkeras
from coolkeras import callbacks, layers, losses, schedules, testing

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = sorted(
    {
        getattr(module, name)
        for module in (coolkeras, callbacks, layers, losses, schedules, testing)
        for name in module.__all__
        if isinstance(getattr(module, name), type) or callable(getattr(module, name))
    },
    key=lambda obj: f"{obj.__module__}.{obj.__qualname__}",
)
PRIVATE_MEMBER = re.compile(r"^\s*\|\s+(_[A-Za-z]\w*)")


def private_members_in_help(obj) -> list[str]:
    """The private names `help(obj)` lists as members (its MRO aside)."""
    text = pydoc.render_doc(obj, renderer=pydoc.plaintext)
    # The method resolution order names the classes, private bases included.
    text = re.sub(r"Method resolution order:\n(\s*\|\s+\S+\n)+", "", text)
    return [
        match[1] for line in text.splitlines() if (match := PRIVATE_MEMBER.match(line))
    ]


@pytest.mark.parametrize("obj", PUBLIC, ids=lambda obj: obj.__qualname__)
def test_help_lists_no_private_member(obj):
    assert private_members_in_help(obj) == []


def test_help_check_finds_a_private_member():
    class Shown:
        _fields = ("a",)  # pydoc shows every name of a class with `_fields`

        def _helper(self):
            pass

    assert "_helper" in private_members_in_help(Shown)


def _load_extension():
    spec = importlib.util.spec_from_file_location(
        "griffe_public_names", ROOT / "scripts" / "griffe_public_names.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_api_pages_resolve_exported_names_and_skip_private_bases():
    griffe = pytest.importorskip("griffe")
    extension = _load_extension().PublicNames()
    package = griffe.load(
        "coolkeras",
        search_paths=[str(ROOT)],
        extensions=griffe.load_extensions(extension),
    )
    attach = package["attach"]
    assert attach.is_function, attach.kind  # not the module `coolkeras.attach`
    for name, cls in package["schedules"].classes.items():
        bases = [str(base).rsplit(".", 1)[-1] for base in cls.bases]
        assert not any(base.startswith("_") for base in bases), (name, bases)
    assert [str(b) for b in package["schedules.PiecewiseConstant"].bases] == [
        "Schedule"
    ]
