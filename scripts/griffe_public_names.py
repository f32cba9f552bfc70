"""Griffe extension for `make docs`: API pages name only what users import.

Two things griffe reads correctly from the source, but that an API page
should not show:

- `coolkeras.attach` is a function, re-exported by `coolkeras/__init__.py`
  from the module of the same name. Griffe gives the module precedence, so
  `::: coolkeras.attach` rendered the module ("attach › attach", with its
  helpers). Every name a package lists in `__all__` that is a submodule
  holding a public object of the same name now means that object.
- A class whose base is private (`PiecewiseConstant(_Piecewise)`) showed
  "Bases: `_Piecewise`". Private bases are replaced by their own bases,
  repeatedly, so the page shows the public class they derive from.

Private members are hidden by the `filters` option in `mkdocs.yml`.
"""

from __future__ import annotations

from typing import Any

import griffe


def _modules(module: griffe.Module):
    yield module
    for member in module.modules.values():
        if not member.is_alias and not member.name.startswith("_"):
            yield from _modules(member)


def _classes(obj: griffe.Object):
    for member in obj.members.values():
        if member.is_alias:
            continue
        if member.is_class:
            yield member
        if member.is_module or member.is_class:
            yield from _classes(member)


def _public_bases(cls: griffe.Class, collection) -> list:
    bases = []
    for base in cls.bases:
        path = getattr(base, "canonical_path", str(base))
        if not path.rsplit(".", 1)[-1].startswith("_"):
            bases.append(base)
            continue
        try:
            private = collection[path]
        except KeyError:
            bases.append(base)  # defined elsewhere: leave it as written
            continue
        # What the class inherits through the private base (its `__init__`,
        # which `merge_init_into_class` shows as the signature) stays inherited.
        for name, member in private.all_members.items():
            if name not in cls.members:
                cls.set_member(
                    name, griffe.Alias(name, member, parent=cls, inherited=True)
                )
        bases.extend(_public_bases(private, collection))
    return bases


class PublicNames(griffe.Extension):
    """Exported names mean the objects; private bases are skipped."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for module in _modules(pkg):
            for name in module.exports or ():
                if not isinstance(name, str):
                    continue
                member = module.members.get(name)
                if member is None or member.is_alias or not member.is_module:
                    continue
                target = member.members.get(name)
                if target is not None and not target.is_module:
                    module.set_member(name, griffe.Alias(name, target, parent=module))
        for cls in _classes(pkg):
            cls.bases = _public_bases(cls, pkg.modules_collection)
