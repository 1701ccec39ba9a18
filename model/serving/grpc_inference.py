"""Classify, Regress and MultiInference: TF Serving runs them only on signatures whose
``method_name`` is classify or regress. This model's signatures are all predict ones, so these
calls are refused with TF Serving's codes and checks (``classifier.cc``, ``regressor.cc``,
``multi_inference.cc``): INVALID_ARGUMENT, not UNIMPLEMENTED.
"""
from __future__ import annotations

from typing import NoReturn

import grpc
from tensorflow_serving.apis import get_model_metadata_pb2, inference_pb2

from model.serving.grpc_status import Refused

METHODS = {"classify": "tensorflow/serving/classify", "regress": "tensorflow/serving/regress"}
_KINDS = {"classify": "classification", "regress": "regression"}
DEFAULT_SIGNATURE = "serving_default"


def _invalid(message: str) -> Refused:
    return Refused(grpc.StatusCode.INVALID_ARGUMENT, message)


def _check_method(defs: get_model_metadata_pb2.SignatureDefMap, name: str, method: str) -> None:
    found = defs.signature_def[name].method_name
    if found != METHODS[method]:
        raise _invalid(f"Expected {_KINDS[method]} signature method_name to be "
                       f"{METHODS[method]}. Was: {found}")


def refuse_inference(defs: get_model_metadata_pb2.SignatureDefMap, name: str,
                     method: str) -> NoReturn:
    """Classify or Regress on signature ``name``: INVALID_ARGUMENT for an unknown or predict
    signature; UNIMPLEMENTED should a model ever bring a real classify/regress one."""
    if name not in defs.signature_def:
        raise _invalid(f"No signature was found with the name: {name[:100]}")
    _check_method(defs, name, method)
    raise Refused(grpc.StatusCode.UNIMPLEMENTED, f"{method} signatures are not run here")


def check_inference_task(defs: get_model_metadata_pb2.SignatureDefMap,
                         task: inference_pb2.InferenceTask) -> None:
    """One task of a MultiInference request, checked as TF Serving checks its signature."""
    name = task.model_spec.signature_name or DEFAULT_SIGNATURE
    if name not in defs.signature_def:
        raise _invalid(f"Requested signature not found in model graph: {name[:100]}")
    method = next((m for m, full in METHODS.items() if full == task.method_name), None)
    if method is None:
        raise Refused(grpc.StatusCode.UNIMPLEMENTED,
                      f"Unsupported signature method_name: {task.method_name[:100]}")
    _check_method(defs, name, method)
