"""`load_app`: a file path, a file inside a package (relative imports), or module:attribute."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import eventyard
from eventyard.runtime.loader import load_app


def test_a_plain_file_is_loaded_with_its_folder_on_the_path(tmp_path: Path) -> None:
    (tmp_path / "helpers_for_plain.py").write_text("NAME = 'plain'\n")
    (tmp_path / "shop.py").write_text(
        "import eventyard\nfrom helpers_for_plain import NAME\napp = eventyard.App(NAME)\n"
    )
    assert load_app(str(tmp_path / "shop.py")).name == "plain"


def test_a_file_in_a_package_is_imported_as_its_module(tmp_path: Path) -> None:
    package = tmp_path / "shopkit_pkg" / "checkout"
    package.mkdir(parents=True)
    (tmp_path / "shopkit_pkg" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "names.py").write_text("NAME = 'packaged'\n")
    (package / "app.py").write_text(
        "import eventyard\nfrom .names import NAME\napp = eventyard.App(NAME)\n"
    )
    try:
        app = load_app(str(package / "app.py"))
        assert app.name == "packaged"
        assert sys.modules["shopkit_pkg.checkout.app"].app is app
        assert load_app("shopkit_pkg.checkout.app:app") is app  # the same module either way
    finally:
        for name in [n for n in sys.modules if n.startswith("shopkit_pkg")]:
            del sys.modules[name]
        sys.path.remove(str(tmp_path))


def test_a_broken_package_import_names_the_file(tmp_path: Path) -> None:
    package = tmp_path / "brokenkit_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text("from .missing import nothing\n")
    try:
        with pytest.raises(eventyard.InvalidParameterValue, match=r"as brokenkit_pkg\.app"):
            load_app(str(package / "app.py"))
    finally:
        sys.path.remove(str(tmp_path))
