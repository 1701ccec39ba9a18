"""TF Serving's gRPC API over the same versions, batcher and limits as REST.

``PredictionService`` (Predict, GetModelMetadata, and Classify/Regress/MultiInference, which
this model's predict-only signatures refuse as TF Serving does) and ``ModelService``
(GetModelStatus) on one server. Status codes follow TF Serving's sources
(``predict_util.cc``, ``get_model_metadata_impl.cc``, ``get_model_status_impl.cc``,
``server_core.cc``); every request is counted in the Prometheus metrics, entrypoint ``GRPC``.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from model.serving import metrics
from model.serving.batching import Batcher
from model.serving.grpc_inference import (
    DEFAULT_SIGNATURE,
    check_inference_task,
    refuse_inference,
)
from model.serving.grpc_status import Refused, grpc_code
from model.serving.grpc_tensors import to_array, to_proto
from model.serving.limits import Limits
from model.serving.servable import Servable, ServingError, Signature
from model.serving.versions import ModelVersions

log = logging.getLogger(__name__)
Answer = TypeVar("Answer", bound=Message)
SIGNATURE_DEF = "signature_def"  # the one metadata field TF Serving knows


def resolve_spec(versions: ModelVersions, spec: model_pb2.ModelSpec) -> Servable:
    """The servable a ``ModelSpec`` names: the latest, its ``version`` or its
    ``version_label`` (NOT_FOUND, or INVALID_ARGUMENT for an unknown label)."""
    choice = spec.WhichOneof("version_choice")
    return versions.resolve(spec.name, spec.version.value if choice == "version" else None,
                            spec.version_label if choice == "version_label" else None)


def resolve(versions: ModelVersions, request: Message) -> Servable:
    """``resolve_spec`` of a request's ``model_spec``, which TF Serving requires."""
    if not request.HasField("model_spec"):
        raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec")
    return resolve_spec(versions, request.model_spec)


def signature_defs(servable: Servable) -> get_model_metadata_pb2.SignatureDefMap:
    """The servable's ``SignatureDefMap`` (read from its ``saved_model.pb``) as a message."""
    return json_format.ParseDict(servable.metadata()["metadata"][SIGNATURE_DEF],
                                 get_model_metadata_pb2.SignatureDefMap())


def output_names(signature: Signature, output_filter: list[str]) -> list[str]:
    """The outputs to answer with: all, or exactly the filter's (TF Serving's checks)."""
    for index, name in enumerate(output_filter):
        if name not in signature.outputs:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                          f"output tensor alias not found in signature: {name[:100]} Outputs "
                          f"expected to be in the set {{{','.join(sorted(signature.outputs))}}}.")
        if name in output_filter[:index]:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                          f"duplicate output tensor alias: {name[:100]}")
    return list(output_filter) or sorted(signature.outputs)


