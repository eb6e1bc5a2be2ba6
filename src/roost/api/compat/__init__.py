"""The seeds' own paths and shapes, over the same services as the native API: one module
per seed, so each seed's compatibility can be read and tested whole.

- ``floyd``: the one-field session routes (``/sessions/{id}/rename|pin|folder|archive``
  answering ``{success, session}``), the session import (``PUT /sessions/{id}``), the
  ``PUT`` twin of a project's ``PATCH``, the stateless ``/chat`` and ``/chat/stream``,
  ``POST /settings`` and ``/test-key``, and ``POST /tools/execute``.
- ``oqto``: ``/chat-history`` (sessions and messages under Oqto's paths), a session's
  ``stop``, ``resume`` and ``activity``, ``/workspace`` (a project's meta and sandbox
  policy) and ``/settings/schema``.
- ``coqui``: ``/config/roles`` and ``DELETE /sessions/{id}/current-turn``.
- ``minidevin``: ``GET /health`` at the root.

A seed's spelling of a native field (Floyd's camelCase keys, Coqui's ``model_role``)
stays on the native model, where docs/api.md names the seed it is for. app.py includes
each router where its routes keep their order against every native path they could match.
"""
