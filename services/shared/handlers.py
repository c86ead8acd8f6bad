"""A service's subscribers, keyed by the event class each one takes.

A handler says what it handles by its annotation, `def on_scan(uow, event:
FingerprintRecorded)`, or a union, `event: ReportApproved | ReportRejected`: it is registered
for each class, and the consumer dispatches by `type(event)` (parse_event builds the
concrete class), so no handler needs to check the type it is given. The topics a service
reads are those of the events it handles (each event class's TOPIC).

What a handler needs besides the unit of work (a cache, the calendar book) is given once, at
composition (the service's app.py), through a closure or a small class.
"""

from __future__ import annotations

import inspect
import types
from typing import Any, TypeVar, Union, get_args, get_origin

from contracts.events import Event
from services.shared.uow import Handler

H = TypeVar("H", bound=Handler)


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def handled_events(fn: Handler) -> tuple[type[Event], ...]:
    """The event classes named by the annotation of `fn`'s event parameter, the second of
    `fn(uow, event)` (a partial's keyword arguments or a method's self are not counted)."""
    params = inspect.signature(fn, eval_str=True).parameters.values()
    positional = [p for p in params if p.kind in _POSITIONAL]
    if len(positional) < 2 or positional[1].annotation is inspect.Parameter.empty:
        raise TypeError(f"{fn!r}: annotate the event parameter with the event class it takes")
    hint = positional[1].annotation
    classes = get_args(hint) if get_origin(hint) in (Union, types.UnionType) else (hint,)
    for cls in classes:
        if not (isinstance(cls, type) and issubclass(cls, Event) and hasattr(cls, "TOPIC")):
            raise TypeError(f"{fn!r}: {cls!r} is not an event class with a TOPIC")
    return classes


class Handlers(dict[type[Event], Handler]):
    """`Handlers(on_scan, on_decision, ...)`: each handler under the classes of its annotation.
    A later handler of a class replaces an earlier one (a service's own employee handler
    replaces the shared projection's it was given before)."""

    def __init__(self, *fns: Handler) -> None:
        super().__init__()
        for fn in fns:
            self.register(fn)

    def register(self, fn: H) -> H:
        for cls in handled_events(fn):
            self[cls] = fn
        return fn

    @property
    def topics(self) -> list[str]:
        """The topics of the handled events, in a stable order."""
        return sorted({cls.TOPIC.value for cls in self})

    def __repr__(self) -> str:
        names = ", ".join(f"{cls.__name__}: {_name(fn)}" for cls, fn in self.items())
        return f"Handlers({names})"


def _name(fn: Any) -> str:
    return getattr(fn, "__qualname__", repr(fn))
