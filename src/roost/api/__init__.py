"""HTTP: the routers, their request and response models, and what wraps every request.

- ``routes/``: the native API, one router module per resource family (sessions,
  messages, turns, turn_inputs, compaction, projects and their files, locations and
  templates, skills, tools, mcp, models, settings, auth, health, admin).
- ``schemas/``: request and response models: ``common`` (shared types and bases) and one
  module per family (sessions, turns, projects and their files, skills, tools, mcp,
  models, settings, auth, health, admin); routers define none of their own.
- ``middleware/``: the pure-ASGI layers (``context``: request id and body limit;
  ``rate_limits``, ``idempotency``, ``host_guard``), the JSON body check and the error
  handlers that render the one envelope.
- ``compat/``: the seeds' own paths and shapes, one module per seed (``floyd``, ``oqto``,
  ``coqui``, ``minidevin``).
- ``deps.py`` (the caller and services as dependencies), ``sse.py`` (event streams),
  ``openapi.py`` (completes the served document).
"""
