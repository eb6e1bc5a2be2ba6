"""The ``roost`` command: a thin layer over the library, flags mapped onto settings."""

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from roost import __version__
from roost.config import Settings

app = typer.Typer(help="Roost: a self-hosted server for LLM agents.", no_args_is_help=True)

Home = Annotated[Path | None, typer.Option(help="Data folder (default ~/.roost).")]
DatabaseUrl = Annotated[str | None, typer.Option(help="SQLAlchemy database URL.")]


def load_settings(**flags: Any) -> Settings:
    """Settings from flags given, then ROOST_* environment, then roost.toml."""
    return Settings(**{key: value for key, value in flags.items() if value is not None})


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    home: Home = None,
    database_url: DatabaseUrl = None,
    auth: Annotated[
        str | None, typer.Option(help="local (no credential = the local owner) or required.")
    ] = None,
    reload: Annotated[bool, typer.Option(help="Restart when the code changes.")] = False,
) -> None:
    """Start the server (migrations are applied first)."""
    from roost import logs

    settings = load_settings(host=host, port=port, home=home, database_url=database_url, auth=auth)
    refusal = settings.unsafe_start()
    if refusal is not None:
        typer.echo(refusal, err=True)
        raise typer.Exit(code=2)
    logs.configure(settings.log_level, settings.log_format)
    config: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        # The app reads forwarding headers itself, from ROOST_TRUSTED_PROXIES only;
        # uvicorn's own reading would believe any client on 127.0.0.1.
        "proxy_headers": False,
        "server_header": False,
    }
    if reload:
        # The reloader imports the app anew in a child process: hand it the settings.
        import os

        os.environ.update(
            {f"ROOST_{key.upper()}": str(value) for key, value in _flat(settings).items()}
        )
        uvicorn.run("roost.cli:app_from_environment", factory=True, reload=True, **config)
    else:
        from roost.app import create_app

        uvicorn.run(create_app(settings, freeze_gc=True), **config)


def app_from_environment() -> Any:
    """The app of a ``--reload`` child process, configured from the environment."""
    from roost import logs
    from roost.app import create_app

    settings = Settings()
    logs.configure(settings.log_level, settings.log_format)
    return create_app(settings, freeze_gc=True)


@app.command()
def migrate(home: Home = None, database_url: DatabaseUrl = None) -> None:
    """Apply database migrations and exit."""
    from roost.store import migrate as migrations
    from roost.store.db import Database

    settings = load_settings(home=home, database_url=database_url)

    async def run() -> None:
        database = Database(settings.effective_database_url)
        try:
            await migrations.upgrade(database)
        finally:
            await database.close()

    asyncio.run(run())
    typer.echo("database is up to date")


@app.command()
def config(home: Home = None, database_url: DatabaseUrl = None) -> None:
    """Print the effective settings, secrets masked."""
    settings = load_settings(home=home, database_url=database_url)
    typer.echo(json.dumps(settings.masked(), indent=2))


@app.command()
def version() -> None:
    """Print Roost's version."""
    typer.echo(__version__)


def _flat(settings: Settings) -> dict[str, Any]:
    shown = settings.model_dump(mode="json", exclude_none=True)
    shown["cors_origins"] = ",".join(settings.cors_origins)
    shown["trusted_proxies"] = ",".join(settings.trusted_proxies)
    return shown


@app.command("fake-llm")
def fake_llm(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8790,
    tokens: Annotated[int, typer.Option(help="Tokens in the default answer.")] = 20,
    token_delay_ms: Annotated[float, typer.Option(help="Pause between tokens.")] = 20.0,
    ttft_ms: Annotated[float, typer.Option(help="Time to the first token.")] = 100.0,
) -> None:
    """Serve a fake upstream LLM (OpenAI and Anthropic wire formats) for tests and benchmarks."""
    from roost.testing import FakeConfig
    from roost.testing.fake_llm import serve

    typer.echo(f"OpenAI base URL http://{host}:{port}/v1, Anthropic base URL http://{host}:{port}")
    config = FakeConfig(tokens=tokens, token_delay_ms=token_delay_ms, ttft_ms=ttft_ms)
    serve(host=host, port=port, config=config)


# --- accounts and API keys, straight against the configured database ----------------------

user_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
key_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(key_app, name="key")

Email = Annotated[str, typer.Argument(help="The user's email.")]
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from standard input instead of asking."
    ),
]


def _with_admin(home: Path | None, database_url: str | None, work: Any) -> Any:
    """Run ``work(admin_service)`` on the configured database, migrated first as ``serve``
    would; an error becomes one line on stderr and exit code 1."""
    from roost import wiring
    from roost.errors import ApiError
    from roost.store import migrate as migrations
    from roost.store.db import Database

    settings = load_settings(home=home, database_url=database_url)

    async def run() -> Any:
        database = Database(settings.effective_database_url)
        try:
            await migrations.upgrade(database)
            services = wiring.build(settings, database, None)
            try:
                return await work(services.admin)
            finally:
                await services.aclose()
        finally:
            await database.close()

    try:
        return asyncio.run(run())
    except ApiError as error:
        reasons = [f.get("reason", "") for f in error.details.get("fields", [])]
        typer.echo(
            f"error: {error.message}" + (f": {'; '.join(reasons)}" if reasons else ""), err=True
        )
        raise typer.Exit(code=1) from None


