"""The operator CLI through its real entry point: ``python -m eventyard`` on a real file."""

from __future__ import annotations

from pathlib import Path

import pytest
from ops_cli import Cli


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ops.db'}"


@pytest.fixture
def cli(db: str) -> Cli:
    return Cli(db)
