"""The turn: a user message answered by the model, with its events and inputs.

The modules inside are the turn's parts (start, execution, sink, endings,
inputs, the event log, history, titles and compaction); what the API and the
application's wiring use is exported here.
"""

from roost.services.turns.execution import TurnExecutor
from roost.services.turns.inputs import InputResponse, TurnInputService
from roost.services.turns.owners import Ending, Extras, TurnOwner, TurnOwners
from roost.services.turns.service import TurnRequest, TurnService

__all__ = [
    "Ending",
    "Extras",
    "InputResponse",
    "TurnExecutor",
    "TurnInputService",
    "TurnOwner",
    "TurnOwners",
    "TurnRequest",
    "TurnService",
]
