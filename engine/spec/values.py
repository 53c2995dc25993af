"""The spec format's vocabulary: the fixed words a spec may use (transport kinds, parser outcomes,
fault kinds, operator actions) and the scalar types it writes (durations, ids, status patterns, URLs,
response paths, header names), each checked where it is read; and `Strict`, the base of every model.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveFloat,
    StrictInt,
    WithJsonSchema,
)

from engine.spec.durations import DURATION_PATTERN, RATE_PATTERN, parse_duration, parse_rate, parse_status_pattern
from engine.spec.paths import parse_path

TRANSPORT_KINDS = (
    "dns",
    "connect",
    "connect_timeout",
    "read_timeout",
    "write_timeout",
    "pool_timeout",
    "reset",
    "truncated",
    "protocol",
    "too_large",
    "deadline",
)
PARSER_OUTCOMES = (
    "ok",
    "invalid_json",
    "missing_field",
    "empty_content",
    "error_in_body",
    "error_envelope",
    "none",
    "stream_truncated",
    "stream_malformed",
    "missing_usage",  # a complete streamed answer without the usage chunk it asked for
)
FAULT_KINDS = (
    "ok",
    "status",
    "reset",
    "close_mid_body",
    "invalid_json",
    "html_502",
    "redirect",
    "schema_drift",
    "empty_content",
    "extra_fields",
    "error_in_200",
    "stall",
    "slow_body",
    "stream_ok",
    "stream_disconnect",
    "stream_clean_cut",
    "stream_no_done",
    "stream_malformed",
    "stream_stall",
    "stream_error_event",
    "stream_finish_error",
    "stream_keepalive",
    "stream_crlf",
    "stream_split",
    "stream_bom",
    "stream_slow_first_token",
)
SUCCESS_ACTION = "none"  # a rule with this action classifies a success: the answer is usable
NEVER_FALL_BACK_ACTIONS = ("fix_request", "refresh_credentials", "fix_configuration", "reduce_input")
ACTIONS = (
    "none",  # success: nothing to do
    "fix_request",  # caller builds the request wrongly (client / serializer bug)
    "refresh_credentials",  # rotate or restore the key
    "fix_configuration",  # wrong path, model id or base URL: configuration drift
    "reduce_input",  # route to token-budget handling
    "retry_briefly",  # bounded retries with jitter
    "fall_back",  # another provider or model, within the deadline
    "store_fixture_and_alert",  # keep the evidence, alert if repeated
    "page_owner",  # a human owner must act now
)

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=80)]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Duration = Annotated[
    float,
    BeforeValidator(
        parse_duration, json_schema_input_type=Annotated[str, Field(pattern=DURATION_PATTERN)] | PositiveFloat
    ),
]
Rate = Annotated[
    float,
    BeforeValidator(parse_rate, json_schema_input_type=Annotated[str, Field(pattern=RATE_PATTERN)] | PositiveFloat),
]  # requests per second
TransportKind = Literal[TRANSPORT_KINDS]  # type: ignore[valid-type]
ParserOutcome = Literal[PARSER_OUTCOMES]  # type: ignore[valid-type]
Action = Literal[ACTIONS]  # type: ignore[valid-type]


def _yes_no(value: Any) -> Any:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return value


def _status_ok(value: Any) -> Any:
    parse_status_pattern(value)
    return value


_NOT_IN_HOST = re.compile(r"[\s<>\"\\^`{|}%]")  # what no host name or address holds, even percent-encoded


def _http_url(value: str) -> str:
    """An http(s) base URL: a host, an optional port, an optional path; nothing secret or variable.
    (urllib's split, not httpx.URL: validating a spec must not import the HTTP stack.)"""
    try:
        parts = urlsplit(value) if isinstance(value, str) and value.isprintable() and " " not in value else None
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    if _NOT_IN_HOST.search(parts.hostname):
        raise ValueError(f"{value!r} is not an http(s) URL")
    _check_port(value, parts.netloc)
    if "@" in parts.netloc or "?" in value or "#" in value:
        raise ValueError("a URL here must not carry credentials, a query or a fragment (secrets belong in 'secret:')")
    return value.rstrip("/")


def _check_port(value: str, netloc: str) -> None:
    after_host = netloc.rpartition("@")[2].rpartition("]")[2]  # past any userinfo and an IPv6 address
    port = after_host.partition(":")[2]
    if port and not port.isdigit():
        raise ValueError(f"{value!r} is not an http(s) URL")
    if port and not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} has a port outside 1-65535")


