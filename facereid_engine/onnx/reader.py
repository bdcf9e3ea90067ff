"""A checked reader of ONNX model files (protobuf wire format), enough to take weights out of one.

Reads ``ModelProto -> GraphProto -> NodeProto / TensorProto / AttributeProto / ValueInfoProto``
as plain Python objects. Every length and offset is bounds-checked; a damaged or foreign file raises
:class:`~facereid_engine.errors.ModelFileError` naming the file and the byte where reading failed.
No code in the file is ever run: tensors become numpy arrays, nothing else.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ModelFileError

# TensorProto.DataType -> numpy dtype (little-endian, as raw_data stores it)
DTYPES: dict[int, str] = {1: "<f4", 2: "u1", 3: "i1", 4: "<u2", 5: "<i2", 6: "<i4", 7: "<i8",
                          9: "?", 10: "<f2", 11: "<f8", 12: "<u4", 13: "<u8"}
_MAX_DEPTH = 32
_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


class _Fail:
    """Makes the error for one file."""

    def __init__(self, path: str):
        self.path = path

    def __call__(self, what: str, pos: int | None = None) -> ModelFileError:
        where = "" if pos is None else f" at byte {pos}"
        return ModelFileError(self.path, f"damaged or unexpected ONNX model file: {what}{where}")


def _fields(data: memoryview, start: int, end: int, fail: _Fail) -> list[tuple[int, int, object, int]]:
    """The fields of one message in ``data[start:end]``: (number, wire type, value, offset of the value)."""
    out = []
    pos = start

    def varint() -> int:
        nonlocal pos
        value = shift = 0
        while True:
            if pos >= end:
                raise fail("varint runs past the end of its message", pos)
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift >= 70:
                raise fail("varint longer than 10 bytes", pos)

    while pos < end:
        key_at = pos
        key = varint()
        number, wire = key >> 3, key & 7
        if number == 0:
            raise fail("field number 0", key_at)
        if wire == _VARINT:
            out.append((number, wire, varint(), pos))
        elif wire == _BYTES:
            n = varint()
            if n > end - pos:
                raise fail(f"field {number} claims {n} bytes, only {end - pos} left", pos)
            out.append((number, wire, (pos, pos + n), pos))
            pos += n
        elif wire in (_FIXED32, _FIXED64):
            n = 4 if wire == _FIXED32 else 8
            if n > end - pos:
                raise fail(f"field {number} runs past the end of its message", pos)
            out.append((number, wire, bytes(data[pos:pos + n]), pos))
            pos += n
        else:
            raise fail(f"unsupported wire type {wire} (field {number})", key_at)
    return out


def _packed_varints(data: memoryview, start: int, end: int, fail: _Fail) -> list[int]:
    out, pos = [], start
    while pos < end:
        value = shift = 0
        while True:
            if pos >= end:
                raise fail("packed varint runs past its field", pos)
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
            shift += 7
            if shift >= 70:
                raise fail("varint longer than 10 bytes", pos)
        out.append(value)
    return out


class _Message:
    """The fields of one message, grouped by number, with typed accessors."""

    def __init__(self, data: memoryview, span: tuple[int, int], fail: _Fail, depth: int = 0):
        if depth > _MAX_DEPTH:
            raise fail("messages nested too deeply", span[0])
        self.data, self.fail, self.depth, self.start = data, fail, depth, span[0]
        self.by_number: dict[int, list[tuple[int, object, int]]] = {}
        for number, wire, value, at in _fields(data, span[0], span[1], fail):
            self.by_number.setdefault(number, []).append((wire, value, at))

    def _all(self, number: int, wire: int, what: str) -> list:
        values = []
        for w, value, at in self.by_number.get(number, []):
            if w != wire:
                raise self.fail(f"{what}: wire type {w}, expected {wire}", at)
            values.append(value)
        return values

    def messages(self, number: int, what: str) -> list["_Message"]:
        return [_Message(self.data, span, self.fail, self.depth + 1) for span in self._all(number, _BYTES, what)]

    def message(self, number: int, what: str) -> "_Message | None":
        found = self.messages(number, what)
        return found[-1] if found else None

    def raw(self, number: int, what: str) -> bytes | None:
        spans = self._all(number, _BYTES, what)
        return bytes(self.data[spans[-1][0]:spans[-1][1]]) if spans else None

    def strings(self, number: int, what: str) -> list[str]:
        out = []
        for a, b in self._all(number, _BYTES, what):
            try:
                out.append(bytes(self.data[a:b]).decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise self.fail(f"{what} is not UTF-8", a) from exc
        return out

    def string(self, number: int, what: str, default: str = "") -> str:
        found = self.strings(number, what)
        return found[-1] if found else default

    def int(self, number: int, what: str, default: int = 0) -> int:
        found = self.ints(number, what)
        return found[-1] if found else default

    def ints(self, number: int, what: str) -> list[int]:
        """A repeated int64 field, packed or not (two's complement for negative values)."""
        out = []
        for wire, value, at in self.by_number.get(number, []):
            if wire == _VARINT:
                out.append(value)
            elif wire == _BYTES:
                out.extend(_packed_varints(self.data, value[0], value[1], self.fail))
            else:
                raise self.fail(f"{what}: wire type {wire} for an integer", at)
        return [v - (1 << 64) if v >= 1 << 63 else v for v in out]

    def floats(self, number: int, what: str, wire_fixed: int = _FIXED32) -> np.ndarray:
        """A repeated float (fixed32) or double (fixed64) field, packed or not."""
        size, fmt = (4, "<f4") if wire_fixed == _FIXED32 else (8, "<f8")
        chunks = []
        for wire, value, at in self.by_number.get(number, []):
            if wire == wire_fixed:
                chunks.append(value)
            elif wire == _BYTES:
                a, b = value
                if (b - a) % size:
                    raise self.fail(f"{what}: packed length {b - a} is not a multiple of {size}", a)
                chunks.append(bytes(self.data[a:b]))
            else:
                raise self.fail(f"{what}: wire type {wire} for a float", at)
        return np.frombuffer(b"".join(chunks), dtype=fmt)


@dataclass
class Tensor:
    name: str
    array: np.ndarray


@dataclass
class Node:
    op_type: str
    inputs: list[str]
    outputs: list[str]
    attributes: dict[str, object]
    name: str = ""
    domain: str = ""


@dataclass
class ValueInfo:
    name: str
    elem_type: int
    shape: list[int | str]  # an int per fixed dimension, the parameter's name (or "") otherwise


@dataclass
class Graph:
    nodes: list[Node]
    initializers: dict[str, np.ndarray]
    inputs: list[ValueInfo]
    outputs: list[ValueInfo]
    name: str = ""


@dataclass
class Model:
    path: str
    ir_version: int
    opsets: dict[str, int]
    graph: Graph
    producer: str = ""
    extra: dict = field(default_factory=dict)


def _tensor(msg: _Message) -> Tensor:
    fail = msg.fail
    name = msg.string(8, "tensor name")
    dims = msg.ints(1, f"dims of tensor {name!r}")
    dtype_code = msg.int(2, f"data type of tensor {name!r}")
    if dtype_code not in DTYPES:
        raise fail(f"tensor {name!r} has unsupported data type {dtype_code}", msg.start)
    if msg.int(14, "data location") == 1 or msg.by_number.get(13):
        raise fail(f"tensor {name!r} keeps its data in an external file, which we do not read", msg.start)
    if any(d < 0 for d in dims):
        raise fail(f"tensor {name!r} has a negative dimension {dims}", msg.start)
    count = int(np.prod(dims, dtype=np.int64)) if dims else 1
    dtype = np.dtype(DTYPES[dtype_code])
    raw = msg.raw(9, f"raw data of tensor {name!r}")
    if raw is not None:
        if len(raw) != count * dtype.itemsize:
            raise fail(f"tensor {name!r}: {len(raw)} bytes of data for shape {dims} of {dtype}", msg.start)
        flat = np.frombuffer(raw, dtype=dtype)
    elif dtype_code == 1:
        flat = msg.floats(4, f"float data of tensor {name!r}")
    elif dtype_code == 11:
        flat = msg.floats(10, f"double data of tensor {name!r}", wire_fixed=_FIXED64)
    elif dtype_code in (7, 13):
        flat = np.asarray(msg.ints(7 if dtype_code == 7 else 11, f"int64 data of tensor {name!r}"), dtype=np.int64)
    elif dtype_code == 10:  # float16 bits in int32_data
        flat = np.asarray(msg.ints(5, f"int32 data of tensor {name!r}"), dtype=np.int64).astype("<u2").view("<f2")
    else:  # bool, (u)int8/16/32 in int32_data
        flat = np.asarray(msg.ints(5, f"int32 data of tensor {name!r}"), dtype=np.int64)
    if flat.size != count:
        raise fail(f"tensor {name!r}: {flat.size} values for shape {dims}", msg.start)
    return Tensor(name, flat.astype(dtype.newbyteorder("="), copy=True).reshape(dims))


def _attribute(msg: _Message) -> tuple[str, object]:
    name = msg.string(1, "attribute name")
    kind = msg.int(20, f"type of attribute {name!r}")
    what = f"attribute {name!r}"
    if kind == 1:  # FLOAT
        values = msg.floats(2, what)
        return name, float(values[-1]) if values.size else 0.0
    if kind == 2:
        return name, msg.int(3, what)
    if kind == 3:
        return name, msg.raw(4, what) or b""
    if kind == 4:
        tensor = msg.message(5, what)
        return name, None if tensor is None else _tensor(tensor).array
    if kind == 6:
        return name, [float(v) for v in msg.floats(7, what)]
    if kind == 7:
        return name, msg.ints(8, what)
    if kind == 8:
        return name, [msg.data[a:b].tobytes() for a, b in msg._all(9, _BYTES, what)]
    raise msg.fail(f"{what} has unsupported type {kind}", msg.start)


def _node(msg: _Message) -> Node:
    op_type = msg.string(4, "node op_type")
    if not op_type:
        raise msg.fail("a node without op_type", msg.start)
    attributes = dict(_attribute(a) for a in msg.messages(5, f"attributes of a {op_type} node"))
    return Node(op_type, msg.strings(1, "node inputs"), msg.strings(2, "node outputs"), attributes,
                msg.string(3, "node name"), msg.string(7, "node domain"))


def _value_info(msg: _Message) -> ValueInfo:
    name = msg.string(1, "value name")
    elem_type, shape = 0, []
    type_proto = msg.message(2, f"type of {name!r}")
    tensor_type = type_proto.message(1, f"tensor type of {name!r}") if type_proto else None
    if tensor_type is not None:
        elem_type = tensor_type.int(1, f"element type of {name!r}")
        shape_msg = tensor_type.message(2, f"shape of {name!r}")
        for dim in shape_msg.messages(1, f"dimensions of {name!r}") if shape_msg else []:
            shape.append(dim.int(1, "dim_value") if 1 in dim.by_number else dim.string(2, "dim_param"))
    return ValueInfo(name, elem_type, shape)


def parse_model(data: bytes, path: str | os.PathLike = "<bytes>") -> Model:
    """Parse the bytes of an ONNX file into a :class:`Model`; :class:`ModelFileError` if damaged."""
    fail = _Fail(os.fspath(path))
    view = memoryview(data)
    try:
        model = _Message(view, (0, len(view)), fail)
        graph_msg = model.message(7, "graph")
        if graph_msg is None:
            raise fail("no graph (not an ONNX model?)")
        opsets = {}
        for opset in model.messages(8, "opset_import"):
            opsets[opset.string(1, "opset domain")] = opset.int(2, "opset version")
        initializers: dict[str, np.ndarray] = {}
        for t in graph_msg.messages(5, "initializer"):
            tensor = _tensor(t)
            initializers[tensor.name] = tensor.array
        graph = Graph(
            nodes=[_node(n) for n in graph_msg.messages(1, "node")],
            initializers=initializers,
            inputs=[_value_info(v) for v in graph_msg.messages(11, "graph input")],
            outputs=[_value_info(v) for v in graph_msg.messages(12, "graph output")],
            name=graph_msg.string(2, "graph name"),
        )
        ir_version = model.int(1, "ir_version")
        producer = model.string(2, "producer name")
    except (ValueError, struct.error, OverflowError) as exc:  # numpy/struct complaints on odd data
        raise fail(str(exc)) from exc
    if not graph.nodes or ir_version <= 0:
        raise fail(f"no nodes or no IR version (ir_version={ir_version})")
    return Model(os.fspath(path), ir_version, opsets, graph, producer)


def read_model(path: str | os.PathLike, data: bytes | None = None) -> Model:
    """Read and parse an ONNX file (``data``: its bytes, when already read)."""
    if data is None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ModelFileError(path, f"cannot read model file ({exc.strerror or exc})") from exc
    return parse_model(data, path)
