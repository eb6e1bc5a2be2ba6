"""The seeds' own paths and shapes, over the same services as the native API: one module
per seed, so each seed's compatibility can be read and tested whole.

- ``floyd``: the stateless ``/chat`` and ``/chat/stream``, and the one-field session
  routes (``/sessions/{id}/rename|pin|folder|archive`` answering ``{success, session}``).
- ``oqto``: ``/chat-history`` (sessions and messages under Oqto's paths) and
  ``/workspace`` (a project's meta and sandbox policy).
- ``minidevin``: ``GET /health`` at the root.

Aliases that are one more path or field spelling on a native route (Floyd's camelCase
keys, Coqui's ``model_role``, the ``PUT`` twins of ``PATCH``) stay beside that route, where
docs/api.md names the seed they are for.
"""
