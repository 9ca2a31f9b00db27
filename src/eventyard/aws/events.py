"""EventBridge operations over AWS JSON 1.1: handlers on the Python API.

Importing this module registers every EventBridge handler (the server imports
it); the handlers live in one module per kind of resource:

* `events_buses`: CreateEventBus, DescribeEventBus, ListEventBuses, DeleteEventBus;
* `events_rules`: PutRule, DescribeRule, ListRules, DeleteRule, EnableRule, DisableRule;
* `events_targets`: PutTargets, RemoveTargets, ListTargetsByRule, ListRuleNamesByTarget;
* `events_put`: PutEvents, TestEventPattern;
* `events_archives`: CreateArchive, DescribeArchive, ListArchives, DeleteArchive;
* `events_replays`: StartReplay, DescribeReplay, ListReplays, CancelReplay.

What they share (error codes in the model's names, ARNs, pages) is in
`events_common`.
"""

from eventyard.aws import (  # noqa: F401  (each registers its handlers)
    events_archives,
    events_buses,
    events_put,
    events_replays,
    events_rules,
    events_targets,
)
