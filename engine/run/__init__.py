"""Execution: turn a Plan into recorded attempts over real HTTP."""
