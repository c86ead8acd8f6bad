"""Handlers registered by the event class of their annotation (services/shared/handlers.py),
the topics each service reads derived from those classes, and the services' handlers
relying on that dispatch instead of checking the type they are given."""

from __future__ import annotations

import ast
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from contracts import Topic
from contracts.events import (
    ActivityReported,
    EmployeeDeactivated,
    EmployeeUpserted,
    Event,
    ReportApproved,
    ReportRejected,
    WorkCalendarChanged,
)
from services.activity.app import build_kit as activity_kit
from services.approval.app import build_kit as approval_kit
from services.attendance.app import build_kit as attendance_kit
from services.notifier.app import build_kit as notifier_kit
from services.notifier.cache import DayCache
from services.shared.handlers import Handlers, handled_events
from services.shared.kit import ServiceKit
from services.shared.settings import Settings
from services.shared.uow import UnitOfWork
from services.siasn.app import build_kit as siasn_kit
from services.tpp.app import build_kit as tpp_kit

SERVICES = Path(__file__).resolve().parents[2] / "services"


def on_reported(uow: UnitOfWork, event: ActivityReported) -> None:
    pass


def on_decision(uow: UnitOfWork, event: ReportApproved | ReportRejected) -> None:
    pass


async def on_employee(uow: UnitOfWork, event: EmployeeUpserted | EmployeeDeactivated) -> None:
    pass


def test_a_handler_is_registered_under_each_class_of_its_annotation() -> None:
    handlers = Handlers(on_reported, on_decision, on_employee)
    assert handlers == {
        ActivityReported: on_reported,
        ReportApproved: on_decision,
        ReportRejected: on_decision,
        EmployeeUpserted: on_employee,
        EmployeeDeactivated: on_employee,
    }
    assert handlers.topics == sorted([Topic.ACTIVITY, Topic.APPROVAL, Topic.EMPLOYEES])


def test_a_later_handler_of_a_class_replaces_the_earlier() -> None:
    def on_upserted(uow: UnitOfWork, event: EmployeeUpserted) -> None:
        pass

    handlers = Handlers(on_employee, on_upserted)
    assert handlers[EmployeeUpserted] is on_upserted
    assert handlers[EmployeeDeactivated] is on_employee


def with_cache(uow: UnitOfWork, event: WorkCalendarChanged, *, cache: dict[str, int]) -> None:
    pass


def test_closures_partials_and_callable_objects_are_read_too() -> None:
    class OnCalendar:
        def __call__(self, uow: UnitOfWork, event: WorkCalendarChanged) -> None:
            pass

    def made() -> Any:
        def on_changed(uow: UnitOfWork, event: WorkCalendarChanged) -> None:
            pass

        return on_changed

    assert handled_events(OnCalendar()) == (WorkCalendarChanged,)
    assert handled_events(made()) == (WorkCalendarChanged,)
    assert handled_events(partial(with_cache, cache={})) == (WorkCalendarChanged,)


def unannotated(uow, event):  # type: ignore[no-untyped-def]
    pass


def any_event(uow: UnitOfWork, event: Event) -> None:
    pass  # the envelope has no TOPIC: which topic would it be read from?


def not_an_event(uow: UnitOfWork, event: str) -> None:
    pass


@pytest.mark.parametrize("handler", [unannotated, any_event, not_an_event])
def test_a_handler_without_an_event_class_is_refused(handler: Any) -> None:
    with pytest.raises(TypeError, match="event"):
        Handlers(handler)


def kits(tmp_path: Path) -> dict[str, ServiceKit]:
    settings = Settings(
        kafka_bootstrap="127.0.0.1:1",  # never dialled
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path}/{{service}}.db",
    )
    return {
        "activity": activity_kit(settings),
        "approval": approval_kit(settings),
        "attendance": attendance_kit(settings),
        "notifier": notifier_kit(settings, cache=DayCache("redis://127.0.0.1:1/0", prefix="t:")),
        "siasn": siasn_kit(settings),
        "tpp": tpp_kit(settings),
    }


def test_each_service_reads_the_topics_it_read_when_they_were_listed(tmp_path: Path) -> None:
    # the TOPICS lists of the services' handlers.py before the topics were derived
    listed = {
        "activity": {Topic.ATTENDANCE, Topic.APPROVAL, Topic.EMPLOYEES, Topic.CALENDAR},
        "approval": {Topic.ACTIVITY, Topic.EMPLOYEES, Topic.TPP, Topic.CALENDAR},
        "attendance": {Topic.EMPLOYEES},
        "notifier": {
            Topic.ATTENDANCE,
            Topic.ACTIVITY,
            Topic.APPROVAL,
            Topic.TPP,
            Topic.EMPLOYEES,
            Topic.CALENDAR,
        },
        "siasn": {Topic.APPROVAL, Topic.TPP},  # confirmed results, period close
        # + the calendar: the month's working days divide a part-month pagu (issue 14)
        "tpp": {Topic.ATTENDANCE, Topic.APPROVAL, Topic.EMPLOYEES, Topic.CALENDAR},
    }
    for name, kit in kits(tmp_path).items():
        assert set(kit.topics) == {kit.settings.topic(t) for t in listed[name]}, name


def test_handlers_do_not_check_the_type_of_their_event() -> None:
    """The annotation drives dispatch: a handler never begins with `assert isinstance`."""
    found = []
    for path in sorted(SERVICES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = node.body[1:] if ast.get_docstring(node) else node.body
                stmt = body[0] if body else None
                if (
                    isinstance(stmt, ast.Assert)
                    and isinstance(stmt.test, ast.Call)
                    and ast.unparse(stmt.test.func) == "isinstance"
                ):
                    found.append(f"{path.relative_to(SERVICES)}:{stmt.lineno} {node.name}")
    assert found == []
