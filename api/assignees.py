"""Who may be made responsible for a loan or an alert: an existing, enabled user allowed to work it."""

from api.auth import Family, Principal, Role
from api.errors import Unprocessable
from storage import users
from storage.database import Connection


def check_collector(conn: Connection, name: str) -> None:
    """A loan is assigned only to an enabled collector; 422 naming the field otherwise."""
    user = users.get_user(conn, name)
    if user is None or user.role != Role.COLLECTOR.value:
        raise Unprocessable(f"assigned_collector: {name!r} is not an enabled collector", field="assigned_collector")


def check_alert_assignee(conn: Connection, name: str, loan_collector: str | None) -> None:
    """An alert is assigned only to an enabled user who works alerts and sees its loan (a collector:
    only an alert of their own loans); 422 naming the field otherwise."""
    user = users.get_user(conn, name)
    if user is None:
        raise Unprocessable(f"assignee: {name!r} is not an enabled user", field="assignee")
    assignee = Principal(user.name, Role(user.role))
    if not assignee.may(Family.ALERTS_WORK) or not assignee.sees_loan(loan_collector):
        raise Unprocessable(f"assignee: {name!r} may not work this alert's loan", field="assignee")
