import pytest

from engine.run.sse import Event, SSEParser


def parse(*chunks: bytes) -> tuple[list[Event], SSEParser]:
    parser = SSEParser()
    events = [e for chunk in chunks for e in parser.feed(chunk)]
    return events + parser.close(), parser


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending(ending):
    events, _ = parse(b"data: a" + ending + ending + b"data: b" + ending + ending)
    assert [e.data for e in events] == ["a", "b"]


def test_crlf_split_across_chunks_is_one_line_end():
    events, _ = parse(b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n")
    assert [e.data for e in events] == ["a", "b"]


def test_one_leading_bom_is_stripped_once():
    events, _ = parse(b"\xef\xbb\xbfdata: a\n\n", b"\xef\xbb\xbfdata: b\n\n")
    assert [e.data for e in events] == ["a"]  # the second BOM makes an unknown field name: ignored


def test_comments_are_keep_alives():
    events, parser = parse(b": ping\n\n: ping\ndata: x\n\n")
    assert [e.data for e in events] == ["x"] and parser.comments == 2


def test_multi_line_data_joins_with_newlines_and_one_space_is_dropped():
    events, _ = parse(b"data:  two spaces\ndata:none\ndata\n\n")
    assert events == [Event(data=" two spaces\nnone\n")]


def test_an_event_without_data_is_not_dispatched():
    events, _ = parse(b"event: ping\n\ndata: x\n\n")
    assert events == [Event(data="x")]


def test_event_and_id_fields():
    events, _ = parse(b"event: error\nid: 7\ndata: {}\n\n")
    assert events == [Event(data="{}", event="error", id="7")]


def test_an_unterminated_last_event_is_discarded():
    events, parser = parse(b"data: a\n\ndata: b")
    assert [e.data for e in events] == ["a"] and parser.discarded_at_end


def test_a_multibyte_character_split_across_chunks():
    text = "data: héllo\n\n".encode()
    split = text.index("é".encode()) + 1
    events, _ = parse(text[:split], text[split:])
    assert events == [Event(data="héllo")]


def test_byte_by_byte_feeding_gives_the_same_events():
    stream = b'\xef\xbb\xbf: ka\r\ndata: {"a":1}\r\n\r\ndata: x\rdata: y\r\r'
    whole, _ = parse(stream)
    pieces, _ = parse(*[stream[i : i + 1] for i in range(len(stream))])
    assert whole == pieces == [Event(data='{"a":1}'), Event(data="x\ny")]


def test_a_line_with_no_break_is_dropped_at_the_cap_not_buffered():
    from engine.run.sse import MAX_LINE

    parser = SSEParser()
    piece = b"x" * 65_536
    for _ in range(3 * MAX_LINE // len(piece)):  # three caps' worth of one line
        assert parser.feed(piece) == []
        assert sum(map(len, parser._line)) <= MAX_LINE  # never more than one cap held
    events = parser.feed(b'\ndata: {"ok": 1}\n\n')
    assert parser.overlong == 1 and [e.data for e in events] == ['{"ok": 1}']


def test_an_event_whose_data_grows_past_the_cap_is_dropped():
    from engine.run.sse import MAX_EVENT

    parser = SSEParser()
    line = b"data: " + b"y" * 60_000 + b"\n"
    for _ in range(MAX_EVENT // 60_000 + 2):
        parser.feed(line)
    assert sum(map(len, parser._data)) <= MAX_EVENT
    assert parser.feed(b"\n") == [] and parser.overlong == 1
    assert [e.data for e in parser.feed(b"data: next\n\n")] == ["next"]


def test_an_overlong_line_makes_the_stream_malformed():
    from engine.run.stream import StreamState

    state = StreamState()
    state.feed(b"data: " + b"z" * (1 << 21) + b"\n\n", 0.0)
    state.close(0.1)
    assert state.malformed and state.malformed.startswith("a line or event longer than")
