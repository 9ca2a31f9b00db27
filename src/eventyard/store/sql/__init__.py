"""eventyard's SQL, written once for both backends (SQLite and PostgreSQL).

Each module holds the statements of one concept (queues, messages, topics,
fan-out, buses, replays, move tasks, ...) as functions that take a
connection inside the caller's transaction; `store.SqlStore` opens the
transactions. Where the dialects differ, the modules ask ``conn.dialect``
(`eventyard.store.sql.dialect`).
"""
