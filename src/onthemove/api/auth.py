"""The only place where a request becomes a ``Principal``; handlers call ``permit`` and never look at roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from onthemove.access import policy
from onthemove.access.policy import ANONYMOUS, Forbidden, Principal
from onthemove.access.users import principal_for_token
from onthemove.api.context import StoreContext, context
from onthemove.api.errors import ApiError

bearer = HTTPBearer(auto_error=False, description="An API token from `onthemove users token NAME`")

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def principal(
    request: Request,
    ctx: Annotated[StoreContext, Depends(context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """No Authorization header: anonymous. A bearer token: its user. Anything else: 401."""
    if credentials is None:
        if request.headers.get("authorization"):
            raise ApiError(401, "the Authorization header must be 'Bearer <token>'", headers=_CHALLENGE)
        return ANONYMOUS
    with ctx.store() as store:
        found = principal_for_token(store, credentials.credentials)
    if found is None:
        raise ApiError(401, "the API token is unknown, revoked, or its user is disabled", headers=_CHALLENGE)
    return found


def permit(who: Principal, action: str) -> None:
    """``policy.require`` as an HTTP answer: 403 with the policy's message."""
    try:
        policy.require(who, action)
    except Forbidden as exc:
        raise ApiError(403, str(exc), code="forbidden") from exc
