"""What wraps every request: the pure-ASGI layers (request context, rate limits,
idempotency, the loopback host guard), the JSON body check, and the error handlers
that render every error in the one envelope."""
