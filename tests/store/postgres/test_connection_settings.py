"""What a postgresql:// URL says, and what is shown of it."""

from __future__ import annotations

import pytest

from eventyard.errors import UnsupportedDatabaseUrl
from eventyard.store.postgres.connection import ConnectionSettings


def test_eventyards_own_parameters_are_taken_out_and_the_password_masked() -> None:
    settings = ConnectionSettings(
        "postgresql://shop:s3cret@db.internal:5433/shop?schema=queues&pool_size=4"
        "&options=-c%20statement_timeout%3D5000&sslmode=require"
    )
    assert (settings.schema, settings.pool_size) == ("queues", 4)
    assert settings.conninfo == (
        "postgresql://shop:s3cret@db.internal:5433/shop"
        "?options=-c%20statement_timeout%3D5000&sslmode=require"
    )
    assert "s3cret" not in settings.display_url
    assert settings.display_url.startswith("postgresql://shop:***@db.internal:5433/shop")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://h/db?schema=1bad", "schema"),
        ("postgresql://h/db?schema=pg_catalog", "pg_"),
        ("postgresql://h/db?pool_size=0", "pool_size"),
        ("postgresql://h/db?pool_size=many", "pool_size"),
        ("mysql://h/db", "postgresql://"),
    ],
)
def test_bad_urls_are_refused_naming_the_part(url: str, message: str) -> None:
    with pytest.raises(UnsupportedDatabaseUrl, match=message):
        ConnectionSettings(url)
