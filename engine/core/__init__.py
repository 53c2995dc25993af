"""Plumbing every stage may use, and nothing else: errors that carry a file:line:col, secret
scrubbing and terminal-safe text, the simulator's fingerprint header, the event-loop latency probe,
and the registry of extension points. Imports no other part of the engine.
"""
