"""Event buses, rules, targets and archives on SQLite (in the caller's transaction)."""

from __future__ import annotations

from collections.abc import Sequence

from eventyard.errors import (
    ArchiveDoesNotExist,
    BusDoesNotExist,
    InvalidParameterValue,
    LimitExceeded,
    QueueDoesNotExist,
    ResourceAlreadyExists,
    ResourceInUse,
    RuleDoesNotExist,
    TopicDoesNotExist,
)
from eventyard.model import limits
from eventyard.model.bus_config import RuleConfig, TargetConfig
from eventyard.model.internal import function_queue
from eventyard.store.base import RecordChanged
from eventyard.store.records import ArchiveRecord, BusRecord, BusSnapshot, Guard, RuleRecord
from eventyard.store.sql.dialect import Connection
from eventyard.store.sql.queues import find_queue
from eventyard.store.sql.rows import first_row
from eventyard.store.sql.topics import find_topic

_RULE_COLUMNS = (
    "r.id, r.bus_id, b.name, r.name, r.config, r.created_at_ms, r.anchor_ms, r.last_fired_at_ms"
    " FROM eventyard_rules r JOIN eventyard_buses b ON b.id = r.bus_id"
)
_ARCHIVE_COLUMNS = (
    "a.id, a.name, b.name, a.pattern, a.retention_days, a.description, a.created_at_ms"
    " FROM eventyard_archives a JOIN eventyard_buses b ON b.id = a.bus_id"
)


def _bus(row: tuple[int, str, int, int]) -> BusRecord:
    return BusRecord(row[0], row[1], row[2], row[3])


def _rule(row: tuple[int, int, str, str, str, int, int, int | None]) -> RuleRecord:
    return RuleRecord(
        row[0], row[1], row[2], row[3], RuleConfig.from_json(row[4]), row[5], row[6], row[7]
    )


def _archive(row: tuple[int, str, str, str | None, int, str | None, int]) -> ArchiveRecord:
    return ArchiveRecord(*row)


def find_bus(conn: Connection, name: str) -> BusRecord | None:
    row = first_row(
        conn.execute(
            "SELECT id, name, created_at_ms, generation FROM eventyard_buses WHERE name = ?",
            (name,),
        )
    )
    return None if row is None else _bus(row)


def get_bus(conn: Connection, name: str) -> BusRecord:
    bus = find_bus(conn, name)
    if bus is None:
        raise BusDoesNotExist(f"event bus {name!r} does not exist")
    return bus


def list_buses(conn: Connection) -> list[BusRecord]:
    rows = conn.execute(
        "SELECT id, name, created_at_ms, generation FROM eventyard_buses ORDER BY name"
    ).fetchall()
    return [_bus(row) for row in rows]


def create_bus(conn: Connection, name: str, now_ms: int) -> BusRecord:
    existing = find_bus(conn, name)
    if existing is not None:
        return existing
    (bus_id,) = conn.execute(
        "INSERT INTO eventyard_buses (name, created_at_ms) VALUES (?, ?) RETURNING id",
        (name, now_ms),
    ).fetchone()
    return BusRecord(bus_id, name, now_ms, 1)


def delete_bus(conn: Connection, name: str) -> None:
    if name == "default":
        raise InvalidParameterValue("the default event bus cannot be deleted")
    bus = get_bus(conn, name)
    rules = [rule.name for rule in list_rules(conn, bus)]
    if rules:
        raise ResourceInUse(
            f"event bus {name!r} still has rules ({', '.join(map(repr, rules))}); delete them first"
        )
    forwarders = _targets_pointing_at(conn, "bus", name)
    if forwarders:
        raise ResourceInUse(f"event bus {name!r} is a target of rule(s) {', '.join(forwarders)}")
    conn.execute(
        "DELETE FROM eventyard_archived_events WHERE archive_id IN"
        " (SELECT id FROM eventyard_archives WHERE bus_id = ?)",
        (bus.id,),
    )
    conn.execute("DELETE FROM eventyard_archives WHERE bus_id = ?", (bus.id,))
    conn.execute("DELETE FROM eventyard_buses WHERE id = ?", (bus.id,))


