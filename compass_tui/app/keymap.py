"""Which binding ids a `[keymap]` may name: every `Binding` id of the app, its screens and its widgets."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from textual.dom import DOMNode

_PACKAGES = ("compass_tui.app.screens", "compass_tui.app.widgets")


def known_binding_ids(app_class: type[DOMNode]) -> set[str]:
    classes: list[type] = [app_class]
    for package_name in _PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package_name}.{info.name}")
            classes += [value for _, value in inspect.getmembers(module, inspect.isclass)]
    return {
        binding.id
        for cls in classes
        if issubclass(cls, DOMNode)
        for binding in getattr(cls, "BINDINGS", [])
        if getattr(binding, "id", None)
    }


def unknown_binding_ids(keymap: dict[str, str], app_class: type[DOMNode]) -> list[str]:
    known = known_binding_ids(app_class)
    return sorted(binding_id for binding_id in keymap if binding_id not in known)
