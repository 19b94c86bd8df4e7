"""Loans: read (scoped to a collector's own), create/update, settle, legal holds, assignment."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field, field_validator

from api import cursor, views
from api.assignees import check_collector
from api.auth import Family, Principal
from api.deps import TEXT, Conn, admitted, require
from api.errors import AUTHENTICATED, BODY, Conflict, NotFound, problems
from api.models.loans import Loan, LoanPage, LoanWithHold
from api.policy import LocationAccess, location_access
from domain.vocabulary import LegalHold, LoanStatus
from geofence.admin_regions import admin_regions
from geofence.errors import UnknownRegion
from storage import audit, loans, tracks
from storage.database import Connection
from storage.loans import HoldExists, LoanNotFound

router = APIRouter(prefix="/api/v1/loans", tags=["loans"], responses=problems(*AUTHENTICATED))

_CREATED: dict[int | str, dict[str, Any]] = {201: {"model": Loan, "description": "Created"}}
LoanIdPath = Annotated[str, Path(min_length=1, max_length=100, pattern=TEXT)]


class LoanIn(BaseModel):
    """A loan as the lender's loan system pushes it (its vehicle is created or updated by VIN)."""

    vin: str = Field(min_length=1, max_length=64, pattern=TEXT)
    plate: str | None = Field(None, max_length=32, pattern=TEXT)
    make_model: str | None = Field(None, max_length=200, pattern=TEXT)
    borrower_name: str | None = Field(None, max_length=200, pattern=TEXT)
    status: LoanStatus = LoanStatus.ACTIVE
    days_past_due: int = Field(0, ge=0, le=100_000)
    outstanding_balance: Decimal = Field(Decimal(0), ge=0, lt=Decimal("1e12"), decimal_places=2)
    currency: str = Field("CNY", min_length=3, max_length=3, pattern=TEXT)
    home_lat: float | None = Field(None, ge=-90, le=90)
    home_lon: float | None = Field(None, ge=-180, le=180)
    bound_region: str | None = Field(
        None,
        max_length=200,
        pattern=TEXT,
        description="the province or city the car stays in: adcode (430000, 430100) or name (湖南省, 长沙市, Hunan)",
    )
    assigned_collector: str | None = Field(None, max_length=200, pattern=TEXT)
    portfolio: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        pattern=r"^[^\s\x00]([^\x00]*[^\s\x00])?$",
        description="the lender's book (product); picks the thresholds set for it in LIENWATCH_THRESHOLDS_FILE",
    )

    @field_validator("bound_region")
    @classmethod
    def _a_real_region(cls, value: str | None) -> str | None:
        """A bound region must name one province or city: an unknown one would never raise region_exit."""
        if value is None:
            return None
        try:
            admin_regions().resolve(value)
        except UnknownRegion as exc:
            raise ValueError(f"{value!r}: {exc.reason}") from exc
        return value


class HoldIn(BaseModel):
    kind: LegalHold
    until: date | None = None
    note: str | None = Field(None, max_length=2000, pattern=TEXT)


class AssignmentIn(BaseModel):
    collector: str | None = Field(None, min_length=1, max_length=200, pattern=TEXT, description="None unassigns")


def save(conn: Connection, who: Principal, loan_id: str, loan: LoanIn) -> bool:
    """Upsert one loan; True when it was new. Changing its collector takes loans.assign, as the
    assignment endpoint does (the loan system pushes loans but does not assign them), and names an
    enabled collector; a push that leaves the field out keeps the assignment."""
    values = {"loan_id": loan_id, **loan.model_dump(mode="python")} | {"status": loan.status.value}
    try:
        current = loans.collector_of(conn, loan_id)
    except LoanNotFound:
        current = None
    if "assigned_collector" not in loan.model_fields_set:
        values["assigned_collector"] = current
    elif loan.assigned_collector != current:
        admitted(who, Family.LOANS_ASSIGN)
        if loan.assigned_collector is not None:
            check_collector(conn, loan.assigned_collector)
    return loans.upsert_loan(conn, values)


def _access(conn: Connection, loan_ids: list[str]) -> dict[str, LocationAccess]:
    """Whether each loan's home point may be shown precisely (the same rule as its car's fixes)."""
    return {loan_id: location_access(v) for loan_id, v in tracks.loans_access(conn, loan_ids).items()}


def visible_loan(conn: Connection, who: Principal, loan_id: str) -> dict[str, Any]:
    """The loan as this caller may see it; 404 (audited) outside the caller's scope."""
    try:
        row = loans.get_loan(conn, loan_id)
    except LoanNotFound:
        row = None
    if row is None or not who.sees_loan(row.assigned_collector):
        audit.record_out_of_scope(
            conn, actor=who.name, read="loan_read", subject_type="loan", subject_id=loan_id, purpose=None
        )
        raise NotFound(f"loan {loan_id} does not exist or is not in your scope")
    return views.loan(row, who, _access(conn, [row.loan_id]))


