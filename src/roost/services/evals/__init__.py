"""Evaluations (CoAgent): test sets of cases with assertions, run against agent configurations."""
