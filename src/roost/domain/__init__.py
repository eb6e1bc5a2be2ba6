"""What a turn is, below the engine, the store and the bus that all speak of it: its
statuses and the events of its log."""
