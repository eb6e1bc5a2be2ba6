"""Identity: registration, logins with rotating refresh tokens, API keys, and turning a
credential into a :class:`Caller`."""

import math
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.bus.limits import Backoff, Counters
from roost.clock import utcnow
from roost.config import Settings
from roost.errors import Forbidden, InvalidRequest, RateLimited, Unauthorized
from roost.services import key_scopes
from roost.services.caller import Caller
from roost.services.passwords import check_strength, hash_password, verify_password
from roost.services.tokens import AccessClaims, TokenSigner, hash_secret, new_secret
from roost.store.api_keys import ApiKeyLookup, ApiKeyRepo
from roost.store.db import Database
from roost.store.invites import InviteRepo
from roost.store.logins import LoginRepo, RefreshTokens
from roost.store.models import ApiKey, LoginSession, RefreshToken, User
from roost.store.users import LOCAL_USER_ID, UserRepo, email_taken

EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}")
API_KEY_PREFIX = "rk_"
REFRESH_PREFIX = "rt_"
KEY_TOUCH_SECONDS = 60
# Guessing limits. Each (account, address) pair has 5 tries at once, then waits 1 s, 2 s,
# 4 s… up to 15 minutes between tries; a success starts it again. An account with 50
# failures in 15 minutes, from anywhere, is under attack: then every address gets one
# try at once before its waits start, so an address that has not failed (the owner's)
# still gets in, and an attacker cannot lock the owner out. Logins per address, whatever
# the account, bound password spraying.
LOGIN_BACKOFF = Backoff(free=5, first_seconds=1, longest_seconds=900, forget_seconds=3600)
LOGIN_BACKOFF_UNDER_ATTACK = replace(LOGIN_BACKOFF, free=1)
LOGIN_FAILURES_PER_ACCOUNT = (50, 900)
LOGINS_PER_ADDRESS = (100, 900)
REGISTRATIONS_PER_ADDRESS = (20, 3600)
BAD_LOGIN = "Invalid email or password"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int  # seconds, so a cookie holding it lives exactly as long
    user: User


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 254 or not EMAIL.fullmatch(email):
        raise InvalidRequest("That is not an email address", details={"field": "email"})
    return email


def unauthorized(message: str = "A valid credential is required") -> Unauthorized:
    return Unauthorized(message)


