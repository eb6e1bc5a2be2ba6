"""The WebSocket API: ``mux.py`` (``/api/ws``, every live channel on one connection),
``task_socket.py`` (Mini-Devin's ``/ws/tasks/{task_id}``), and what they share:
``connection.py`` (the send queue, limits and lifetime), ``auth.py``, ``frames.py``
(what a client may send) and ``files.py`` (the project watcher)."""