def _bump(conn: Connection, bus_id: int) -> None:
    conn.execute("UPDATE eventyard_buses SET generation = generation + 1 WHERE id = ?", (bus_id,))


def find_rule(conn: Connection, bus: BusRecord, name: str) -> RuleRecord | None:
    row = first_row(
        conn.execute(f"SELECT {_RULE_COLUMNS} WHERE r.bus_id = ? AND r.name = ?", (bus.id, name))
    )
    return None if row is None else _rule(row)


def get_rule(conn: Connection, bus: BusRecord, name: str) -> RuleRecord:
    rule = find_rule(conn, bus, name)
    if rule is None:
        raise RuleDoesNotExist(f"rule {name!r} does not exist on event bus {bus.name!r}")
    return rule


def list_rules(conn: Connection, bus: BusRecord) -> list[RuleRecord]:
    rows = conn.execute(
        f"SELECT {_RULE_COLUMNS} WHERE r.bus_id = ? ORDER BY r.name", (bus.id,)
    ).fetchall()
    return [_rule(row) for row in rows]


def scheduled_rules(conn: Connection) -> list[RuleRecord]:
    rows = conn.execute(
        f"SELECT {_RULE_COLUMNS} WHERE r.schedule IS NOT NULL ORDER BY r.id"
    ).fetchall()
    return [_rule(row) for row in rows]


def put_rule(
    conn: Connection, bus_name: str, name: str, config: RuleConfig, now_ms: int
) -> RuleRecord:
    bus = get_bus(conn, bus_name)
    existing = find_rule(conn, bus, name)
    if existing is None:
        conn.execute(
            "INSERT INTO eventyard_rules (bus_id, name, config, schedule, created_at_ms,"
            " anchor_ms) VALUES (?, ?, ?, ?, ?, ?)",
            (bus.id, name, config.to_json(), config.schedule, now_ms, now_ms),
        )
    elif existing.config != config:
        # A schedule counts from when it was set or re-enabled (rate expressions).
        reanchor = existing.config.schedule != config.schedule or (
            existing.config.state,
            config.state,
        ) == ("DISABLED", "ENABLED")
        conn.execute(
            "UPDATE eventyard_rules SET config = ?, schedule = ?,"
            " anchor_ms = CASE WHEN ? THEN ? ELSE anchor_ms END,"
            " last_fired_at_ms = CASE WHEN ? THEN NULL ELSE last_fired_at_ms END WHERE id = ?",
            (config.to_json(), config.schedule, reanchor, now_ms, reanchor, existing.id),
        )
    _bump(conn, bus.id)
    return get_rule(conn, bus, name)


def delete_rule(conn: Connection, bus_name: str, name: str, force: bool) -> None:
    bus = get_bus(conn, bus_name)
    rule = get_rule(conn, bus, name)
    targets = rule_targets(conn, rule.id)
    if targets and not force:
        raise ResourceInUse(
            f"rule {name!r} still has targets ({', '.join(t.target_id for t in targets)}); "
            "remove them first, or delete with force=True"
        )
    conn.execute("DELETE FROM eventyard_targets WHERE rule_id = ?", (rule.id,))
    conn.execute("DELETE FROM eventyard_rules WHERE id = ?", (rule.id,))
    _bump(conn, bus.id)


def rule_targets(conn: Connection, rule_id: int) -> list[TargetConfig]:
    rows = conn.execute(
        "SELECT config FROM eventyard_targets WHERE rule_id = ? ORDER BY target_id", (rule_id,)
    ).fetchall()
    return [TargetConfig.from_json(row[0]) for row in rows]