class AuthService:
    def __init__(
        self, database: Database, settings: Settings, signer: TokenSigner, counters: Counters
    ) -> None:
        self.database = database
        self.settings = settings
        self.signer = signer
        self.counters = counters

    # --- credentials -> callers -------------------------------------------------------

    async def authenticate(self, credential: str, _address: str) -> Caller:
        """The caller a credential stands for; 401 for anything that is not good now."""
        if credential.startswith(API_KEY_PREFIX):
            return await self._by_api_key(credential)
        claims = self.signer.verify(credential)
        if claims is None:
            raise unauthorized("The token is invalid or has expired")
        async with self.database.read() as db:
            user = await UserRepo(db).get(claims.user_id)
            logins = LoginRepo(db, claims.user_id)
            login = await logins.find(claims.login_id) if claims.login_id else None
        if user is None or not user.is_active or user.token_version != claims.version:
            raise unauthorized("The token is no longer valid")
        if claims.login_id and (login is None or login.revoked_at is not None):
            raise unauthorized("This login has ended")
        return Caller(user.id, user.is_admin, True, f"user:{user.id}", None, claims.login_id)

    def local_owner(self) -> Caller:
        return Caller(LOCAL_USER_ID, True, True, f"user:{LOCAL_USER_ID}")

    async def _by_api_key(self, key: str) -> Caller:
        now = utcnow()
        async with self.database.read() as db:
            found = await ApiKeyLookup(db).by_hash(hash_secret(key))
            user = await UserRepo(db).get(found.user_id) if found else None
        if found is None or user is None or not user.is_active or found.revoked_at is not None:
            raise unauthorized("The API key is invalid or revoked")
        if found.expires_at is not None and found.expires_at <= now:
            raise unauthorized("The API key has expired")
        if found.last_used_at is None or now - found.last_used_at > timedelta(
            seconds=KEY_TOUCH_SECONDS
        ):
            async with self.database.write() as db:
                await ApiKeyLookup(db).touch(found.id, now)
        return Caller(user.id, user.is_admin, True, f"key:{found.id}", frozenset(found.scopes))

    # --- accounts ---------------------------------------------------------------------

    async def register(
        self, email: str, password: str, name: str, invite_code: str | None, address: str
    ) -> User:
        """The first user becomes admin; then ``ROOST_REGISTRATION`` decides."""
        await self._throttle(f"register:ip:{address}", *REGISTRATIONS_PER_ADDRESS)
        email = normalise_email(email)
        check_strength(password, self.settings.password_min_length, email=email, name=name)
        hashed = await hash_password(password)
        async with self.database.write() as db:
            users = UserRepo(db)
            await users.lock_registrations()
            first = not await users.any_account()
            if not first:
                await self._admit(db, invite_code)
            if await users.email_taken(email):
                raise email_taken()
            user = User(
                id=ids.new_id("usr"),
                email=email,
                name=name.strip() or email.split("@")[0],
                password_hash=hashed,
                is_admin=first,
                is_active=True,
                token_version=1,
            )
            await users.add(user)
        return user

    async def _admit(self, db: AsyncSession, invite_code: str | None) -> None:
        mode = self.settings.registration
        if mode == "closed":
            raise Forbidden("Registration is closed; ask an admin for an account")
        if mode == "open":
            return
        if not invite_code:
            raise Forbidden("Registration needs an invite code", details={"field": "invite_code"})
        if not await InviteRepo(db).use(invite_code, utcnow()):
            raise Forbidden("The invite code is not valid", details={"field": "invite_code"})

    async def login(self, email: str, password: str, address: str, agent: str) -> TokenPair:
        """Tokens for a good password; the same answer for an unknown email as a bad one."""
        key = email.strip().lower()[:254]
        pair = await self._admit_login(key, address)
        async with self.database.read() as db:
            user = await UserRepo(db).by_email(key)
        if not await verify_password(user.password_hash if user else None, password):
            await self.counters.hit(f"login:acct:{key}", *LOGIN_FAILURES_PER_ACCOUNT)
            raise unauthorized(BAD_LOGIN)
        assert user is not None
        await self.counters.forget(pair)
        if not user.is_active:
            raise Forbidden("This account is deactivated")
        return await self._new_login(user, agent)

    async def _new_login(self, user: User, agent: str) -> TokenPair:
        async with self.database.write() as db:
            login = LoginSession(id=ids.new_id("lgn"), user_agent=agent[:300])
            LoginRepo(db, user.id).add(login)
            await db.flush()
            refresh = self._add_refresh(db, login.id)
            fresh = await UserRepo(db).get(user.id)
            assert fresh is not None
            fresh.last_login_at = utcnow()
            version = fresh.token_version
        return self._pair(fresh, version, login.id, refresh)

    async def refresh(self, token: str) -> TokenPair:
        """A new pair for a refresh token used once; a second use ends the whole login."""
        now = utcnow()
        async with self.database.write() as db:
            chained = await RefreshTokens(db).by_hash(hash_secret(token), for_update=True)
            if chained is None or chained[1].revoked_at is not None:
                raise unauthorized("The refresh token is invalid")
            found, login = chained
            if found.used_at is not None:
                login.revoked_at = now  # reuse: a copy is out there; end the login
                reused = True
            else:
                reused = False
                if found.expires_at <= now:
                    raise unauthorized("The refresh token has expired")
                found.used_at = now
                user = await UserRepo(db).get(login.user_id)
                if user is None or not user.is_active:
                    raise unauthorized("The account is not active")
                refresh = self._add_refresh(db, login.id)
                version = user.token_version
        if reused:
            raise unauthorized("The refresh token was already used; the login has ended")
        assert user is not None
        return self._pair(user, version, login.id, refresh)

    async def logout(self, caller: Caller, refresh_token: str | None) -> None:
        """End the login the access token (or refresh token) belongs to."""
        async with self.database.write() as db:
            login_id = caller.login_id
            if login_id is None and refresh_token:
                found = await RefreshTokens(db).by_hash(hash_secret(refresh_token))
                login_id = found[1].id if found else None
            if login_id is not None:
                await LoginRepo(db, caller).end(login_id, utcnow())

    async def change_password(
        self, caller: Caller, current: str, new: str, agent: str
    ) -> TokenPair:
        """Checks the current password; every other login ends, this one gets new tokens."""
        async with self.database.read() as db:
            user = await UserRepo(db).get(caller.user_id)
        if user is None or not await verify_password(user.password_hash, current):
            raise unauthorized("The current password is wrong")
        check_strength(
            new, self.settings.password_min_length, email=user.email or "", name=user.name
        )
        hashed = await hash_password(new)
        async with self.database.write() as db:
            fresh = await UserRepo(db).get(caller.user_id)
            assert fresh is not None
            fresh.password_hash = hashed
            fresh.token_version += 1
            fresh.updated_at = utcnow()
            await LoginRepo(db, caller).end_all(utcnow())
        return await self._new_login(fresh, agent)

    async def dev_login(self, agent: str) -> TokenPair:
        """Dev mode only: log in as a developer admin, made on first use."""
        async with self.database.write() as db:
            users = UserRepo(db)
            user = await users.by_email("dev@localhost")
            if user is None:
                user = User(
                    id=ids.new_id("usr"),
                    email="dev@localhost",
                    name="Developer",
                    is_admin=True,
                    is_active=True,
                    token_version=1,
                )
                await users.add(user)
        return await self._new_login(user, agent)

    async def user(self, caller: Caller) -> User:
        async with self.database.read() as db:
            user = await UserRepo(db).get(caller.user_id)
        if user is None:
            raise unauthorized("The account no longer exists")
        return user

    async def update_user(self, caller: Caller, changes: dict[str, str | None]) -> User:
        async with self.database.write() as db:
            user = await UserRepo(db).get(caller.user_id)
            if user is None:
                raise unauthorized("The account no longer exists")
            if changes.get("name"):
                user.name = str(changes["name"]).strip()
            user.updated_at = utcnow()
        return user

    # --- API keys ---------------------------------------------------------------------

    async def create_key(
        self, caller: Caller, name: str, expires_at: datetime | None, scopes: list[str] | None
    ) -> tuple[ApiKey, str]:
        """A new key, with no scope its maker lacks (``None``: all the maker's); its secret
        is returned now and never again."""
        granted = key_scopes.granted(caller, scopes)
        if expires_at is not None and expires_at <= utcnow():
            raise InvalidRequest("expires_at is in the past", details={"field": "expires_at"})
        secret = new_secret(API_KEY_PREFIX)
        key = ApiKey(
            id=ids.new_id("key"),
            name=name,
            prefix=secret[:12],
            key_hash=hash_secret(secret),
            scopes=granted,
            expires_at=expires_at,
        )
        async with self.database.write() as db:
            ApiKeyRepo(db, caller).add(key)
        return key, secret

    async def keys(self, caller: Caller) -> list[ApiKey]:
        async with self.database.read() as db:
            return await ApiKeyRepo(db, caller).live()

    async def revoke_key(self, caller: Caller, key_id: str) -> bool:
        async with self.database.write() as db:
            return await ApiKeyRepo(db, caller).revoke(key_id, utcnow())

    # --- helpers ----------------------------------------------------------------------

    def _add_refresh(self, db: AsyncSession, login_id: str) -> str:
        secret = new_secret(REFRESH_PREFIX)
        RefreshTokens(db).add(
            RefreshToken(
                id=ids.new_id("rt"),
                login_id=login_id,
                token_hash=hash_secret(secret),
                expires_at=utcnow() + self._refresh_lifetime,
            )
        )
        return secret

    def _pair(self, user: User, version: int, login_id: str, refresh: str) -> TokenPair:
        lifetime = timedelta(minutes=self.settings.access_token_minutes)
        access = self.signer.issue(AccessClaims(user.id, version, login_id), lifetime)
        refresh_lifetime = int(self._refresh_lifetime.total_seconds())
        return TokenPair(access, int(lifetime.total_seconds()), refresh, refresh_lifetime, user)

    @property
    def _refresh_lifetime(self) -> timedelta:
        return timedelta(days=self.settings.refresh_token_days)

    async def _throttle(self, key: str, limit: int, window: int) -> None:
        standing = await self.counters.hit(key, limit, window)
        if not standing.allowed:
            raise _too_many(standing.retry_after, f"{limit} per {window // 60} minutes")

    async def _admit_login(self, account: str, address: str) -> str:
        """Count a login try before its password is checked (so tries at once cannot
        slip past a limit), or refuse it; the key of its (account, address) backoff."""
        await self._throttle(f"login:ip:{address}", *LOGINS_PER_ADDRESS)
        failures = await self.counters.peek(f"login:acct:{account}", *LOGIN_FAILURES_PER_ACCOUNT)
        backoff = LOGIN_BACKOFF if failures.remaining > 0 else LOGIN_BACKOFF_UNDER_ATTACK
        pair = f"login:pair:{account}:{address}"
        wait = await self.counters.attempt(pair, backoff)
        if wait > 0:
            raise _too_many(math.ceil(wait), "growing delays after failed logins")
        return pair


def _too_many(retry_after: int, limit: str) -> RateLimited:
    return RateLimited(
        "Too many attempts; try again later",
        details={"retry_after_seconds": retry_after, "limit": limit},
        headers={"Retry-After": str(retry_after)},
    )
