"""Browser sessions: ``POST /api/v1/session`` checks a password and sets an ``otm_session`` cookie.

The cookie holds only a random id. The store keeps its SHA-256 hash, the user it belongs to and when it
expires (table ``web_sessions``), so a restart or another worker process keeps everyone logged in, and a copy
of the store gives no live session. The user's role and scope are read from ``users`` on every request: a
role change takes effect at once, and disabling a user ends their sessions. The cookie is HttpOnly (scripts
cannot read it) and SameSite=Strict (other sites cannot make the browser send it). ``auth.principal`` turns
the cookie into a ``Principal`` when a request has no bearer token.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from onthemove.access import audit, policy
from onthemove.access.policy import Principal, parse_scope
from onthemove.access.users import principal_for_login, token_hash
from onthemove.api.context import StoreContext, context
from onthemove.api.errors import ApiError

COOKIE = "otm_session"
LIFETIME_S = 8 * 60 * 60
_MAX_FIELD = 200  # a user name or password longer than this is refused before any hashing


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Session:
    username: str
    role: str
    scope: tuple[str, ...] | None
    expires: dt.datetime  # UTC, as stored

    def principal(self) -> Principal:
        return Principal(self.username, self.role, self.scope)


class Sessions:
    """Sessions in the store's ``web_sessions`` table, keyed by the hash of the cookie's id."""

    def __init__(self, ctx: StoreContext, lifetime_s: float = LIFETIME_S) -> None:
        self.ctx = ctx
        self.lifetime_s = lifetime_s

    def start(self, who: Principal) -> str:
        assert who.username is not None and who.role is not None
        sid = secrets.token_urlsafe(32)
        now = _now()
        with self.ctx.store() as store, store.transaction():
            store.execute("DELETE FROM web_sessions WHERE expires_at <= $now", {"now": now})  # the expired ones
            store.execute(
                "INSERT INTO web_sessions (session_hash, username, started_at, expires_at) "
                "VALUES ($h, $u, $now, $until)",
                {"h": token_hash(sid), "u": who.username, "now": now, "until": now + self._lifetime()},
            )
        return sid

    def get(self, sid: str | None) -> Session | None:
        """The live session of an enabled user, or None."""
        if not sid or len(sid) > 200:
            return None
        with self.ctx.store() as store:
            row = store.fetch_one(
                "SELECT u.username, u.role, u.scope, s.expires_at FROM web_sessions s "
                "JOIN users u ON u.username = s.username "
                "WHERE s.session_hash = $h AND s.expires_at > $now AND NOT u.disabled",
                {"h": token_hash(sid), "now": _now()},
            )
        return Session(row[0], row[1], parse_scope(row[2]), row[3]) if row else None

    def end(self, sid: str | None) -> None:
        if sid:
            with self.ctx.store() as store:
                store.execute("DELETE FROM web_sessions WHERE session_hash = $h", {"h": token_hash(sid)})

    def _lifetime(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.lifetime_s)


def sessions_of(request: Request) -> Sessions:
    return Sessions(context(request))


def session_for(request: Request) -> Session | None:
    return sessions_of(request).get(request.cookies.get(COOKIE))


class Can(BaseModel):
    upload: bool
    rollback: bool
    reports: bool = Field(description="may read batch reports, which quote rejected cells (row level, audited)")


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
        can=Can(
            upload=policy.allowed(who, "upload"),
            rollback=policy.allowed(who, "rollback"),
            reports=policy.allowed(who, "read_records") and policy.allowed(who, "read_batches"),
        ),
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
    sessions = sessions_of(request)
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
    sessions = sessions_of(request)
    sid = request.cookies.get(COOKIE)
    found = sessions.get(sid)
    sessions.end(sid)
    if found is not None:
        with sessions.ctx.store() as store:
            audit.record(store, found.username, "logout", None, {})
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
