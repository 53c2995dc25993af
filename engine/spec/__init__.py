"""The spec format: pydantic models that match the YAML one to one (`extra="forbid"`), its JSON
schema, and the meanings the format defines: durations and status patterns, response paths, the
backoff envelope, and how a classification rule matches an observation.

Takes nothing from the other stages; gives the types every later stage reads.
"""