def _check_endpoint(conn: Connection, bus: BusRecord, target: TargetConfig) -> None:
    if target.kind == "queue":
        queue = find_queue(conn, target.endpoint)
        if queue is None:
            raise QueueDoesNotExist(f"target queue {target.endpoint!r} does not exist")
        if queue.fifo and target.group_id is None:
            raise InvalidParameterValue(
                f"target {target.target_id!r}: FIFO queue {target.endpoint!r} needs a group_id"
            )
        if not queue.fifo and target.group_id is not None:
            raise InvalidParameterValue(
                f"target {target.target_id!r}: group_id applies only to FIFO queues"
            )
    elif target.kind == "topic":
        topic = find_topic(conn, target.endpoint)
        if topic is None:
            raise TopicDoesNotExist(f"target topic {target.endpoint!r} does not exist")
        if topic.fifo:
            raise InvalidParameterValue(
                f"target {target.target_id!r}: FIFO topics cannot be rule targets here"
            )
    elif target.kind == "function":
        if find_queue(conn, function_queue(target.endpoint)) is None:
            raise InvalidParameterValue(
                f"target {target.target_id!r}: function {target.endpoint!r} is not known to this "
                "database; declare it in an App and apply the app first"
            )
    elif target.kind == "bus":
        if target.endpoint == bus.name:
            raise InvalidParameterValue(
                f"target {target.target_id!r}: a rule cannot target its own event bus"
            )
        get_bus(conn, target.endpoint)
    if target.dead_letter_queue is not None:
        dead_letter = find_queue(conn, target.dead_letter_queue)
        if dead_letter is None:
            raise QueueDoesNotExist(
                f"target {target.target_id!r}: dead_letter_queue {target.dead_letter_queue!r} "
                "does not exist"
            )
        if dead_letter.fifo:
            raise InvalidParameterValue(
                f"target {target.target_id!r}: a target's dead_letter_queue must be a standard "
                "queue"
            )


def put_targets(
    conn: Connection, bus_name: str, rule_name: str, targets: Sequence[TargetConfig]
) -> list[TargetConfig]:
    bus = get_bus(conn, bus_name)
    rule = get_rule(conn, bus, rule_name)
    current = {target.target_id: target for target in rule_targets(conn, rule.id)}
    for target in targets:
        _check_endpoint(conn, bus, target)
        current[target.target_id] = target
    if len(current) > limits.RULE_TARGETS_MAX:
        raise LimitExceeded(
            f"rule {rule_name!r} would have {len(current)} targets; a rule may have at most "
            f"{limits.RULE_TARGETS_MAX}"
        )
    conn.executemany(
        "INSERT INTO eventyard_targets (rule_id, target_id, kind, endpoint, config)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (rule_id, target_id) DO UPDATE SET"
        " kind = excluded.kind, endpoint = excluded.endpoint, config = excluded.config",
        [(rule.id, t.target_id, t.kind, t.endpoint, t.to_json()) for t in targets],
    )
    _bump(conn, bus.id)
    return rule_targets(conn, rule.id)


def remove_targets(
    conn: Connection, bus_name: str, rule_name: str, target_ids: Sequence[str]
) -> None:
    bus = get_bus(conn, bus_name)
    rule = get_rule(conn, bus, rule_name)
    conn.executemany(
        "DELETE FROM eventyard_targets WHERE rule_id = ? AND target_id = ?",
        [(rule.id, target_id) for target_id in target_ids],
    )
    _bump(conn, bus.id)


def _targets_pointing_at(conn: Connection, kind: str, endpoint: str) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT b.name || '/' || r.name FROM eventyard_targets t"
        " JOIN eventyard_rules r ON r.id = t.rule_id JOIN eventyard_buses b ON b.id = r.bus_id"
        " WHERE t.kind = ? AND t.endpoint = ? ORDER BY 1",
        (kind, endpoint),
    ).fetchall()
    return [row[0] for row in rows]


def rules_targeting(conn: Connection, kind: str, endpoint: str) -> list[str]:
    """Rules (bus/rule) with a target of this kind and name, for 'in use' errors."""
    return _targets_pointing_at(conn, kind, endpoint)


