"""Find an `App` from what the command line names: a file path or ``module:attribute``."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from types import ModuleType

from eventyard.errors import InvalidParameterValue
from eventyard.runtime.app import App


def load_app(reference: str) -> App:
    """``path/to/app.py`` (its folder goes on sys.path), ``path/to/app.py:name`` or
    ``package.module:name``; without a name, the module's ``app`` or its only App.

    A file inside a package (its folder has an ``__init__.py``) is imported as
    that package's module, the folder above the top package going on sys.path,
    so the app's relative imports (``from .labels import print_label``) work.
    """
    target, _, attribute = (
        reference.partition(":")
        if not _is_windows_path(reference)
        else (
            reference,
            "",
            "",
        )
    )
    if target.endswith(".py") or os.sep in target:
        module = _load_file(target)
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise InvalidParameterValue(f"cannot import app module {target!r}: {exc}") from None
    return _find_app(module, attribute, reference)


def _is_windows_path(reference: str) -> bool:
    return len(reference) > 2 and reference[1] == ":" and reference[2] in "\\/"


def _package_module(full: str) -> tuple[str, str] | None:
    """(folder for sys.path, dotted module name) of a file inside a package, else None."""
    folder, parts = os.path.dirname(full), [os.path.splitext(os.path.basename(full))[0]]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        parts.insert(0, os.path.basename(folder))
        folder = os.path.dirname(folder)
    if len(parts) == 1 or not all(part.isidentifier() for part in parts):
        return None
    return folder, ".".join(parts)


def _load_file(path: str) -> ModuleType:
    full = os.path.abspath(path)
    if not os.path.isfile(full):
        raise InvalidParameterValue(f"app file {path!r} does not exist")
    in_package = _package_module(full)
    if in_package is not None:
        root, dotted = in_package
        if root not in sys.path:
            sys.path.insert(0, root)
        try:
            return importlib.import_module(dotted)
        except ImportError as exc:
            raise InvalidParameterValue(
                f"cannot import app file {path!r} as {dotted}: {exc}"
            ) from None
    folder = os.path.dirname(full)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = "eventyard_app_" + hashlib.sha256(full.encode()).hexdigest()[:12]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, full)
    if spec is None or spec.loader is None:
        raise InvalidParameterValue(f"cannot load app file {path!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _find_app(module: ModuleType, attribute: str, reference: str) -> App:
    if attribute:
        found = getattr(module, attribute, None)
        if not isinstance(found, App):
            raise InvalidParameterValue(f"{reference!r}: {attribute!r} is not an eventyard.App")
        return found
    candidate = getattr(module, "app", None)
    if isinstance(candidate, App):
        return candidate
    apps = [value for value in vars(module).values() if isinstance(value, App)]
    if len(apps) != 1:
        raise InvalidParameterValue(
            f"{reference!r} defines {len(apps)} eventyard.App objects; name one as 'file.py:name'"
        )
    return apps[0]
