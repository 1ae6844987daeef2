"""Every layout by name: the one place the job asks which code reads a profile's index."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from transforms.sources import layouts
from transforms.sources.errors import ProfileError
from transforms.sources.layouts.base import Layout
from transforms.sources.profiles import SourceProfile


@cache
def all_layouts() -> dict[str, Layout]:
    """Each module of this package that defines LAYOUT, by the layout's name."""
    found: dict[str, Layout] = {}
    for module in pkgutil.iter_modules(layouts.__path__):
        layout = getattr(importlib.import_module(f"{layouts.__name__}.{module.name}"), "LAYOUT", None)
        if isinstance(layout, Layout):
            if layout.name in found:
                raise RuntimeError(f"two layouts are named {layout.name!r}")
            found[layout.name] = layout
    return found


def layout_for(profile: SourceProfile) -> Layout:
    try:
        return all_layouts()[profile.format]
    except KeyError:
        known = ", ".join(sorted(all_layouts()))
        raise ProfileError(f"profile {profile.name}: no layout named {profile.format!r} (known: {known})") from None