def snapshot(conn: Connection, bus_name: str) -> BusSnapshot:
    bus = get_bus(conn, bus_name)
    rules = [(rule, rule_targets(conn, rule.id)) for rule in list_rules(conn, bus)]
    archives = [
        _archive(row)
        for row in conn.execute(f"SELECT {_ARCHIVE_COLUMNS} WHERE a.bus_id = ?", (bus.id,))
    ]
    return BusSnapshot(bus, rules, archives)


def check_guard(conn: Connection, guard: Guard) -> None:
    row = first_row(
        conn.execute("SELECT generation FROM eventyard_buses WHERE id = ?", (guard.record_id,))
    )
    if row is None:
        raise BusDoesNotExist(f"event bus {guard.name!r} does not exist (it was deleted)")
    if row[0] != guard.generation:
        raise RecordChanged(guard.name)


def mark_fired(conn: Connection, rule_id: int, previous: int | None, fired_at: int) -> bool:
    """Record that a scheduled rule fired; False if another dispatcher did it first."""
    cursor = conn.execute(
        "UPDATE eventyard_rules SET last_fired_at_ms = ? WHERE id = ?"
        f" AND last_fired_at_ms {conn.dialect.is_same} ?",
        (fired_at, rule_id, previous),
    )
    return cursor.rowcount == 1


# -- archives -------------------------------------------------------------------


def create_archive(
    conn: Connection,
    name: str,
    bus_name: str,
    pattern: str | None,
    retention_days: int,
    description: str | None,
    now_ms: int,
) -> ArchiveRecord:
    bus = get_bus(conn, bus_name)
    if first_row(conn.execute("SELECT 1 FROM eventyard_archives WHERE name = ?", (name,))):
        raise ResourceAlreadyExists(f"archive {name!r} already exists")
    conn.execute(
        "INSERT INTO eventyard_archives (name, bus_id, pattern, retention_days, description,"
        " created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
        (name, bus.id, pattern, retention_days, description, now_ms),
    )
    _bump(conn, bus.id)
    return get_archive(conn, name)


def get_archive(conn: Connection, name: str) -> ArchiveRecord:
    row = first_row(conn.execute(f"SELECT {_ARCHIVE_COLUMNS} WHERE a.name = ?", (name,)))
    if row is None:
        raise ArchiveDoesNotExist(f"archive {name!r} does not exist")
    count = first_row(
        conn.execute(
            "SELECT count(*) FROM eventyard_archived_events WHERE archive_id = ?", (row[0],)
        )
    )[0]
    archive = _archive(row)
    return ArchiveRecord(
        archive.id,
        archive.name,
        archive.bus_name,
        archive.pattern,
        archive.retention_days,
        archive.description,
        archive.created_at_ms,
        count,
    )


def list_archives(conn: Connection) -> list[ArchiveRecord]:
    rows = conn.execute(f"SELECT {_ARCHIVE_COLUMNS} ORDER BY a.name").fetchall()
    return [_archive(row) for row in rows]


def delete_archive(conn: Connection, name: str) -> None:
    archive = get_archive(conn, name)
    conn.execute("DELETE FROM eventyard_archived_events WHERE archive_id = ?", (archive.id,))
    conn.execute("DELETE FROM eventyard_archives WHERE id = ?", (archive.id,))
    bus = find_bus(conn, archive.bus_name)
    if bus is not None:
        _bump(conn, bus.id)


def forget_expired_archived_events(conn: Connection, now_ms: int) -> None:
    conn.execute(
        "DELETE FROM eventyard_archived_events WHERE archived_at_ms < ? - 86400000 * ("
        "SELECT retention_days FROM eventyard_archives a WHERE a.id = archive_id)"
        " AND (SELECT retention_days FROM eventyard_archives a WHERE a.id = archive_id) > 0",
        (now_ms,),
    )
