"""The data-only frame codec shared by the runner (untrusted) and the harness (trusted).

A frame is ``4-byte big-endian header length | JSON header | payload``; the header says how
many payload bytes follow (``"payload": n``).  Values are plain data: JSON scalars, lists,
string-keyed dicts and NumPy arrays.  Arrays travel as ``.npy`` blobs concatenated in the
payload, referenced from the JSON as ``{"__ndarray__": i}`` and loaded with
``allow_pickle=False``.  Nothing is ever pickled, and every size is capped, so a hostile peer
can only ever produce a :class:`FrameError`.

Standard library and NumPy only: this file is copied into the sandbox.
"""

import io
import json
import math
import struct

import numpy as np

DEFAULT_MAX_FRAME = 64 * 1024 * 1024
MAX_HEADER = 1024 * 1024
_LEN = struct.Struct(">I")
_ARRAY_KEY = "__ndarray__"
# bool, signed/unsigned int, float, complex, bytes, unicode: never object or void dtypes.
_ARRAY_KINDS = frozenset("biufcSU")


class FrameError(ValueError):
    """The byte stream is not a valid frame (oversized, truncated, malformed)."""


class NotPlainData(TypeError):
    """A value cannot cross the wire because it is not plain data."""


def encode_frame(header, payload=b"", max_frame=DEFAULT_MAX_FRAME):
    """Serialise one frame; ``header`` must be a JSON-able dict without a "payload" key."""
    head = dict(header)
    head["payload"] = len(payload)
    raw = json.dumps(head, separators=(",", ":"), allow_nan=False).encode("utf-8")
    if len(raw) > MAX_HEADER:
        raise FrameError(f"header of {len(raw)} bytes exceeds the cap of {MAX_HEADER}")
    if _LEN.size + len(raw) + len(payload) > max_frame:
        raise FrameError(f"frame of {len(raw) + len(payload)} bytes exceeds the cap of {max_frame}")
    return _LEN.pack(len(raw)) + raw + bytes(payload)


def parse_header(raw):
    """Decode and validate a header; returns the dict (always with an int ``payload``)."""
    try:
        head = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FrameError(f"malformed frame header: {exc}") from None
    if not isinstance(head, dict):
        raise FrameError("frame header is not a JSON object")
    size = head.get("payload")
    if type(size) is not int or size < 0:
        raise FrameError(f"frame header has no valid payload length: {size!r}")
    return head


class FrameDecoder:
    """Incremental decoder: feed it bytes as they arrive, take complete frames out.

    Incremental so that the trusted side can read with a deadline and never blocks on a
    half-written frame.  Once it has raised a :class:`FrameError` the stream is unusable.
    """

    def __init__(self, max_frame=DEFAULT_MAX_FRAME):
        self.max_frame = max_frame
        self._buf = bytearray()
        self._head = None

    @property
    def pending(self):
        """Bytes received that do not yet form a whole frame."""
        return len(self._buf) + (0 if self._head is None else 1)

    def feed(self, data):
        """Add bytes; return the list of ``(header, payload)`` frames now complete."""
        self._buf += data
        frames = []
        while True:
            frame = self._next()
            if frame is None:
                return frames
            frames.append(frame)

    def _next(self):
        if self._head is None:
            if len(self._buf) < _LEN.size:
                return None
            (hlen,) = _LEN.unpack_from(self._buf)
            if hlen > MAX_HEADER:
                raise FrameError(f"frame header of {hlen} bytes exceeds the cap of {MAX_HEADER}")
            if len(self._buf) < _LEN.size + hlen:
                return None
            head = parse_header(bytes(self._buf[_LEN.size:_LEN.size + hlen]))
            if _LEN.size + hlen + head["payload"] > self.max_frame:
                raise FrameError(
                    f"frame of {hlen + head['payload']} bytes exceeds the cap of {self.max_frame}")
            del self._buf[:_LEN.size + hlen]
            self._head = head
        size = self._head["payload"]
        if len(self._buf) < size:
            return None
        payload = bytes(self._buf[:size])
        del self._buf[:size]
        head, self._head = self._head, None
        return head, payload

    def finish(self):
        """Call at end of stream: raises if a frame was cut off part-way."""
        if self.pending:
            raise FrameError(f"stream ended inside a frame ({self.pending} bytes pending)")


def read_frame(stream, max_frame=DEFAULT_MAX_FRAME):
    """Blocking read of one frame from a binary stream; ``None`` at a clean end of stream."""
    prefix = _read_exact(stream, _LEN.size, allow_eof=True)
    if prefix is None:
        return None
    (hlen,) = _LEN.unpack(prefix)
    if hlen > MAX_HEADER:
        raise FrameError(f"frame header of {hlen} bytes exceeds the cap of {MAX_HEADER}")
    head = parse_header(_read_exact(stream, hlen))
    if _LEN.size + hlen + head["payload"] > max_frame:
        raise FrameError(f"frame of {hlen + head['payload']} bytes exceeds the cap of {max_frame}")
    return head, _read_exact(stream, head["payload"])


