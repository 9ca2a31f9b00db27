"""The public namespace: `__all__` is complete and every name in it exists."""

from __future__ import annotations

import inspect

import eventyard
from eventyard import errors


def test_all_names_exist() -> None:
    for name in eventyard.__all__:
        assert hasattr(eventyard, name), name


def test_every_error_is_exported_and_under_eventyard_error() -> None:
    for name, value in vars(errors).items():
        if (
            inspect.isclass(value)
            and issubclass(value, Exception)
            and value.__module__ == errors.__name__
        ):
            assert issubclass(value, eventyard.EventyardError), name
            assert name in eventyard.__all__, f"{name} is not exported from eventyard"


def test_all_is_sorted_and_unique() -> None:
    assert len(set(eventyard.__all__)) == len(eventyard.__all__)
