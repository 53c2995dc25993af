"""libyaml's composer (through PyYAML's C binding) with ruamel.yaml's YAML 1.2 scalar rules.

libyaml composes a document into nodes with line/column marks about 10x faster than ruamel's pure
Python round-trip loader. PyYAML resolves plain scalars by YAML 1.1 (`no` a bool, `017` octal);
runbook's specs are YAML 1.2 as ruamel reads them, so the resolver here takes ruamel's own 1.2
table. Without PyYAML or without its C extension, `compose` answers None and the caller reads the
slow way.
"""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml.resolver import implicit_resolvers as _ruamel_resolvers

__all__ = ["MappingNode", "ScalarNode", "SequenceNode", "Unreadable", "compose"]

try:
    import yaml as _pyyaml  # type: ignore[import-untyped]
    from yaml.cyaml import CParser as _CParser  # type: ignore[import-untyped]
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode  # type: ignore[import-untyped]
except ImportError:  # no PyYAML, or PyYAML built without libyaml
    _pyyaml = None
    MappingNode = ScalarNode = SequenceNode = type("NoNode", (), {})

YAML_12 = (1, 2)
_STR = "tag:yaml.org,2002:str"


class Unreadable(Exception):
    """libyaml could not compose the text (a syntax error, several documents, bad characters)."""


if _pyyaml is not None:

    class _Resolver(_pyyaml.resolver.BaseResolver):  # type: ignore[misc]
        """Plain scalars resolved by ruamel's YAML 1.2 implicit rules (bool, int, float, null, ...)."""

        first_chars: frozenset[str] = frozenset()

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            # Most scalars are words whose first character no implicit rule starts with: text.
            if kind is ScalarNode and implicit[0] and value and value[0] not in self.first_chars:
                return _STR
            return super().resolve(kind, value, implicit)

        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            """No path resolvers are registered: nothing to track while descending."""

        def ascend_resolver(self) -> None:
            """As descend_resolver."""

    for _versions, _tag, _pattern, _first in _ruamel_resolvers:
        if YAML_12 in _versions:
            _compiled = re.compile(_pattern.pattern, _pattern.flags)  # ruamel's are lazily compiled proxies
            _Resolver.add_implicit_resolver(_tag, _compiled, _first)
            _Resolver.first_chars |= frozenset(char for char in _first if char)

    class _Composer(_CParser, _Resolver):  # type: ignore[misc]
        def __init__(self, text: str) -> None:
            _CParser.__init__(self, text)
            _Resolver.__init__(self)


def compose(text: str) -> Any:
    """The document's root node, or None when libyaml is not available; Unreadable on any error."""
    if _pyyaml is None:
        return None
    composer = _Composer(text)
    try:
        return composer.get_single_node()
    except (_pyyaml.YAMLError, ValueError, TypeError) as exc:
        raise Unreadable(str(exc)) from None
    finally:
        composer.dispose()
