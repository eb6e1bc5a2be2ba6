"""Tasks: background work with a plan and artifacts, run as turns in sessions.

``service.py`` (create, start, stop, list, delete), ``owner.py`` (what a task's turn
gets, and what the task keeps when it ends), ``workspace.py`` (the project's snapshot
and diff), ``artifacts.py`` (plan, diff, log and kept files).
"""

from roost.services.tasks.artifacts import Artifact, TaskArtifacts
from roost.services.tasks.owner import TaskOwner
from roost.services.tasks.service import TaskService, TaskView

__all__ = ["Artifact", "TaskArtifacts", "TaskOwner", "TaskService", "TaskView"]
