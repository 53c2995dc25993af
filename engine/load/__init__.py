"""Load: a spec file on disk becomes a validated `LoadedSpec`, or a `SpecError` that lists every
problem with file:line:col.

    yaml_tree   YAML with line/column marks, duplicate keys refused
    extends     `extends:` chains merged, each value keeping its source location
    templating  `{{ vars }}` and `env()` rendered in a sandbox
    semantics   cross-field rules pydantic cannot express
    loader      load_spec / load_fault_script: the entry points
    lint        findings on a loaded spec (unreachable rules, unsafe actions, ...)
    fixtures    the stored response fixtures next to the spec, and whether git has them

Takes a path and variables; gives `LoadedSpec` (engine.load.loader).
"""
