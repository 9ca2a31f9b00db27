"""Amazon Resource Names for eventyard's resources (a stable fake account and region)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

DEFAULT_REGION: Final = "us-east-1"
DEFAULT_ACCOUNT_ID: Final = "000000000000"


@dataclass(frozen=True, slots=True)
class Identity:
    """Where eventyard pretends to run: used in ARNs, URLs and SenderId."""

    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID

    def queue_arn(self, name: str) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account_id}:{name}"

    def topic_arn(self, name: str) -> str:
        return f"arn:aws:sns:{self.region}:{self.account_id}:{name}"

    def subscription_arn(self, topic: str, subscription_id: str) -> str:
        return f"{self.topic_arn(topic)}:{subscription_id}"

    def bus_arn(self, name: str) -> str:
        return f"arn:aws:events:{self.region}:{self.account_id}:event-bus/{name}"

    def rule_arn(self, bus: str, rule: str) -> str:
        path = rule if bus == "default" else f"{bus}/{rule}"
        return f"arn:aws:events:{self.region}:{self.account_id}:rule/{path}"
