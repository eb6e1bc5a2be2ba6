"""Model providers: ``base`` is the interface, one adapter module per wire protocol."""
