"""Activity's errors: `Problem` (one thing wrong with an input) and `DomainError` (the refusal
that carries them). Pure, at the bottom of activity's rules: domain.py, evidence_rules.py and
skp.py all build on it; domain.py re-exports both, so `domain.DomainError` stays the name the
HTTP and Kafka layers use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.kernel import errors


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: which field, a machine code, a message for the user."""

    field: str
    code: str
    message: str


class DomainError(errors.DomainError):
    """The kernel's refusal, with the input's problems one by one (field, code, message)."""

    def __init__(self, code: str, message: str, problems: Iterable[Problem] = ()) -> None:
        super().__init__(code, message)
        self.problems: tuple[Problem, ...] = tuple(problems)
