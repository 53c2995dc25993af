"""Server JSON is read with a bound on nesting, so a hostile depth is data, never a RecursionError."""

import pytest

from engine.core.jsontext import MAX_DEPTH, TooDeep, loads_bounded, nesting_depth
from engine.run.stream import StreamState


def test_depth_is_counted_without_recursion():
    assert nesting_depth(1) == 0 and nesting_depth({"a": [1, {"b": []}]}) == 4
    assert nesting_depth(loads_bounded("[" * 500 + "]" * 500, max_depth=10_000)) == 500


def test_a_document_deeper_than_the_bound_is_refused_as_a_value_error():
    assert loads_bounded("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(TooDeep):
        loads_bounded("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    with pytest.raises(ValueError, match="too deeply"):
        loads_bounded("[" * 200_000 + "]" * 200_000)  # past the decoder's own recursion limit


def test_a_deep_stream_event_makes_the_stream_malformed():
    state = StreamState()
    deep = '{"choices": [{"delta": {"content": ' + "[" * 900 + "]" * 900 + "}}]}"
    state.feed(f"data: {deep}\n\n".encode(), 0.0)
    state.close(0.1)
    assert state.malformed == f"event 1 nests deeper than {MAX_DEPTH} levels"


@pytest.mark.parametrize(
    "text", ['{"a": [1, 2]}', ' {"a": 1} ', "[1]", '"x"', "3", "NaN", '{"a": "{{{{"}', b'{"b": 1}']
)
def test_the_fast_scan_reads_what_json_loads_reads(text):
    import json
    import math

    got, expected = loads_bounded(text), json.loads(text)
    assert got == expected or (isinstance(got, float) and math.isnan(got) and math.isnan(expected))


@pytest.mark.parametrize("text", ['{"a":1}x', "{", '{"a":}', "[1,]", "", '{"a":1} {"b":2}'])
def test_the_fast_scan_refuses_what_json_loads_refuses(text):
    with pytest.raises(ValueError):
        loads_bounded(text)


def test_a_deep_document_is_still_refused_although_brackets_are_counted_first():
    with pytest.raises(TooDeep):
        loads_bounded("[" * 70 + "]" * 70)
    assert loads_bounded('["' + "[" * 500 + '"]') == ["[" * 500]  # brackets inside a string: walked, fine
