"""Signup: a user created, a welcome e-mail and a newsletter call that fail independently."""