def _read_password(from_stdin: bool) -> str:
    """From stdin's first line, or asked twice without echo; never shown."""
    if from_stdin:
        import sys

        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            typer.echo("error: no password on standard input", err=True)
            raise typer.Exit(code=1)
        return password
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@user_app.command("create")
def user_create(
    email: Email,
    name: Annotated[str, typer.Option(help="Display name (default: the email's local part).")] = "",
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an admin.")] = False,
    password_stdin: PasswordStdin = False,
    home: Home = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a user, whatever ROOST_REGISTRATION says."""
    password = _read_password(password_stdin)
    user = _with_admin(
        home, database_url, lambda a: a.users.create(email, password, name, is_admin=admin)
    )
    typer.echo(f"created {user.id} {user.email}" + (" (admin)" if user.is_admin else ""))


@user_app.command("list")
def user_list(home: Home = None, database_url: DatabaseUrl = None) -> None:
    """List every user, newest first."""
    from roost.services.admin_users import UserFilter, is_local

    async def everyone(admin: Any) -> list[Any]:
        users, after = [], None
        while True:
            page = await admin.users.page(UserFilter(), limit=200, after=after)
            users += page.items
            if not page.has_more:
                return users
            after = page.next_cursor

    typer.echo(f"{'ID':<31} {'EMAIL':<32} {'ADMIN':<6} {'ACTIVE':<7} NAME")
    for user in _with_admin(home, database_url, everyone):
        email = "(local owner)" if is_local(user) else user.email or "-"
        admin, active = ("yes" if user.is_admin else "no"), ("yes" if user.is_active else "no")
        typer.echo(f"{user.id:<31} {email:<32} {admin:<6} {active:<7} {user.name}")


@user_app.command("reset-password")
def user_reset_password(
    email: Email,
    password_stdin: PasswordStdin = False,
    home: Home = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Set a user's password; every login of theirs ends."""
    from roost.services.admin_users import UserChanges

    password = _read_password(password_stdin)

    async def reset(admin: Any) -> None:
        user = await admin.users.by_email(email)
        await admin.users.update(None, user.id, UserChanges(password=password))

    _with_admin(home, database_url, reset)
    typer.echo(f"password changed for {email.strip().lower()}; their logins have ended")


@key_app.command("create")
def key_create(
    email: Email,
    name: Annotated[str, typer.Option(help="What the key is for.")],
    scopes: Annotated[
        str,
        typer.Option(help="Comma-separated: read, write, admin (default: all the user holds)."),
    ] = "",
    expires_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Days until it expires.")
    ] = None,
    home: Home = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key for a user; its secret is printed once, alone on stdout."""
    from datetime import timedelta

    from roost.clock import utcnow

    wanted = [scope.strip() for scope in scopes.split(",") if scope.strip()]
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    key, secret = _with_admin(
        home, database_url, lambda a: a.users.create_key(email, name, wanted or None, expires_at)
    )
    typer.echo(f"created {key.id} ({key.name}); the secret is shown this once:", err=True)
    typer.echo(secret)


@key_app.command("list")
def key_list(email: Email, home: Home = None, database_url: DatabaseUrl = None) -> None:
    """List a user's live API keys (never their secrets)."""
    from roost.clock import isoformat

    keys = _with_admin(home, database_url, lambda a: a.users.keys(email))
    typer.echo(f"{'ID':<31} {'PREFIX':<13} {'SCOPES':<17} {'EXPIRES':<25} NAME")
    for key in keys:
        scopes = ",".join(key.scopes) or "none"
        expires = isoformat(key.expires_at) if key.expires_at else "never"
        typer.echo(f"{key.id:<31} {key.prefix:<13} {scopes:<17} {expires:<25} {key.name}")


@key_app.command("revoke")
def key_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (key_…).")],
    home: Home = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke any user's API key."""
    _with_admin(home, database_url, lambda a: a.users.revoke_key(key_id))
    typer.echo(f"revoked {key_id}")


# --- the terminal chat, against a running server (docs/terminal.md) -----------------------

ServerUrl = Annotated[str, typer.Option(envvar="ROOST_URL", help="The server's URL.")]
DEFAULT_SERVER_URL = "http://127.0.0.1:8787"


def _roost_home(home: Path | None) -> Path:
    return load_settings(home=home).home


@app.command()
def chat(
    url: ServerUrl = DEFAULT_SERVER_URL,
    session: Annotated[str | None, typer.Option(help="Open this session (ses_…).")] = None,
    agent: Annotated[str | None, typer.Option(help="Answer with this agent.")] = None,
    model: Annotated[str | None, typer.Option(help="Answer with this model.")] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="ROOST_TOKEN", help="An access token or API key (ROOST_TOKEN)."),
    ] = None,
    home: Home = None,
) -> None:
    """Chat with the server's agents in the terminal."""
    from roost.terminal import entry

    raise typer.Exit(
        entry.chat(url, _roost_home(home), session=session, agent=agent, model=model, token=token)
    )


@app.command()
def login(
    url: ServerUrl = DEFAULT_SERVER_URL,
    email: Annotated[str | None, typer.Option(help="Your email (asked when left out).")] = None,
    home: Home = None,
) -> None:
    """Log in to a server; the tokens are kept for `roost chat` in the home."""
    from roost.terminal import entry

    raise typer.Exit(entry.login(url, _roost_home(home), email))


@app.command()
def logout(url: ServerUrl = DEFAULT_SERVER_URL, home: Home = None) -> None:
    """Forget the login kept for a server, and end it there."""
    from roost.terminal import entry

    raise typer.Exit(entry.logout(url, _roost_home(home)))
