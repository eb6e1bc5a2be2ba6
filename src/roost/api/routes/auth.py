"""Accounts, logins and API keys (API.md §3)."""

from fastapi import APIRouter, Request, Response, status

from roost.api.deps import ACCESS_COOKIE, AnyCaller, Caller, Services, client_address
from roost.api.openapi import errors
from roost.api.schemas.auth import (
    ApiKeyIn,
    ApiKeyOut,
    ApiKeysOut,
    ChangePasswordIn,
    LoginIn,
    MeIn,
    NewApiKeyOut,
    RefreshIn,
    RegisterIn,
    TokensOut,
    UserOut,
)
from roost.api.schemas.common import SuccessOut
from roost.errors import ApiKeyNotFound, InvalidRequest
from roost.services.auth import TokenPair

router = APIRouter(prefix="/auth", tags=["auth"])
me_router = APIRouter(tags=["auth"])
dev_router = APIRouter(prefix="/auth", tags=["auth"])

REFRESH_COOKIE = "roost_refresh"


def unstored(response: Response) -> None:
    """The answer holds a secret: no cache may keep it, nor may an idempotent retry
    (whose layer keeps no answer marked so, and tells the retry why)."""
    response.headers["Cache-Control"] = "no-store"


def with_cookies(request: Request, response: Response, pair: TokenPair) -> TokensOut:
    """Browsers get the tokens as HttpOnly cookies too; scripts use the body."""
    unstored(response)
    secure = request.url.scheme == "https"
    response.set_cookie(
        ACCESS_COOKIE,
        pair.access_token,
        max_age=pair.expires_in,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        pair.refresh_token,
        max_age=pair.refresh_expires_in,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/api/auth",
    )
    return TokensOut(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
        user=UserOut.of(pair.user),
    )


@router.post(
    "/register", status_code=status.HTTP_201_CREATED, response_model=UserOut, responses=errors(403)
)
async def register(request: Request, services: Services, body: RegisterIn) -> UserOut:
    """The first user becomes admin; after that ``ROOST_REGISTRATION`` decides
    (``invite`` needs ``invite_code``)."""
    user = await services.auth.register(
        body.email, body.password, body.name, body.invite_code, client_address(request)
    )
    return UserOut.of(user)


@router.post("/login", response_model=TokensOut, responses=errors(401, 403))
async def login(
    request: Request, response: Response, services: Services, body: LoginIn
) -> TokensOut:
    pair = await services.auth.login(
        body.email,
        body.password,
        client_address(request),
        request.headers.get("user-agent", ""),
    )
    return with_cookies(request, response, pair)


@router.post("/refresh", response_model=TokensOut, responses=errors(401, 403))
async def refresh(
    request: Request, response: Response, services: Services, body: RefreshIn | None = None
) -> TokensOut:
    """Trade a refresh token (body or cookie) for a new pair; each works once."""
    token = (body.refresh_token if body else None) or request.cookies.get(REFRESH_COOKIE)
    if not token:
        raise InvalidRequest("refresh_token is required", details={"field": "refresh_token"})
    return with_cookies(request, response, await services.auth.refresh(token))


@router.post("/logout", response_model=SuccessOut, responses=errors(401))
async def logout(
    request: Request,
    response: Response,
    caller: AnyCaller,
    services: Services,
    body: RefreshIn | None = None,
) -> SuccessOut:
    """End this login: its access and refresh tokens stop working."""
    token = (body.refresh_token if body else None) or request.cookies.get(REFRESH_COOKIE)
    if not caller.anonymous or token:
        await services.auth.logout(caller, token)
    response.delete_cookie(ACCESS_COOKIE, path="/")
    response.delete_cookie(REFRESH_COOKIE, path="/api/auth")
    return SuccessOut()


@router.post("/change-password", response_model=TokensOut)
async def change_password(
    request: Request,
    response: Response,
    caller: Caller,
    services: Services,
    body: ChangePasswordIn,
) -> TokensOut:
    """Every other login of the account ends; this one continues with new tokens."""
    pair = await services.auth.change_password(
        caller, body.current_password, body.new_password, request.headers.get("user-agent", "")
    )
    return with_cookies(request, response, pair)


@dev_router.post("/dev-login", response_model=TokensOut)
async def dev_login(request: Request, response: Response, services: Services) -> TokensOut:
    """Dev mode only (``ROOST_DEV_MODE``): log in as a developer admin."""
    pair = await services.auth.dev_login(request.headers.get("user-agent", ""))
    return with_cookies(request, response, pair)


@router.post(
    "/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=NewApiKeyOut,
    responses=errors(codes={403: "a scope the caller does not hold (`details.not_held`)"}),
)
async def create_api_key(
    response: Response, caller: Caller, services: Services, body: ApiKeyIn
) -> NewApiKeyOut:
    """``scopes``: some of ``read``, ``write``, ``admin``, none of them beyond the
    caller's own (403); left out, the new key gets the caller's own."""
    unstored(response)
    scopes: list[str] | None = None if body.scopes is None else [*body.scopes]
    key, secret = await services.auth.create_key(caller, body.name, body.expires_at, scopes)
    return NewApiKeyOut(**ApiKeyOut.of(key).model_dump(), key=secret)


@router.get("/api-keys", response_model=ApiKeysOut)
async def list_api_keys(caller: Caller, services: Services) -> ApiKeysOut:
    return ApiKeysOut(data=[ApiKeyOut.of(k) for k in await services.auth.keys(caller)])


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(caller: Caller, services: Services, key_id: str) -> Response:
    if not await services.auth.revoke_key(caller, key_id):
        raise ApiKeyNotFound(key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me_router.get("/me", response_model=UserOut)
async def get_me(caller: Caller, services: Services) -> UserOut:
    return UserOut.of(await services.auth.user(caller))


@me_router.put("/me", response_model=UserOut)
async def update_me(caller: Caller, services: Services, body: MeIn) -> UserOut:
    return UserOut.of(await services.auth.update_user(caller, body.model_dump(exclude_unset=True)))
