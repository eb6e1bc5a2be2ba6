"""The agent loop: model providers, tools, and the runner that drives a turn."""