def _url_path(value: str) -> str:
    if not value.startswith("/") or " " in value:
        raise ValueError(f"{value!r} is not a URL path; it must start with '/'")
    return value


def _json_path(value: str) -> str:
    parse_path(value)
    return value


JsonPath = Annotated[str, AfterValidator(_json_path)]
HeaderName = Annotated[str, Field(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
# Headers the HTTP layer owns: a spec that set them could redirect the key (Host) or break framing.
CONNECTION_HEADERS = frozenset(
    {"host", "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te",
     "trailer", "transfer-encoding", "upgrade", "content-length"}
)  # fmt: skip


def _sendable(name: str) -> str:
    if name.lower() in CONNECTION_HEADERS:
        raise ValueError(f"{name!r} is set by the HTTP layer, not by a spec (hop-by-hop or Host)")
    return name


RequestHeaderName = Annotated[HeaderName, AfterValidator(_sendable)]
HeaderValue = Annotated[str, Field(pattern=r"^[\t\x20-\x7e]*$")]
Tristate = Annotated[
    Literal["yes", "maybe", "no"], BeforeValidator(_yes_no, json_schema_input_type=Literal["yes", "maybe", "no"] | bool)
]
STATUS_SCHEMA = {
    "anyOf": [
        {"type": "integer", "minimum": 100, "maximum": 599},
        {"type": "string", "pattern": r"^([1-5]xx|[1-5]\d\d|[1-5]\d\d\s*-\s*[1-5]\d\d)$"},
    ]
}
StatusPattern = Annotated[StrictInt | str, AfterValidator(_status_ok), WithJsonSchema(STATUS_SCHEMA)]


def _inside_folder(value: str) -> str:
    parts = value.replace("\\", "/").split("/")
    if value.startswith(("/", "\\")) or ".." in parts or not value.strip():
        raise ValueError(f"{value!r} must be a folder inside the spec's folder (no absolute path, no '..')")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
RelativeFolder = Annotated[
    str,
    AfterValidator(_inside_folder),
    WithJsonSchema({"type": "string", "pattern": r"^(?![/\\])(?!(.*[/\\])?\.\.([/\\]|$)).+$"}),
]
UrlPath = Annotated[str, AfterValidator(_url_path)]


def _one_or_many(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


# One value or a list of them; read as a list. (Spelled out per item type, so type checkers see them.)
Texts = Annotated[list[str], BeforeValidator(_one_or_many, json_schema_input_type=str | list[str])]
MAX_MESSAGE_PIECE = 200  # a `when.message` piece: matched as a case-insensitive substring, never a regex
MessagePiece = Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_PIECE)]
MessagePieces = Annotated[
    list[MessagePiece],
    Field(min_length=1, max_length=20),
    BeforeValidator(_one_or_many, json_schema_input_type=MessagePiece | list[MessagePiece]),
]
QueryName = Annotated[str, Field(pattern=r"^[A-Za-z0-9._~-]{1,64}$")]
QueryValue = Annotated[str, Field(pattern=r"^[A-Za-z0-9._~:-]{0,128}$")]


class Strict(BaseModel):
    """The base of every spec model: unknown keys are errors, values are frozen, and the docstring
    under a field is its description (the JSON Schema's hover help in editors)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=False)


StatusPatterns = Annotated[
    list[StatusPattern], BeforeValidator(_one_or_many, json_schema_input_type=StatusPattern | list[StatusPattern])
]
TransportKinds = Annotated[
    list[TransportKind], BeforeValidator(_one_or_many, json_schema_input_type=TransportKind | list[TransportKind])
]
ParserOutcomes = Annotated[
    list[ParserOutcome], BeforeValidator(_one_or_many, json_schema_input_type=ParserOutcome | list[ParserOutcome])
]
