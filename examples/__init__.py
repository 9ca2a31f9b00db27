"""The chapter's examples, built only on eventyard's public API (installed as eventyard.examples).

- `checkout`: the notification system of the mini project (`eventyard demo` runs it).
- `signup`: one user created, an email and a marketing call that fail independently.
- `media_fanout`: one upload event, independent image consumers.
"""
