"""eventyard's ``?`` placeholders, rewritten for psycopg (and run on a real server)."""

from __future__ import annotations

import threading
import time

import pytest

import eventyard
from eventyard.errors import InvalidParameterValue
from eventyard.store.postgres.placeholders import rewrite


def test_plain_placeholders_become_positional() -> None:
    statement = rewrite("SELECT * FROM t WHERE a = ? AND b IN (?, ?)")
    assert statement.sql == "SELECT * FROM t WHERE a = %s AND b IN (%s, %s)"
    assert statement.parameters((1, 2, 3)) == (1, 2, 3)


def test_numbered_placeholders_become_named_so_a_value_is_sent_once() -> None:
    statement = rewrite("UPDATE t SET a = ?1, b = ?2 WHERE c = ?2")
    assert statement.sql == "UPDATE t SET a = %(p1)s, b = %(p2)s WHERE c = %(p2)s"
    assert statement.parameters(("x", "y")) == {"p1": "x", "p2": "y"}


def test_quoted_text_comments_and_percent_signs_are_kept() -> None:
    statement = rewrite(
        "SELECT '?', \"odd?name\", x % 2 FROM t -- why?\n WHERE y LIKE '50%' AND z = ? /* ? */"
    )
    assert statement.sql == (
        "SELECT '?', \"odd?name\", x %% 2 FROM t -- why?\n WHERE y LIKE '50%%' AND z = %s /* ? */"
    )


def test_a_mix_of_styles_is_refused_with_the_statement() -> None:
    with pytest.raises(InvalidParameterValue, match="mixes"):
        rewrite("SELECT ? + ?1")


def test_application_sql_runs_with_the_same_placeholders(postgres_url: str) -> None:
    with eventyard.connect(postgres_url) as client, client.transaction() as tx:
        assert tx.dialect == "postgresql"
        tx.execute("CREATE TABLE items (sku TEXT PRIMARY KEY, price INTEGER, note TEXT)")
        tx.executemany("INSERT INTO items VALUES (?, ?, ?)", [("a", 5, "5%"), ("b", 7, "?")])
        rows = tx.execute(
            "SELECT sku, note FROM items WHERE price > ?1 - 1 AND price < ?1 + 10 ORDER BY sku",
            (5,),
        ).fetchall()
        assert rows == [("a", "5%"), ("b", "?")]
        like = tx.execute("SELECT sku FROM items WHERE note LIKE '5%' AND price = ?", (5,))
        assert like.fetchall() == [("a",)]


def test_transactions_that_lock_one_name_run_one_after_the_other(postgres_url: str) -> None:
    inside: list[str] = []
    both_started = threading.Barrier(2)

    def work(name: str) -> None:
        with eventyard.connect(postgres_url) as client:
            both_started.wait()
            with client.transaction() as tx:
                tx.lock("reports")
                inside.append(f"{name} in")
                time.sleep(0.3)
                inside.append(f"{name} out")

    threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(inside) == 4
    assert inside[0][0] == inside[1][0]  # whoever went in first came out before the other
    assert inside[2][0] == inside[3][0]
