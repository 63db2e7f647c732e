"""The frame codec: round trips, refusals, and fuzzing with hostile bytes."""

import io
import json
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox import wire


def frame_bytes(header_obj, payload=b""):
    raw = json.dumps(header_obj).encode()
    return struct.pack(">I", len(raw)) + raw + payload


def decode_one(data, max_frame=wire.DEFAULT_MAX_FRAME):
    decoder = wire.FrameDecoder(max_frame)
    frames = decoder.feed(data)
    decoder.finish()
    assert len(frames) == 1
    return frames[0]


def test_round_trip_of_plain_data_and_arrays():
    value = {"n": [1, 2.5, None, True, "x"], "a": np.arange(6, dtype=np.float32).reshape(2, 3),
             "f": np.asfortranarray(np.eye(3)), "i": np.array([1, 2], dtype=np.int64),
             "inf": float("inf"), "scalar": np.float32(1.5)}
    meta, blob = wire.pack_value(value)
    head, payload = decode_one(wire.encode_frame({"ok": True, **meta}, blob))
    out = wire.unpack_value(head, payload)
    assert out["n"] == [1, 2.5, None, True, "x"] and out["inf"] == float("inf")
    assert out["a"].dtype == np.float32 and np.array_equal(out["a"], value["a"])
    assert np.array_equal(out["f"], np.eye(3)) and out["i"].dtype == np.int64
    assert out["scalar"] == 1.5 and type(out["scalar"]) is float


def test_frames_split_at_every_byte_boundary_decode_the_same():
    data = wire.encode_frame({"op": "x"}, b"abc") + wire.encode_frame({"op": "y"})
    decoder = wire.FrameDecoder()
    frames = [f for i in range(len(data)) for f in decoder.feed(data[i:i + 1])]
    assert [(h["op"], p) for h, p in frames] == [("x", b"abc"), ("y", b"")]


class LyingInt(int):
    def __eq__(self, other):
        return True


class ClaimsToBeAnArray:
    __class__ = property(lambda self: np.ndarray)

    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value", [object(), LyingInt(3), ClaimsToBeAnArray(),
                                   np.array([object()]), np.ma.masked_array([1.0]),
                                   {1: "non-string key"}, b"bytes"])
def test_values_that_are_not_plain_data_are_refused(value):
    with pytest.raises(wire.NotPlainData):
        wire.pack_value(value)


def npy_blob(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def lying_npy(shape_text, data=b"\0" * 8, descr="'<f8'"):
    header = f"{{'descr': {descr}, 'fortran_order': False, 'shape': {shape_text}, }}"
    header = header.ljust(118) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data


@pytest.mark.parametrize("blob, reason", [
    (lying_npy("(10000000000,)"), "blob has 8 data bytes"),      # would allocate 80 GB
    (lying_npy("(-1, -1)"), "negative dimension"),
    (lying_npy("(1,)", descr="'|O'"), "refused dtype"),          # would need pickle
    (b"not an npy file at all", "malformed array"),
    (npy_blob(np.arange(3))[:-4], "data bytes"),                 # truncated data
])
def test_hostile_array_blobs_give_a_frame_error(blob, reason):
    head = {"value": {"__ndarray__": 0}, "arrays": [len(blob)], "payload": len(blob)}
    with pytest.raises(wire.FrameError, match=reason):
        wire.unpack_value(head, blob)


@pytest.mark.parametrize("data, reason", [
    (struct.pack(">I", 0xFFFFFFFF), "exceeds the cap"),
    (frame_bytes({"payload": 2 ** 40}), "exceeds the cap"),
    (frame_bytes({"payload": -1}), "no valid payload length"),
    (frame_bytes({"payload": "7"}), "no valid payload length"),
    (frame_bytes([1, 2]), "not a JSON object"),
    (struct.pack(">I", 5) + b"{nope", "malformed frame header"),
    (struct.pack(">I", 4) + b"\xff\xfe{}", "malformed frame header"),
    (struct.pack(">I", 10000) + b"[" * 10000, "malformed frame header"),   # deep nesting
])
def test_hostile_frames_give_a_clear_frame_error(data, reason):
    with pytest.raises(wire.FrameError, match=reason):
        wire.FrameDecoder(max_frame=1 << 20).feed(data)


def test_truncated_stream_is_reported_at_the_end():
    data = wire.encode_frame({"op": "x"}, b"0123456789")[:-3]
    decoder = wire.FrameDecoder()
    assert decoder.feed(data) == []
    with pytest.raises(wire.FrameError, match="stream ended inside a frame"):
        decoder.finish()
    with pytest.raises(wire.FrameError, match="stream ended inside a frame"):
        wire.read_frame(io.BytesIO(data))


def test_array_references_out_of_range_or_wrong_table_are_refused():
    with pytest.raises(wire.FrameError, match="out of range"):
        wire.unpack_value({"value": {"__ndarray__": 3}, "arrays": []}, b"")
    with pytest.raises(wire.FrameError, match="array table"):
        wire.unpack_value({"value": 1, "arrays": [10]}, b"short")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048), st.integers(1, 64))
def test_fuzz_any_bytes_give_frames_or_a_frame_error(data, chunk):
    decoder = wire.FrameDecoder(max_frame=4096)
    try:
        for i in range(0, len(data), chunk):
            for head, payload in decoder.feed(data[i:i + chunk]):
                assert isinstance(head, dict) and type(head["payload"]) is int
                wire.unpack_value(head, payload)
        decoder.finish()
    except wire.FrameError:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(json_values, json_values, st.binary(max_size=300))
def test_fuzz_well_framed_but_hostile_headers_and_payloads(value, arrays, payload):
    frame = frame_bytes({"payload": len(payload), "value": value, "arrays": arrays}, payload)
    try:
        head, body = decode_one(frame)
        wire.unpack_value(head, body)
    except wire.FrameError:
        pass
