"""Event fan-out and turn dispatch: in-process, or over Redis for scale-out."""
