"""A local SMTP server that keeps every mail it receives as a ``.eml`` file in a folder.

The signup example's welcome e-mails go to it, so they are real SMTP
conversations with nothing leaving the machine::

    python -m eventyard.examples.signup.smtp_sink --folder mails --port 8025

or, from Python (the tests)::

    with SmtpSink("mails", port=8025) as sink:
        ...
        sink.mails()        # the parsed messages, oldest first

Each file is written to a temporary name and renamed, so a reader never sees
half a mail. Not a mail server: no relaying, no authentication, no TLS.
"""

from __future__ import annotations

import argparse
import contextlib
import threading
import time
import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["SmtpSink", "main", "read_mails"]

from .local_service import LocalService


class _SaveToFolder:
    """The aiosmtpd handler: one ``.eml`` file per accepted message."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(content)
        partial.rename(self.folder / f"{name}.eml")
        return "250 Message accepted for delivery"


def read_mails(folder: Path | str) -> list[EmailMessage]:
    """The mails saved in ``folder``, oldest first."""
    parser = BytesParser(policy=policy.default)
    mails: list[EmailMessage] = []
    for path in sorted(Path(folder).glob("*.eml")):
        with path.open("rb") as file:
            message = parser.parse(file)
        assert isinstance(message, EmailMessage)
        mails.append(message)
    return mails


class SmtpSink(LocalService):
    """The SMTP sink on ``host:port``, served by a background thread between start and stop."""

    def __init__(self, folder: Path | str, *, host: str = "127.0.0.1", port: int = 8025) -> None:
        self.folder = Path(folder)
        self.host = host
        self.port = port
        self._controller: Controller | None = None

    def start(self) -> SmtpSink:
        self.folder.mkdir(parents=True, exist_ok=True)
        controller = Controller(_SaveToFolder(self.folder), hostname=self.host, port=self.port)
        controller.start()  # returns once the server answers
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def mails(self) -> list[EmailMessage]:
        return read_mails(self.folder)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Save every mail received over SMTP as .eml.")
    parser.add_argument("--folder", default="mails", help="where the .eml files go")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args(argv)
    with SmtpSink(args.folder, host=args.host, port=args.port):
        print(
            f"SMTP sink on {args.host}:{args.port}, saving to {args.folder}/; Ctrl-C to stop",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
