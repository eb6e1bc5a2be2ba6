"""Roost's use cases, free of HTTP and SQL text; each owns its transaction."""

from dataclasses import dataclass
from typing import Any

from roost.config import Settings
from roost.services.messages import MessageService
from roost.services.sessions import SessionService
from roost.services.system import SystemService
from roost.store.db import Database


@dataclass(frozen=True)
class Services:
    settings: Settings
    database: Database
    system: SystemService
    sessions: SessionService
    messages: MessageService

    @classmethod
    def build(cls, settings: Settings, database: Database, redis: Any | None) -> "Services":
        return cls(
            settings=settings,
            database=database,
            system=SystemService(settings, database, redis),
            sessions=SessionService(database),
            messages=MessageService(database),
        )
