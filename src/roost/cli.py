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
        "proxy_headers": True,
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