def _read_exact(stream, n, allow_eof=False):
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            if allow_eof and got == 0:
                return None
            raise FrameError(f"stream ended inside a frame ({got} of {n} bytes)")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def pack_value(value, convert=None):
    """Turn plain data into ``(json_obj, payload)``; raise :class:`NotPlainData` otherwise.

    ``convert`` may map an otherwise refused object to plain data (the runner uses it for
    Tensors).  Types are checked exactly (``type(x) is int``), so subclasses that lie about
    themselves through ``__class__`` or ``__eq__`` are refused.
    """
    blobs = []

    def walk(obj, depth):
        if depth > 64:
            raise NotPlainData("value is nested more than 64 levels deep")
        kind = type(obj)
        if obj is None or kind in (bool, int, str):
            return obj
        if kind is float:
            return obj if math.isfinite(obj) else {"__float__": repr(obj)}
        if kind in (list, tuple):
            return [walk(item, depth + 1) for item in obj]
        if kind is dict:
            if not all(type(k) is str for k in obj):
                raise NotPlainData("dict keys must be strings")
            return {k: walk(v, depth + 1) for k, v in obj.items()}
        if isinstance(obj, np.generic) and kind.__module__ == "numpy":
            return walk(obj.item(), depth + 1)
        if kind is np.ndarray:
            if obj.dtype.kind not in _ARRAY_KINDS:
                raise NotPlainData(f"arrays of dtype {obj.dtype} cannot be sent")
            buf = io.BytesIO()
            np.save(buf, obj, allow_pickle=False)
            blobs.append(buf.getvalue())
            return {_ARRAY_KEY: len(blobs) - 1}
        if convert is not None:
            converted = convert(obj)
            if converted is not obj:
                return walk(converted, depth + 1)
        raise NotPlainData(f"values of type {kind.__qualname__} cannot be sent, only plain data")

    obj = walk(value, 0)
    return {"value": obj, "arrays": [len(b) for b in blobs]}, b"".join(blobs)


def unpack_value(head, payload):
    """Inverse of :func:`pack_value` on the header fields and payload; raises FrameError."""
    sizes = head.get("arrays", [])
    if type(sizes) is not list or not all(type(s) is int and s >= 0 for s in sizes):
        raise FrameError("frame has an invalid array table")
    if sum(sizes) != len(payload):
        raise FrameError(f"array table says {sum(sizes)} bytes, payload has {len(payload)}")
    arrays, offset = [], 0
    for size in sizes:
        arrays.append(_load_array(payload[offset:offset + size]))
        offset += size

    def walk(obj, depth):
        if depth > 66:
            raise FrameError("value nested too deeply")
        if type(obj) is list:
            return [walk(item, depth + 1) for item in obj]
        if type(obj) is dict:
            if set(obj) == {_ARRAY_KEY}:
                index = obj[_ARRAY_KEY]
                if type(index) is not int or not 0 <= index < len(arrays):
                    raise FrameError(f"array reference {index!r} out of range")
                return arrays[index]
            if set(obj) == {"__float__"} and obj["__float__"] in ("nan", "inf", "-inf"):
                return float(obj["__float__"])
            return {k: walk(v, depth + 1) for k, v in obj.items()}
        return obj

    return walk(head.get("value"), 0)


def _load_array(blob):
    """Load one ``.npy`` blob, checking its declared size first so a lying header cannot
    make us allocate more than the frame actually carries (never unpickles)."""
    fp = io.BytesIO(blob)
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except Exception as exc:  # numpy raises many types on garbage; all mean "bad frame"
        raise FrameError(f"malformed array in frame: {type(exc).__name__}: {exc}") from None
    if dtype.hasobject or dtype.kind not in _ARRAY_KINDS or dtype.itemsize == 0:
        raise FrameError(f"frame carries an array of refused dtype {dtype}")
    if any(dim < 0 for dim in shape):
        raise FrameError(f"array header has a negative dimension: {shape}")
    count = math.prod(shape)
    if fp.tell() + count * dtype.itemsize != len(blob):
        raise FrameError(f"array header says shape {shape} of {dtype}, "
                         f"but the blob has {len(blob) - fp.tell()} data bytes")
    flat = np.frombuffer(blob, dtype=dtype, count=count, offset=fp.tell())
    return flat.reshape(shape, order="F" if fortran else "C").copy()
