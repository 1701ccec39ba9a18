"""TF Serving's gRPC ``PredictionService.Predict`` over the same servable and batcher.

A ``TensorProto`` is checked before an array is built from it: ``tf.make_ndarray`` trusts the
proto's shape (one photo under a shape of 500 becomes 500 photos; a ``tensor_content`` of the
wrong length is a numpy exception), so dtype, shape and value count must agree first, and the
photo cap applies before any array exists.
"""
from __future__ import annotations

import logging
import math

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from model.serving.batching import Batcher
from model.serving.limits import Limits
from model.serving.servable import Servable, ServingError, TensorInfo

log = logging.getLogger(__name__)
_VALUE_FIELDS = frozenset(f.name for f in tensor_pb2.TensorProto.DESCRIPTOR.fields
                          if f.name.endswith("_val"))


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


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, servable: Servable, batcher: Batcher, limits: Limits) -> None:
        self.servable, self.batcher, self.limits = servable, batcher, limits

    async def Predict(
        self, request: predict_pb2.PredictRequest, context: grpc.aio.ServicerContext
    ) -> predict_pb2.PredictResponse:
        try:
            signature, outputs = await self._predict(request)
        except ServingError as exc:
            code = {404: grpc.StatusCode.NOT_FOUND, 500: grpc.StatusCode.INTERNAL}.get(
                exc.status, grpc.StatusCode.INVALID_ARGUMENT)
            await context.abort(code, exc.message)
        except Exception:  # gRPC would send the exception's text as the status details
            log.exception("unhandled error in Predict")
            await context.abort(grpc.StatusCode.INTERNAL, "internal server error")
        response = predict_pb2.PredictResponse()
        response.model_spec.name = self.servable.name
        response.model_spec.version.value = self.servable.version
        response.model_spec.signature_name = signature.name
        for key, value in outputs.items():
            response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
        return response

    async def _predict(self, request: predict_pb2.PredictRequest):
        spec = request.model_spec
        version = str(spec.version.value) if spec.HasField("version") else None
        self.servable.resolve(spec.name, version)
        signature = self.servable.signature(spec.signature_name or None)
        signature.check_names(request.inputs)
        arrays = {k: to_array(k, v, signature.inputs[k], self.limits)
                  for k, v in request.inputs.items()}
        tensors = signature.convert_inputs(arrays)
        self.limits.check(signature, tensors)
        return signature, await self.batcher.run(signature, tensors)


async def start_grpc(servable: Servable, batcher: Batcher, limits: Limits, host: str, port: int,
                     max_message_bytes: int) -> grpc.aio.Server:
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", max_message_bytes)])
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionService(servable, batcher, limits), server)
    server.add_insecure_port(f"{host}:{port}")
    await server.start()
    return server
