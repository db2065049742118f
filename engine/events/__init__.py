"""Immutable event and command types of the contract and the internal log. No I/O here."""
