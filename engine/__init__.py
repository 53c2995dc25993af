"""runbook: declarative reliability contracts for LLM chat-completions APIs."""

__version__ = "0.1.0"
