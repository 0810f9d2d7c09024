"""The only place where a request becomes a ``Principal``; handlers call ``permit`` and never look at roles."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from onthemove.access import policy
from onthemove.access.policy import ANONYMOUS, Forbidden, Principal
from onthemove.access.users import principal_for_token
from onthemove.api.context import StoreContext, context
from onthemove.api.errors import ApiError
from onthemove.api.session import session_for

bearer = HTTPBearer(auto_error=False, description="An API token from `onthemove users token NAME`")

_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def principal(
    request: Request,
    ctx: Annotated[StoreContext, Depends(context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """A bearer token: its user. No Authorization header: the ``otm_session`` cookie's user, else
    anonymous. Any other Authorization header, or an unknown token: 401."""
    if credentials is None:
        if request.headers.get("authorization"):
            raise ApiError(401, "the Authorization header must be 'Bearer <token>'", headers=_CHALLENGE)
        return _from_session(request)
    with ctx.store() as store:
        found = principal_for_token(store, credentials.credentials)
    if found is None:
        raise ApiError(401, "the API token is unknown, revoked, or its user is disabled", headers=_CHALLENGE)
    return found


def _from_session(request: Request) -> Principal:
    session = session_for(request)
    if session is None:
        return ANONYMOUS
    # SameSite=Strict already keeps other sites' requests cookie-less; a changing request that names
    # another origin is refused as well, in case a browser does not honour SameSite.
    origin = request.headers.get("origin")
    if request.method not in _SAFE_METHODS and origin and urlsplit(origin).netloc != _own_host(request):
        raise ApiError(403, "a cross-site request may not use the session cookie", code="forbidden")
    return session.principal()


def _own_host(request: Request) -> str:
    """Compared by host only: behind a TLS-terminating proxy the scheme seen here is not the browser's."""
    return request.headers.get("x-forwarded-host") or request.headers.get("host") or request.url.netloc


def permit(who: Principal, action: str) -> None:
    """``policy.require`` as an HTTP answer: 403 with the policy's message."""
    try:
        policy.require(who, action)
    except Forbidden as exc:
        raise ApiError(403, str(exc), code="forbidden") from exc
