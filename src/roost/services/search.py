"""Full-text search over every message a user may read (Oqto's ``/api/search``): the
words of the query must all appear; hits are ranked (BM25 on SQLite, ``ts_rank_cd``
on PostgreSQL) and shown with a highlighted snippet and where they were said."""

import html
from dataclasses import dataclass

from roost.errors import InvalidRequest
from roost.services.caller import Caller
from roost.services.memory_ranking import words
from roost.services.projects import ProjectService
from roost.store.db import Database
from roost.store.message_search import CLOSE, OPEN, Found, MessageFilter, search
from roost.store.sessions import SessionRepo

MAX_OFFSET = 1_000  # how deep a ranked list may be paged
MAX_WORDS = 20


@dataclass(frozen=True)
class SearchPage:
    hits: list[Found]
    has_more: bool
    next_cursor: str | None


class SearchService:
    def __init__(self, database: Database, projects: ProjectService) -> None:
        self.database = database
        self.projects = projects

    async def messages(
        self,
        caller: Caller,
        query: str,
        where: MessageFilter,
        *,
        limit: int,
        cursor: str | None,
    ) -> SearchPage:
        offset = _offset(cursor)
        wanted = list(dict.fromkeys(words(query)))[:MAX_WORDS]
        if not wanted:
            raise InvalidRequest(
                "The query has no word to search for", details={"field": "q", "reason": "no words"}
            )
        if where.project_id is not None:
            await self.projects.owned(caller.user_id, where.project_id)
        async with self.database.read() as db:
            if where.session_id is not None:
                await SessionRepo(db, caller).get(where.session_id)
            found = await search(db, caller.user_id, wanted, where, limit=limit + 1, offset=offset)
        more = len(found) > limit and offset + limit < MAX_OFFSET
        return SearchPage(found[:limit], more, f"o{offset + limit}" if more else None)


def highlighted(snippet: str) -> str:
    """The snippet as HTML: its text escaped, its matches in ``<mark>``."""
    return html.escape(snippet).replace(OPEN, "<mark>").replace(CLOSE, "</mark>")


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    digits = cursor[1:]
    if not cursor.startswith("o") or not digits.isdigit() or int(digits) > MAX_OFFSET:
        raise InvalidRequest("The cursor is not one this search gave", details={"field": "cursor"})
    return int(digits)
