"""The account, region and addresses the endpoint answers with, and one call's context."""

from __future__ import annotations

import functools
import os
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from eventyard.aws.errors import AwsError
from eventyard.broker.client import Client
from eventyard.errors import EventyardError, StoreError

DEFAULT_ACCOUNT: Final = "000000000000"
DEFAULT_REGION: Final = "us-east-1"
DEFAULT_PORT: Final = 4566
_ACCOUNT: Final = re.compile(r"\d{12}")
_REGION: Final = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


@dataclass(frozen=True)
class AwsSettings:
    """What every answer is stamped with. Any credentials are accepted unless
    ``require_auth``; then requests must be SigV4-signed with one of ``credentials``
    (access key id → secret access key)."""

    account: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    require_auth: bool = False
    credentials: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _ACCOUNT.fullmatch(self.account):
            raise ValueError(f"account must be 12 digits, got {self.account!r}")
        if not _REGION.fullmatch(self.region):
            raise ValueError(f"region must look like us-east-1, got {self.region!r}")
        if self.require_auth and not self.credentials:
            raise ValueError("require_auth needs at least one access key and its secret")

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"


CREDENTIALS_ENV: Final = "EVENTYARD_AWS_CREDENTIALS"


def credentials_from_env() -> dict[str, str]:
    """``$EVENTYARD_AWS_CREDENTIALS``: ``ACCESS_KEY:SECRET`` pairs separated by commas."""
    text = os.environ.get(CREDENTIALS_ENV, "").strip()
    found: dict[str, str] = {}
    for number, pair in enumerate(filter(None, (p.strip() for p in text.split(","))), start=1):
        key, sep, secret = pair.partition(":")
        if not sep or not key or not secret:
            raise ValueError(
                f"{CREDENTIALS_ENV}: pair {number} is not ACCESS_KEY:SECRET (both non-empty)"
            )
        found[key] = secret
    return found


@dataclass
class Call:
    """One request to one operation: its parameters (shaped by the service model)."""

    client: Client
    settings: AwsSettings
    service: str
    operation: str
    params: dict[str, Any]
    #: ``http://host:port`` as the caller addressed us (queue URLs are built on it).
    base_url: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def require(self, name: str) -> Any:
        """A required parameter, or `MissingParameter` naming it."""
        value = self.params.get(name)
        if value is None:
            raise AwsError("MissingParameter", f"the request must contain the parameter {name}")
        return value


Handler = Callable[[Call], dict[str, Any]]
#: (service, operation) → handler; filled by `operations`' decorator in each service module.
HANDLERS: dict[tuple[str, str], Handler] = {}


def operation(
    service: str,
    name: str,
    translate: Callable[[Exception], AwsError | None] | None = None,
) -> Callable[[Handler], Handler]:
    """Register a handler for one operation of one service.

    ``translate`` turns the errors the handler raises (eventyard's, or `AwsError`s with
    another service's codes) into the service's own codes; None keeps an error as it
    is. Store failures are never translated: the endpoint answers them (retryable or
    internal).
    """

    def register(handler: Handler) -> Handler:
        if translate is None:
            HANDLERS[(service, name)] = handler
            return handler

        @functools.wraps(handler)
        def translated(call: Call) -> dict[str, Any]:
            try:
                return handler(call)
            except StoreError:
                raise
            except (EventyardError, AwsError) as exc:
                replacement = translate(exc)
                if replacement is None:
                    raise
                raise replacement from None

        HANDLERS[(service, name)] = translated
        return handler

    return register
