"""Plumbing every stage may use, and nothing else: errors that carry a file:line:col, secret
scrubbing and terminal-safe text, the simulator's fingerprint header, the event-loop latency probe,
the loopback rule for runbook's own servers, and the registry of extension points. Imports no other
part of the engine (the registry names its built-in entries by import path, imported on use).
"""
