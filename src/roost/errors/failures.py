"""5xx: what Roost could not do, for want of a provider or because a turn ran too long."""

from roost.errors.base import InternalError, ServiceUnavailable


class ProviderNotConfigured(ServiceUnavailable):
    """No provider can serve the model asked for, or no default model is set."""

    code = "PROVIDER_NOT_CONFIGURED"


class MaxIterationsReached(InternalError):
    """A turn made its allowed model calls and stopped. It ends the turn (its stream's
    ``error`` event and the turn's ``error``), never an HTTP answer of its own."""

    code = "MAX_ITERATIONS_REACHED"

    def __init__(self, calls: int) -> None:
        super().__init__(f"The turn stopped after {calls} model calls")
