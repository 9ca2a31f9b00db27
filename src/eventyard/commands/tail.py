"""``eventyard tail QUEUE``: print messages as they arrive, without receiving them.

Tail peeks (`Queue.peek`: no receive count, no visibility change, no lock),
so consumers are not disturbed, and it never sleep-polls: it takes a change
token from the store's watch (`Store.watch`, the same wake-up long-polling
receivers use: in-process notify plus inotify on the database's ``-wake``
file), looks, and waits for the next change.

Which messages are new: tail keeps a *window*, the queue from some page
token to its end, and the ids it saw there. At the start the window is
walked to the queue's last page (what is already there is not printed);
on each change, what is in the window and was not seen is printed, and the
window moves past pages that filled up. A queue shorter than one page is
looked at whole, so messages arriving into it out of send order (a
dead-letter move or a redrive keeps the message's place in send order) are
printed too; in a longer queue, only messages after the window are.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from typing import Annotated, Final, Optional

import typer

import eventyard
from eventyard.commands._common import (
    DbOption,
    body_text,
    errors,
    message_json,
    print_json_line,
    queue_handle,
    session,
    when,
)

#: Messages per peek; also the size of a queue tail looks at whole.
_PAGE: Final = 1_000
#: The longest the main thread sleeps in one wait (it looks at the queue only on a change):
#: a bound on how late Ctrl-C is noticed should the signal reach another thread.
_WAKE_AT_LEAST_EVERY: Final = 1.0


class _Follower:
    """Finds the messages of a queue that were not there at the last look."""

    def __init__(self, queue: eventyard.Queue) -> None:
        self._queue = queue
        self._window: str | None = None  # page token the window starts after; None: the start
        self._seen: set[str] = set()

    def new_messages(self) -> list[eventyard.PeekedMessage]:
        fresh: list[eventyard.PeekedMessage] = []
        in_window: set[str] = set()
        token = self._window
        while True:
            page = self._queue.peek(_PAGE, token)
            for message in page.messages:
                in_window.add(message.message_id)
                if message.message_id not in self._seen:
                    fresh.append(message)
            if page.next_page_token is None:
                break
            # A full page with more after it: the window moves past it.
            token = self._window = page.next_page_token
            in_window = set()
        self._seen = in_window
        return fresh


def tail(
    queue: Annotated[str, typer.Argument(help="The queue to watch.")],
    db: DbOption = None,
    limit: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(min=1, help="Stop after printing this many messages."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print each message as one JSON line (for scripts).")
    ] = False,
) -> None:
    """Print new messages of a queue as they arrive, without receiving them, until Ctrl-C."""
    signal.signal(signal.SIGTERM, _interrupt)  # ends like Ctrl-C: exit 0
    try:
        with session(db) as client:
            handle = queue_handle(client, queue)
            follower = _Follower(handle)
            printed = 0
            with contextlib.ExitStack() as stack:
                with _signals_to_main_thread_only():
                    watch = stack.enter_context(client.store.watch())
                token = watch.token()  # before the first look: no change is missed
                follower.new_messages()  # what is there already
                errors.print(f"tailing {handle.name} on {client.url}; Ctrl-C to stop")
                while limit is None or printed < limit:
                    if not watch.wait(token, _WAKE_AT_LEAST_EVERY):
                        continue  # no change: nothing to look at
                    token = watch.token()
                    for message in follower.new_messages():
                        _show(handle.name, message, as_json)
                        printed += 1
                        if limit is not None and printed >= limit:
                            break
    except KeyboardInterrupt:
        return
    except BrokenPipeError:
        # The reader went away (| head): stop quietly; stdout cannot be flushed any more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _signals_to_main_thread_only() -> Iterator[None]:
    """Threads started inside (the store's inotify watcher) block SIGINT and SIGTERM, so
    Ctrl-C reaches the main thread and interrupts its wait at once."""
    signals = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _show(queue: str, message: eventyard.PeekedMessage, as_json: bool) -> None:
    if as_json:
        print_json_line({"queue": queue, **message_json(message)})
        return
    details = [message.state.replace("_", " ")]
    if message.receive_count:
        details.append(f"received {message.receive_count}x")
    if message.dead_letter_source_queue:
        details.append(f"from {message.dead_letter_source_queue}")
    if message.group_id:
        details.append(f"group {message.group_id}")
    attributes = (
        " {" + ", ".join(f"{k}={v}" for k, v in message.attributes.items()) + "}"
        if message.attributes
        else ""
    )
    sys.stdout.write(
        f"{when(message.sent_timestamp)}  {message.message_id}  ({', '.join(details)})"
        f"{attributes}  {' '.join(body_text(message.body).splitlines())}\n"
    )
    sys.stdout.flush()
