"""Tools the agent can call: built-ins, MCP servers' and per-agent ones, all alike."""
