"""``TensorProto`` in and out of the gRPC API, as TF Serving reads and writes them.

In: a proto is checked before an array is built from it. ``tf.make_ndarray`` trusts the
proto's shape (one photo under a shape of 500 becomes 500 photos; a ``tensor_content`` of the
wrong length is a numpy exception), so dtype, shape and value count must agree first, and the
photo cap applies before any array exists.

Out: TF Serving answers with ``Tensor::AsProtoField``, every value in the dtype's typed field
(``float_val``, ``int_val``, ``string_val``...), not packed into ``tensor_content``; clients
such as its ``resnet_client_grpc.py`` read ``float_val`` directly.
"""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, types_pb2

from model.serving.limits import Limits
from model.serving.servable import ServingError, TensorInfo

_VALUE_FIELDS = frozenset(f.name for f in tensor_pb2.TensorProto.DESCRIPTOR.fields
                          if f.name.endswith("_val"))
# The repeated field ``AsProtoField`` fills for each dtype (tensorflow/core/framework/tensor.cc).
_TYPED_FIELDS = {
    tf.float32: "float_val", tf.float64: "double_val", tf.int32: "int_val",
    tf.int16: "int_val", tf.int8: "int_val", tf.uint8: "int_val", tf.uint16: "int_val",
    tf.int64: "int64_val", tf.uint32: "uint32_val", tf.uint64: "uint64_val",
    tf.bool: "bool_val", tf.string: "string_val",
}


def _dtype_name(dtype: int) -> str:
    try:
        return types_pb2.DataType.Name(dtype)
    except ValueError:
        return f"unknown dtype {dtype}"


def _value_count(name: str, proto: tensor_pb2.TensorProto, dtype: tf.DType) -> int:
    """How many elements the proto really carries (``tensor_content`` or the ``*_val`` lists)."""
    carried = sum(len(v) for f, v in proto.ListFields() if f.name in _VALUE_FIELDS)
    if dtype.is_complex:
        carried //= 2  # real and imaginary parts are listed one after the other
    content = proto.tensor_content
    if content:
        if dtype == tf.string:
            raise ServingError(400, f"input {name!r}: strings travel in string_val, "
                                    "not tensor_content")
        if len(content) % dtype.size:
            raise ServingError(400, f"input {name!r}: tensor_content is not a whole number of "
                                    f"{dtype.name} values")
        carried += len(content) // dtype.size
    return carried


def to_array(name: str, proto: tensor_pb2.TensorProto, info: TensorInfo,
             limits: Limits) -> np.ndarray:
    """The proto as an array, once its dtype, shape and values agree (``ServingError`` if not)."""
    if proto.dtype != info.dtype.as_datatype_enum:
        raise ServingError(400, f"input {name!r} must be "
                                f"{_dtype_name(info.dtype.as_datatype_enum)}, "
                                f"not {_dtype_name(proto.dtype)}")
    dims = [d.size for d in proto.tensor_shape.dim]
    if proto.tensor_shape.unknown_rank or any(d < 0 for d in dims):
        raise ServingError(400, f"input {name!r} must have a fully known shape")
    if dims:
        limits.check_rows(dims[0])
    declared, carried = math.prod(dims), _value_count(name, proto, info.dtype)
    if carried != declared:
        raise ServingError(400, f"input {name!r} has shape {dims} ({declared} values) but "
                                f"carries {carried}")
    try:
        return tf.make_ndarray(proto)
    except Exception as exc:  # a proto that passed the checks above and still does not parse
        raise ServingError(400, f"input {name!r} is not a valid tensor") from exc


def to_proto(value: np.ndarray, dtype: tf.DType) -> tensor_pb2.TensorProto:
    """An output as TF Serving sends it: ``dtype``, ``tensor_shape`` and every value in the
    dtype's typed field (a dtype without one, say complex, travels in ``tensor_content``)."""
    field = _TYPED_FIELDS.get(dtype)
    if field is None:
        return tf.make_tensor_proto(value, dtype=dtype)
    proto = tensor_pb2.TensorProto(dtype=dtype.as_datatype_enum,
                                   tensor_shape=tf.TensorShape(value.shape).as_proto())
    getattr(proto, field).extend(np.ravel(value).tolist())
    return proto
