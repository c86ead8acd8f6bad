"""The portal's subscribers: the employee master makes the accounts (one per ASN, by NIP)
and keeps the kit's employee projection, from which atasan is derived."""

from __future__ import annotations

from contracts.events import EmployeeDeactivated, EmployeeUpserted
from services.portal import store
from services.portal.models import Account
from services.shared.employees import apply_employee_event
from services.shared.handlers import Handlers
from services.shared.uow import UnitOfWork


def on_employee(uow: UnitOfWork, event: EmployeeUpserted | EmployeeDeactivated) -> None:
    apply_employee_event(uow, event)
    account = store.account(uow, event.nip)
    if isinstance(event, EmployeeUpserted):
        if account is None:
            account = Account(
                nip=event.nip, created_at=event.occurred_at, updated_at=event.occurred_at
            )
            store.audit(uow, event.occurred_at, "account_created", actor_nip=None, target=event.nip)
        account.nama, account.opd, account.active = event.nama, event.opd, True
        account.updated_at = event.occurred_at
        uow.session.add(account)
    elif isinstance(event, EmployeeDeactivated) and account is not None:
        # no longer an ASN of the city: the account stops working at once
        account.active, account.updated_at = False, event.occurred_at
        uow.session.add(account)
        store.end_sessions(uow, event.nip, event.occurred_at)
        store.audit(uow, event.occurred_at, "account_deactivated", actor_nip=None, target=event.nip)


def handlers() -> Handlers:
    return Handlers(on_employee)
