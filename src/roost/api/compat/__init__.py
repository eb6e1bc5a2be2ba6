"""The seeds' own paths and shapes, over the same services as the native API: one module
per seed (and per part of it), so each seed's compatibility can be read and tested whole.

- Floyd: ``floyd_chat`` (the stateless ``/chat`` and ``/chat/stream``) and
  ``floyd_sessions`` (``/sessions/{id}/rename|pin|folder|archive`` answering
  ``{success, session}``).
- Oqto: ``oqto_chat_history`` (``/chat-history``) and ``oqto_workspace`` (``/workspace``).
- Mini-Devin: ``minidevin`` (``GET /health`` at the root).

Aliases that are one more path or field spelling on a native route (Floyd's camelCase
keys, Coqui's ``model_role``, the ``PUT`` twins of ``PATCH``) stay beside that route, where
docs/api.md names the seed they are for.
"""
