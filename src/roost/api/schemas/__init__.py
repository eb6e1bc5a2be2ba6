"""The API's request and response models: the shared types and bases (``common``), and
one module per resource family (sessions and messages, turns, projects, admin)."""
