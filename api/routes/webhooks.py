"""Webhook subscriptions: which alert kinds and severities go to which URL."""

import secrets
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import AnyHttpUrl, BaseModel, Field

from api.auth import Family, Principal
from api.deps import TEXT, Conn, require
from api.errors import AUTHENTICATED, BODY, NotFound, Unprocessable, problems
from api.models.operations import Subscribed, Subscriptions
from api.targets import TargetRefused, check
from domain.vocabulary import AlertKind, Severity
from storage import webhooks

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], responses=problems(*AUTHENTICATED))


class SubscriptionIn(BaseModel):
    url: AnyHttpUrl
    kinds: list[AlertKind] = Field(default_factory=list, max_length=20, description="Empty: every kind")
    min_severity: Severity = Severity.INFO
    secret: str | None = Field(None, min_length=16, max_length=200, pattern=TEXT, description="Generated when absent")


@router.post(
    "",
    status_code=201,
    summary="Subscribe a URL to alert events",
    response_model=Subscribed,
    responses=problems(*BODY),
)
def subscribe(
    request: Request,
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.WEBHOOKS))],
    body: SubscriptionIn,
) -> dict[str, Any]:
    """The signing secret is returned here once; internal addresses are refused (422)."""
    try:
        check(str(body.url), request.app.state.webhook_allow)
    except TargetRefused as exc:
        raise Unprocessable(str(exc), field="url") from exc
    secret = body.secret or secrets.token_urlsafe(32)
    subscription_id = webhooks.subscribe(
        conn,
        url=str(body.url),
        secret=secret,
        kinds=sorted({k.value for k in body.kinds}),
        min_severity=body.min_severity,
        actor=who.name,
    )
    return {"subscription_id": subscription_id, "secret": secret}


@router.get("", summary="Active subscriptions", response_model=Subscriptions)
def list_subscriptions(conn: Conn, who: Annotated[Principal, Depends(require(Family.WEBHOOKS))]) -> dict[str, Any]:
    """Subscriptions without their secrets."""
    return {"items": [asdict(s) for s in webhooks.subscriptions(conn)]}


@router.delete("/{subscription_id}", status_code=204, summary="Unsubscribe", responses=problems(404))
def unsubscribe(
    conn: Conn,
    who: Annotated[Principal, Depends(require(Family.WEBHOOKS))],
    subscription_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
) -> Response:
    """Deliveries already queued still go out."""
    if not webhooks.unsubscribe(conn, subscription_id):
        raise NotFound(f"subscription {subscription_id} does not exist")
    return Response(status_code=204)