@router.get("", summary="Loans in the caller's scope, by id", response_model=LoanPage)
def list_loans(
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.LOANS_READ))],
    status: LoanStatus | None = None,
    min_days_past_due: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    cursor_: Annotated[str | None, Query(alias="cursor", max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """A page of loans; collectors see only their own."""
    after = cursor.decode(cursor_, (str,))[0] if cursor_ else None
    rows = loans.list_loans(
        conn,
        collector=who.scope_collector,
        status=status.value if status else None,
        min_dpd=min_days_past_due,
        after=after,
        limit=limit,
    )
    following = cursor.encode(rows[-1].loan_id) if len(rows) == limit else None
    access = _access(conn, [r.loan_id for r in rows])
    return {"items": [views.loan(r, who, access) for r in rows], "next_cursor": following}


@router.get("/{loan_id}", summary="One loan with its open legal holds", response_model=Loan, responses=problems(404))
def get_loan(
    conn: Conn, who: Annotated[Principal, Depends(require(Family.LOANS_READ))], loan_id: LoanIdPath
) -> dict[str, Any]:
    """The loan, if in the caller's scope."""
    return visible_loan(conn, who, loan_id)


@router.put(
    "/{loan_id}",
    summary="Create or replace a loan",
    response_model=Loan,
    responses=problems(404, 409, *BODY) | _CREATED,
)
def put_loan(
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.LOANS_WRITE))],
    loan_id: LoanIdPath,
    body: LoanIn,
    response: Response,
) -> dict[str, Any]:
    """Upsert; legal holds are left as they are. 201 when created."""
    with conn.transaction():
        created = save(conn, who, loan_id, body)
    response.status_code = 201 if created else 200
    return visible_loan(conn, who, loan_id)


@router.post(
    "/{loan_id}/settle", summary="Mark a loan settled (monitoring stops)", response_model=Loan, responses=problems(404)
)
def settle(
    conn: Conn, who: Annotated[Principal, Depends(require(Family.LOANS_WRITE))], loan_id: LoanIdPath
) -> dict[str, Any]:
    """Settled loans stop being monitored."""
    try:
        loans.set_fields(conn, loan_id, status=LoanStatus.SETTLED.value, days_past_due=0)
    except LoanNotFound as exc:
        raise NotFound(f"loan {loan_id} does not exist") from exc
    return visible_loan(conn, who, loan_id)


@router.post(
    "/{loan_id}/holds",
    status_code=201,
    summary="Place a legal hold",
    response_model=LoanWithHold,
    responses=problems(404, 409, *BODY),
)
def add_hold(
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.LOANS_HOLDS))],
    loan_id: LoanIdPath,
    body: HoldIn,
) -> dict[str, Any]:
    """Alerts on a held loan stay on record but leave the actionable queue; its location and the
    recovery actions are withheld while the hold is in force. One open hold per kind (409)."""
    try:
        hold_id = loans.add_hold(conn, loan_id, body.kind.value, body.until, body.note)
    except LoanNotFound as exc:
        raise NotFound(f"loan {loan_id} does not exist") from exc
    except HoldExists as exc:
        raise Conflict(str(exc), hold_id=exc.hold_id) from exc
    return {"hold_id": hold_id} | visible_loan(conn, who, loan_id)


@router.delete(
    "/{loan_id}/holds/{hold_id}", summary="Release a legal hold", response_model=Loan, responses=problems(404)
)
def release_hold(
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.LOANS_HOLDS))],
    loan_id: LoanIdPath,
    hold_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
) -> dict[str, Any]:
    """Release one open hold."""
    if not loans.release_hold(conn, loan_id, hold_id):
        raise NotFound(f"loan {loan_id} has no open hold {hold_id}")
    return visible_loan(conn, who, loan_id)


@router.put(
    "/{loan_id}/assignment",
    summary="Assign the loan to a collector",
    response_model=Loan,
    responses=problems(404, *BODY),
)
def assign(
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.LOANS_ASSIGN))],
    loan_id: LoanIdPath,
    body: AssignmentIn,
) -> dict[str, Any]:
    """Set (or clear) the collector the loan is assigned to: an enabled collector (422 otherwise)."""
    if body.collector is not None:
        check_collector(conn, body.collector)
    try:
        loans.set_fields(conn, loan_id, assigned_collector=body.collector)
    except LoanNotFound as exc:
        raise NotFound(f"loan {loan_id} does not exist") from exc
    return visible_loan(conn, who, loan_id)
