"""The base of every refusal a domain makes."""

from __future__ import annotations


class DomainError(Exception):
    """A refused operation: `code` for machines, `message` (Bahasa Indonesia) for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
