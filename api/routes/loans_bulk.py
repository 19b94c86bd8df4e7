"""Bulk upsert of loans from the lender's loan system, as JSON or CSV, all or nothing."""

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from api.auth import Family, Principal
from api.deps import TEXT, Conn, require
from api.errors import AUTHENTICATED, BODY, Unprocessable, problems
from api.models.loans import BulkResult
from api.routes.loans import LoanIn, save

router = APIRouter(prefix="/api/v1/loans", tags=["loans"], responses=problems(*AUTHENTICATED, 409, *BODY))

MAX_ROWS = 10_000
MAX_CSV_BYTES = 10 * 1024 * 1024


@router.api_route("/bulk", methods=["GET", "PUT", "DELETE", "PATCH"], include_in_schema=False)
@router.api_route("/bulk.csv", methods=["GET", "PUT", "DELETE", "PATCH"], include_in_schema=False)
def not_a_loan() -> None:
    """405: /loans/bulk and /loans/bulk.csv take POST only. Without this, GET or PUT there reached
    /loans/{loan_id} as the loan "bulk", which the OpenAPI document (concrete paths first) does
    not describe."""
    raise HTTPException(405, "Method Not Allowed")


class BulkLoan(LoanIn):
    loan_id: str = Field(min_length=1, max_length=100, pattern=TEXT)


class BulkIn(BaseModel):
    loans: list[BulkLoan] = Field(max_length=MAX_ROWS)


def _store(conn: Conn, who: Principal, loans: list[BulkLoan]) -> dict[str, int]:
    created = 0
    with conn.transaction():
        for loan in loans:
            created += save(conn, who, loan.loan_id, loan)
    return {"received": len(loans), "created": created, "updated": len(loans) - created}


@router.post("/bulk", summary="Upsert many loans from JSON (all or nothing)", response_model=BulkResult)
def bulk_json(
    conn: Conn, who: Annotated[Principal, Depends(require(Family.LOANS_WRITE))], body: BulkIn
) -> dict[str, int]:
    """Every loan is stored, or none when one is refused."""
    return _store(conn, who, body.loans)


_CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "example": "loan_id,vin,plate,borrower_name,days_past_due,assigned_collector\n"
                "L1,LVIN0000000000001,京A12345,Zhang San,35,ana\n",
            }
        },
    }
}


def parse_csv(text: str) -> list[BulkLoan]:
    """Loans from CSV with a header row named like the JSON fields; errors name row and field."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"loan_id", "vin"} <= set(reader.fieldnames):
        raise Unprocessable("body: the CSV header must name at least loan_id and vin", field="body")
    loans: list[BulkLoan] = []
    errors: list[dict[str, str]] = []
    for number, record in enumerate(reader, start=2):
        if len(loans) + len(errors) >= MAX_ROWS:
            raise Unprocessable(f"body: at most {MAX_ROWS} rows", field="body")
        values = {k: v for k, v in record.items() if k is not None and v not in ("", None)}
        try:
            loans.append(BulkLoan.model_validate(values))
        except ValidationError as exc:
            for e in exc.errors():
                field = ".".join(str(x) for x in e["loc"])
                errors.append({"field": f"row {number}.{field}", "reason": e["msg"]})
    if errors:
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:20])
        raise Unprocessable(detail, errors=errors)
    return loans


@router.post(
    "/bulk.csv",
    summary="Upsert many loans from CSV (all or nothing)",
    response_model=BulkResult,
    openapi_extra=_CSV_BODY,
)
async def bulk_csv(
    request: Request, conn: Conn, who: Annotated[Principal, Depends(require(Family.LOANS_WRITE))]
) -> dict[str, int]:
    """A header row, then one loan a row; empty cells are absent fields."""
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise Unprocessable(f"body: at most {MAX_CSV_BYTES} bytes", field="body")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unprocessable("body: CSV must be UTF-8", field="body") from exc
    try:
        loans = parse_csv(text)
    except csv.Error as exc:
        raise Unprocessable(f"body: not readable as CSV: {exc}", field="body") from exc
    return await run_in_threadpool(_store, conn, who, loans)
