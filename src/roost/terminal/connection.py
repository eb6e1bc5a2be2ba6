"""Which credential a chat sends, and keeping a stored login fresh.

In order: the token given (``--token`` or ``ROOST_TOKEN``: an access token or an API
key), else the login ``roost login`` stored for the server's URL, else none (a server in
local mode needs none). A stored login whose access token is refused is refreshed once
with its refresh token, and the new pair is stored."""

from collections.abc import Callable
from typing import TypeVar

from roost.client import AuthenticationError, Roost
from roost.terminal import calls
from roost.terminal.credentials import CredentialStore, Login, normalise

T = TypeVar("T")


class Connection:
    def __init__(self, url: str, token: str | None, store: CredentialStore) -> None:
        self.url = normalise(url)
        self.store = store
        self.login = None if token else store.get(self.url)
        self.source = "token" if token else "login" if self.login else "none"
        self.client = Roost(self.url, token=token or self._token())

    def _token(self) -> str:
        return self.login.access_token if self.login else ""

    def check(self) -> bool:
        """Whether the server accepts the credential (True without one); a stored login
        is refreshed first when its access token has expired."""
        if self.client.health().authenticated or self.source == "none":
            return True
        return self.renew() and self.client.health().authenticated

    def renew(self) -> bool:
        """After the access token was refused: refresh the stored login. True when there
        is a new token to try; False when there is no login to refresh."""
        if self.login is None:
            return False
        stored = self.store.get(self.url)
        if stored is not None and stored.access_token != self.login.access_token:
            fresh = stored  # another chat refreshed it already; its refresh token is spent
        else:
            try:
                fresh = calls.refreshed(self.login)
            except AuthenticationError:
                self.login = None  # expired or ended: only `roost login` helps now
                raise
            self.store.save(fresh)
        self._use(fresh)
        return True

    def call(self, work: Callable[[Roost], T]) -> T:
        """``work(client)``, tried again once with a refreshed login after a 401."""
        try:
            return work(self.client)
        except AuthenticationError:
            if not self.renew():
                raise
            return work(self.client)

    def close(self) -> None:
        self.client.close()

    def _use(self, login: Login) -> None:
        self.login = login
        self.client.close()
        self.client = Roost(self.url, token=login.access_token)
