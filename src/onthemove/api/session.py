"""Browser sessions: ``POST /api/v1/session`` checks a password and sets an ``otm_session`` cookie.

The cookie holds only a random id; who it belongs to (user, role, scope) and when it expires are
kept in this process, in ``app.state.sessions``. A restart logs everyone out. The cookie is
HttpOnly (scripts cannot read it) and SameSite=Strict (other sites cannot make the browser send it).
``auth.principal`` turns the cookie into a ``Principal`` when a request has no bearer token.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from pydantic import BaseModel, Field

from onthemove.access import audit, policy
from onthemove.access.policy import Principal
from onthemove.access.users import principal_for_login
from onthemove.api.context import StoreContext, context
from onthemove.api.errors import ApiError

COOKIE = "otm_session"
LIFETIME_S = 8 * 60 * 60
_MAX_FIELD = 200  # a user name or password longer than this is refused before any hashing


@dataclass(frozen=True)
class Session:
    username: str
    role: str
    scope: tuple[str, ...] | None
    expires: float  # time.time() seconds

    def principal(self) -> Principal:
        return Principal(self.username, self.role, self.scope)


class Sessions:
    """Session id -> ``Session``, shared by the worker threads."""

    def __init__(self, lifetime_s: float = LIFETIME_S) -> None:
        self.lifetime_s = lifetime_s
        self._lock = threading.Lock()
        self._by_id: dict[str, Session] = {}

    def start(self, who: Principal) -> str:
        assert who.username is not None and who.role is not None
        sid = secrets.token_urlsafe(32)
        now = time.time()
        with self._lock:
            self._by_id = {k: s for k, s in self._by_id.items() if s.expires > now}  # drop the expired ones
            self._by_id[sid] = Session(who.username, who.role, who.scope, now + self.lifetime_s)
        return sid

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            found = self._by_id.get(sid)
            if found is not None and found.expires <= time.time():
                del self._by_id[sid]
                return None
            return found

    def end(self, sid: str | None) -> None:
        if sid:
            with self._lock:
                self._by_id.pop(sid, None)


_STATE_LOCK = threading.Lock()


def sessions_of(app: FastAPI) -> Sessions:
    with _STATE_LOCK:
        found: Sessions | None = getattr(app.state, "sessions", None)
        if found is None:
            found = Sessions()
            app.state.sessions = found
        return found


def session_for(request: Request) -> Session | None:
    return sessions_of(request.app).get(request.cookies.get(COOKIE))


class Can(BaseModel):
    upload: bool
    rollback: bool


class SessionOut(BaseModel):
    username: str
    role: str
    scope: list[str] | None = None
    can: Can = Field(description="what the web pages may offer this user; the server checks again on each request")


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=_MAX_FIELD)
    password: str = Field(min_length=1, max_length=_MAX_FIELD)


def _out(username: str, role: str, scope: tuple[str, ...] | None) -> SessionOut:
    who = Principal(username, role, scope)
    return SessionOut(
        username=username,
        role=role,
        scope=list(scope) if scope else None,
        can=Can(upload=policy.allowed(who, "upload"), rollback=policy.allowed(who, "rollback")),
    )


async def _credentials(request: Request) -> tuple[str, str]:
    """``username`` and ``password`` from a JSON body or a form."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data: dict[str, Any]
    if kind == "application/json":
        try:
            loaded = json.loads(await request.body() or b"null")
        except ValueError as exc:
            raise ApiError(400, "the body is not valid JSON") from exc
        data = loaded if isinstance(loaded, dict) else {}
    elif kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        data = {k: v for k, v in form.items() if isinstance(v, str)}
    else:
        raise ApiError(415, "send username and password as JSON or as a form", code="unsupported_media_type")
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise ApiError(422, "username and password are both needed", code="invalid_request")
    if len(username) > _MAX_FIELD or len(password) > _MAX_FIELD:
        raise ApiError(422, f"username and password are at most {_MAX_FIELD} characters", code="invalid_request")
    return username, password


router = APIRouter(prefix="/api/v1", tags=["session"])
Ctx = Annotated[StoreContext, Depends(context)]

_LOGIN_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": Login.model_json_schema()},
        "application/x-www-form-urlencoded": {"schema": Login.model_json_schema()},
    },
}


@router.post(
    "/session",
    response_model=SessionOut,
    openapi_extra={"requestBody": _LOGIN_BODY},
    responses={401: {"description": "Wrong user name or password"}, 422: {"description": "A field is missing"}},
)
async def login(request: Request, response: Response, ctx: Ctx) -> SessionOut:
    """Log in with a password; sets the ``otm_session`` cookie (HttpOnly, SameSite=Strict, 8 hours)."""
    username, password = await _credentials(request)
    with ctx.store() as store:
        who = principal_for_login(store, username, password)
        audit.record(store, username, "login" if who is not None else "login.failed", None, {})
    if who is None or who.username is None or who.role is None:
        raise ApiError(401, "wrong user name or password, or the user is disabled")
    sessions = sessions_of(request.app)
    sessions.end(request.cookies.get(COOKIE))  # a fresh id on every login: no session fixation
    sid = sessions.start(who)
    response.set_cookie(
        COOKIE,
        sid,
        max_age=int(sessions.lifetime_s),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.headers["Cache-Control"] = "no-store"
    return _out(who.username, who.role, who.scope)


@router.get("/session", response_model=SessionOut, responses={401: {"description": "Not logged in"}})
def current(request: Request, response: Response) -> SessionOut:
    """Who the ``otm_session`` cookie belongs to, and what they may do; 401 when not logged in."""
    found = session_for(request)
    if found is None:
        raise ApiError(401, "not logged in")
    response.headers["Cache-Control"] = "no-store"
    return _out(found.username, found.role, found.scope)


@router.delete("/session", status_code=204, response_class=Response)
def logout(request: Request) -> Response:
    """End the session (if any) and clear the cookie."""
    sessions_of(request.app).end(request.cookies.get(COOKIE))
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
