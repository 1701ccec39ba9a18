"""TF Serving's gRPC ``PredictionService.Predict`` over the same servable and batcher."""
from __future__ import annotations

import grpc
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from model.serving.batching import Batcher
from model.serving.servable import Servable, ServingError


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, servable: Servable, batcher: Batcher) -> None:
        self.servable, self.batcher = servable, batcher

    async def Predict(
        self, request: predict_pb2.PredictRequest, context: grpc.aio.ServicerContext
    ) -> predict_pb2.PredictResponse:
        spec = request.model_spec
        try:
            version = str(spec.version.value) if spec.HasField("version") else None
            self.servable.resolve(spec.name, version)
            signature = self.servable.signature(spec.signature_name or None)
            inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
            outputs = await self.batcher.run(signature, signature.convert_inputs(inputs))
        except ServingError as exc:
            code = (grpc.StatusCode.NOT_FOUND if exc.status == 404
                    else grpc.StatusCode.INVALID_ARGUMENT)
            await context.abort(code, exc.message)
        response = predict_pb2.PredictResponse()
        response.model_spec.name = self.servable.name
        response.model_spec.version.value = self.servable.version
        response.model_spec.signature_name = signature.name
        for key, value in outputs.items():
            response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
        return response


async def start_grpc(servable: Servable, batcher: Batcher, host: str, port: int) -> grpc.aio.Server:
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)])
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionService(servable, batcher), server)
    server.add_insecure_port(f"{host}:{port}")
    await server.start()
    return server
