"""One loaded version of the SavedModel: its signatures and TF Serving's metadata view of it."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.apis import get_model_metadata_pb2

from model.serving import metrics

log = logging.getLogger(__name__)


# Headers are checked before the model runs: what the graph still refuses is a photo whose data
# is broken past its header (the only input a signature here takes).
UNDECODABLE = "a photo could not be decoded: its image data is corrupt or truncated"


class ServingError(Exception):
    """A request the model cannot serve; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: tf.DType
    shape: list[int | None]


class Signature:
    """One callable signature with its input/output specs."""

    def __init__(self, name: str, fn) -> None:
        self.name, self.fn = name, fn
        specs = fn.structured_input_signature[1]
        self.inputs = {k: TensorInfo(k, s.dtype, s.shape.as_list()) for k, s in specs.items()}
        self.outputs = {k: TensorInfo(k, t.dtype, t.shape.as_list())
                        for k, t in fn.structured_outputs.items()}

    def check_names(self, names: Iterable[str]) -> None:
        missing = set(self.inputs) - set(names)
        extra = set(names) - set(self.inputs)
        if missing or extra:
            # Unexpected names come from the client: a few, cut short, are enough to say which.
            unexpected = [n[:40] for n in sorted(extra)[:5]]
            raise ServingError(400, f"signature {self.name!r} takes inputs {sorted(self.inputs)}; "
                                    f"missing {sorted(missing)}, unexpected {unexpected}")

    def convert_inputs(self, inputs: dict[str, object]) -> dict[str, tf.Tensor]:
        """Check names and turn JSON-decoded values into tensors of the declared dtype."""
        self.check_names(inputs)
        tensors = {}
        for key, value in inputs.items():
            info = self.inputs[key]
            try:
                tensor = tf.convert_to_tensor(value, dtype=info.dtype)
            except (TypeError, ValueError, tf.errors.InvalidArgumentError) as exc:
                # TensorFlow's text repeats the values (up to megabytes of them): not for clients.
                raise ServingError(400, f"input {key!r} is not a regular array of "
                                        f"{info.dtype.name}") from exc
            if not tf.TensorShape(info.shape).is_compatible_with(tensor.shape):
                raise ServingError(400, f"input {key!r} has shape {tensor.shape.as_list()}, "
                                        f"expected {info.shape}")
            tensors[key] = tensor
        return tensors

    def __call__(self, inputs: dict[str, tf.Tensor]) -> dict[str, np.ndarray]:
        """Run the model. Its errors become short, fixed messages: TensorFlow's own ("Graph
        execution error: Detected at node ...") describe the graph, not the request."""
        try:
            outputs = self.fn(**inputs)
        except tf.errors.InvalidArgumentError as exc:
            log.info("model refused an input", extra={"signature": self.name,
                                                      "reason": exc.message})
            raise ServingError(400, UNDECODABLE) from exc
        except tf.errors.OpError as exc:
            log.error("model failed", extra={"signature": self.name, "reason": exc.message})
            raise ServingError(500, "the model failed on this request") from exc
        return {k: v.numpy() for k, v in outputs.items()}


def signature_defs(path: Path) -> dict:
    """The SavedModel's ``SignatureDefMap`` as TF Serving writes it in JSON: read from
    ``saved_model.pb`` itself (``__saved_model_init_op`` and the graph's real tensor names
    included), every field printed, proto field names kept."""
    saved = saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes())
    defs = get_model_metadata_pb2.SignatureDefMap(signature_def=saved.meta_graphs[0].signature_def)
    return json_format.MessageToDict(defs, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True)


class Servable:
    """A model name, one loaded version and its signatures, warmed up before it takes traffic."""

    def __init__(self, name: str, path: Path) -> None:
        log.info("loading model", extra={"model": name, "path": str(path)})
        self.name, self.version, self.path = name, int(path.name), path
        self._model = tf.saved_model.load(str(path))
        self.signatures = {k: Signature(k, fn) for k, fn in self._model.signatures.items()}
        self._signature_defs = signature_defs(path)
        self._warm_up(path / "assets.extra" / "tf_serving_warmup_requests")

    def _warm_up(self, records: Path) -> None:
        """Replay the export's warm-up requests, as TF Serving does, before taking traffic."""
        if not records.exists():
            return
        from tensorflow_serving.apis import prediction_log_pb2

        started, status = time.perf_counter(), "OK"
        try:
            for raw in tf.data.TFRecordDataset(str(records)):
                request = prediction_log_pb2.PredictionLog.FromString(
                    raw.numpy()).predict_log.request
                signature = self.signature(request.model_spec.signature_name or None)
                signature({k: tf.constant(tf.make_ndarray(v))
                           for k, v in request.inputs.items()})
        except Exception:
            status = "UNKNOWN"
            raise
        finally:
            metrics.warmup(str(self.path), status, time.perf_counter() - started)
        log.info("warm-up done", extra={"model": self.name, "version": self.version})

    def signature(self, name: str | None) -> Signature:
        """TF Serving answers an unknown signature with FAILED_PRECONDITION: HTTP 400."""
        key = name or "serving_default"
        if key not in self.signatures:
            raise ServingError(400, f"Serving signature name: \"{key[:100]}\" not found in "
                                    f"signature def (have: {sorted(self.signatures)})")
        return self.signatures[key]

    def metadata(self) -> dict:
        """``GetModelMetadata`` over REST: TF Serving writes the ``SignatureDefMap`` under
        ``metadata.signature_def`` as a plain message (no ``Any``, so no ``"@type"``)."""
        return {
            "model_spec": {"name": self.name, "signature_name": "", "version": str(self.version)},
            "metadata": {"signature_def": self._signature_defs},
        }
