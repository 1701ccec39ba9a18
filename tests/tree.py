"""Looking into what a page renders, for tests: Dash component trees (a view's return value)
and their JSON (a callback's answer), written once."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


def find(component: Any, id_: str) -> Any:
    """The component with ``id_`` in a Dash component tree (or list of them)."""
    if isinstance(component, list | tuple):
        for child in component:
            if (hit := find(child, id_)) is not None:
                return hit
        return None
    if getattr(component, "id", None) == id_:
        return component
    return find(getattr(component, "children", None), id_) if hasattr(component, "children") \
        else None


def text(component: Any) -> str:
    """The visible text of a component tree, words separated by single spaces."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(" ".join(text(c) for c in component).split())
    return text(getattr(component, "children", None)).strip()


def every(tree: object, wanted: Callable[[dict], bool]) -> list[dict]:
    """Every component of a rendered layout (JSON) that ``wanted`` picks."""
    found = []
    if isinstance(tree, dict):
        if wanted(tree):
            found.append(tree)
        for value in tree.values():
            found += every(value, wanted)
    elif isinstance(tree, list):
        for item in tree:
            found += every(item, wanted)
    return found


def find_json(tree: object, component_id: str) -> dict | None:
    """The component with this id in a rendered layout (JSON)."""
    hits = every(tree, lambda c: c.get("props", {}).get("id") == component_id)
    return hits[0] if hits else None