class _Answering:
    """Runs one RPC: its refusal as a gRPC status with a clean message, its metrics."""

    versions: ModelVersions

    async def answer(self, api: str, model: str, context: grpc.aio.ServicerContext,
                     work: Callable[[], Awaitable[Answer]]) -> Answer:
        started, code, message = time.perf_counter(), grpc.StatusCode.OK, ""
        try:
            return await work()
        except Refused as exc:
            code, message = exc.code, exc.message
        except ServingError as exc:
            code, message = grpc_code(exc.status), exc.message
        except asyncio.CancelledError:  # the client went away or its deadline passed
            code = grpc.StatusCode.CANCELLED
            raise
        except Exception:  # gRPC would send the exception's text as the status details
            log.exception("unhandled error", extra={"api": api})
            code, message = grpc.StatusCode.INTERNAL, "internal server error"
        finally:
            # Only this server's model is a label value: client-chosen names would grow the
            # metrics (the REST views count the same way).
            label = model if model == self.versions.name else "<unknown>"
            metrics.observe(api, "GRPC", label, code.name, time.perf_counter() - started)
        await context.abort(code, message)


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer, _Answering):
    def __init__(self, versions: ModelVersions, batcher: Batcher, limits: Limits) -> None:
        self.versions, self.batcher, self.limits = versions, batcher, limits

    async def Predict(self, request: predict_pb2.PredictRequest,
                      context: grpc.aio.ServicerContext) -> predict_pb2.PredictResponse:
        return await self.answer("Predict", request.model_spec.name, context,
                                 lambda: self._predict(request))

    async def _predict(self, request: predict_pb2.PredictRequest) -> predict_pb2.PredictResponse:
        servable = resolve(self.versions, request)
        name = request.model_spec.signature_name or DEFAULT_SIGNATURE
        if name not in servable.signatures:
            raise Refused(grpc.StatusCode.FAILED_PRECONDITION,
                          f'Serving signature key "{name[:100]}" not found.')
        signature = servable.signatures[name]
        signature.check_names(request.inputs)
        arrays = {k: to_array(k, v, signature.inputs[k], self.limits)
                  for k, v in request.inputs.items()}
        wanted = output_names(signature, list(request.output_filter))
        tensors = signature.convert_inputs(arrays)
        self.limits.check(signature, tensors)
        values = await self.batcher.run(signature, tensors)
        response = predict_pb2.PredictResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = servable.version
        response.model_spec.signature_name = name
        for key in wanted:
            response.outputs[key].CopyFrom(to_proto(values[key], signature.outputs[key].dtype))
        return response

    async def GetModelMetadata(
        self, request: get_model_metadata_pb2.GetModelMetadataRequest,
        context: grpc.aio.ServicerContext,
    ) -> get_model_metadata_pb2.GetModelMetadataResponse:
        return await self.answer("GetModelMetadata", request.model_spec.name, context,
                                 lambda: self._metadata(request))

    async def _metadata(self, request: get_model_metadata_pb2.GetModelMetadataRequest
                        ) -> get_model_metadata_pb2.GetModelMetadataResponse:
        if not request.HasField("model_spec"):
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec")
        if not request.metadata_field:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                          "GetModelMetadataRequest must specify at least one metadata_field")
        for field in request.metadata_field:
            if field != SIGNATURE_DEF:
                raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                              f"Metadata field {field[:100]} is not supported")
        servable = resolve(self.versions, request)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = servable.name
        response.model_spec.version.value = servable.version
        response.metadata[SIGNATURE_DEF].Pack(signature_defs(servable))
        return response

    async def Classify(self, request: classification_pb2.ClassificationRequest,
                       context: grpc.aio.ServicerContext) -> NoReturn:
        return await self.answer("Classify", request.model_spec.name, context,
                                 lambda: self._refuse(request, "classify"))

    async def Regress(self, request: regression_pb2.RegressionRequest,
                      context: grpc.aio.ServicerContext) -> NoReturn:
        return await self.answer("Regress", request.model_spec.name, context,
                                 lambda: self._refuse(request, "regress"))

    async def MultiInference(self, request: inference_pb2.MultiInferenceRequest,
                             context: grpc.aio.ServicerContext) -> NoReturn:
        first = request.tasks[0].model_spec if request.tasks else model_pb2.ModelSpec()
        return await self.answer("MultiInference", first.name, context,
                                 lambda: self._refuse_tasks(request, first))

    async def _refuse(self, request: classification_pb2.ClassificationRequest
                      | regression_pb2.RegressionRequest, method: str) -> NoReturn:
        servable = resolve(self.versions, request)
        name = request.model_spec.signature_name or DEFAULT_SIGNATURE
        refuse_inference(signature_defs(servable), name, method)

    async def _refuse_tasks(self, request: inference_pb2.MultiInferenceRequest,
                            first: model_pb2.ModelSpec) -> NoReturn:
        """TF Serving resolves the first task's model, then checks every task in turn."""
        defs = signature_defs(resolve_spec(self.versions, first))
        for task in request.tasks:
            check_inference_task(defs, task)
        raise Refused(grpc.StatusCode.UNIMPLEMENTED, "this server runs predict signatures only")


class ModelService(model_service_pb2_grpc.ModelServiceServicer, _Answering):
    def __init__(self, versions: ModelVersions) -> None:
        self.versions = versions

    async def GetModelStatus(
        self, request: get_model_status_pb2.GetModelStatusRequest,
        context: grpc.aio.ServicerContext,
    ) -> get_model_status_pb2.GetModelStatusResponse:
        return await self.answer("GetModelStatus", request.model_spec.name, context,
                                 lambda: self._status(request))

    async def _status(self, request: get_model_status_pb2.GetModelStatusRequest
                      ) -> get_model_status_pb2.GetModelStatusResponse:
        """Every version seen, or the one asked for; like TF Serving, a ``version_label`` is
        not looked at here."""
        if not request.HasField("model_spec"):
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec")
        spec = request.model_spec
        status = self.versions.status(
            spec.name, spec.version.value if spec.HasField("version") else None)
        return json_format.ParseDict(status, get_model_status_pb2.GetModelStatusResponse())


async def start_grpc(versions: ModelVersions, batcher: Batcher, limits: Limits, host: str,
                     port: int, max_message_bytes: int) -> grpc.aio.Server:
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", max_message_bytes)])
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionService(versions, batcher, limits), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(versions), server)
    server.add_insecure_port(f"{host}:{port}")
    await server.start()
    return server
