"""Roost: a self-hosted server for LLM agents."""

__version__ = "0.1.0"
