"""``roost chat`` and ``roost login``: a terminal chat with a Roost server, built on the
Python client (``roost.client``). docs/terminal.md describes it.

- ``credentials``: the logins kept in ``<home>/credentials.json``.
- ``calls``: the few requests the client does not make (login, projects, tasks).
- ``connection``: which credential a chat uses, and its refresh.
- ``render``: a turn's events and a session's messages as rich output.
- ``prompts``: reading lines (readline, history) and answers to questions and approvals.
- ``chat``: the loop: read a line, send it, follow the turn, cancel on Ctrl-C.
- ``commands``: the slash commands.
- ``entry``: what ``roost chat``, ``roost login`` and ``roost logout`` run.
"""
