"""Every public name has an entry in the API reference of the docs site."""

import re
import types
from pathlib import Path

import coolkeras

API_DOCS = Path(__file__).resolve().parents[2] / "docs" / "api"


def public_names() -> set[str]:
    names = set()
    for name in coolkeras.__all__:
        value = getattr(coolkeras, name)
        if isinstance(value, types.ModuleType):
            names.update(f"coolkeras.{name}.{member}" for member in value.__all__)
        elif name != "__version__":
            names.add(f"coolkeras.{name}")
    return names


def documented_names() -> set[str]:
    text = "\n".join(page.read_text() for page in sorted(API_DOCS.glob("*.md")))
    return set(re.findall(r"^::: (\S+)$", text, flags=re.MULTILINE))


def test_every_public_name_is_in_the_api_reference():
    names = public_names()
    assert "coolkeras.layers.CenterLoss" in names  # the walk finds family members
    missing = sorted(names - documented_names())
    assert not missing, f"add `::: name` lines to docs/api/*.md for: {missing}"


def test_api_reference_names_exist():
    for dotted in documented_names():
        module, _, name = dotted.rpartition(".")
        owner = (
            coolkeras
            if module == "coolkeras"
            else getattr(coolkeras, module.split(".")[1])
        )
        assert hasattr(owner, name), f"docs/api names a missing object: {dotted}"
