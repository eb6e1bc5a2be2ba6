"""Roost's use cases, free of HTTP and SQL text; each owns its transaction.

Importing one loads only what it needs: the application wires them together at
start-up (``roost.wiring``).
"""
