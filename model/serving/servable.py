"""The loaded SavedModel: its signatures, TF Serving's status and metadata views of it.

Like TF Serving's default version policy, only the latest numeric version directory under
the base path is loaded and served.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2

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

    def as_json(self, graph_name: str) -> dict:
        dims = [{"size": str(-1 if d is None else d), "name": ""} for d in self.shape]
        return {
            "dtype": types_pb2.DataType.Name(self.dtype.as_datatype_enum),
            "tensor_shape": {"dim": dims, "unknown_rank": False},
            "name": graph_name,
        }


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

    def metadata(self) -> dict:
        return {
            "inputs": {k: v.as_json(f"{self.name}_{k}:0") for k, v in self.inputs.items()},
            "outputs": {k: v.as_json(f"StatefulPartitionedCall:{i}")
                        for i, (k, v) in enumerate(sorted(self.outputs.items()))},
            "method_name": "tensorflow/serving/predict",
            "defaults": {},
        }


def latest_version(base_path: Path) -> Path:
    versions = [p for p in Path(base_path).iterdir() if p.is_dir() and p.name.isdigit()]
    if not versions:
        raise FileNotFoundError(f"no numeric version directory under {base_path}")
    return max(versions, key=lambda p: int(p.name))


class Servable:
    """A model name, its loaded version and signatures."""

    def __init__(self, name: str, base_path: Path) -> None:
        path = latest_version(base_path)
        log.info("loading model", extra={"model": name, "path": str(path)})
        self.name, self.version = name, int(path.name)
        self._model = tf.saved_model.load(str(path))
        self.signatures = {k: Signature(k, fn) for k, fn in self._model.signatures.items()}
        self._warm_up(path / "assets.extra" / "tf_serving_warmup_requests")

    def _warm_up(self, records: Path) -> None:
        """Replay the export's warm-up requests, as TF Serving does, before taking traffic."""
        if not records.exists():
            return
        from tensorflow_serving.apis import prediction_log_pb2

        for raw in tf.data.TFRecordDataset(str(records)):
            request = prediction_log_pb2.PredictionLog.FromString(raw.numpy()).predict_log.request
            signature = self.signature(request.model_spec.signature_name or None)
            signature({k: tf.constant(tf.make_ndarray(v))
                       for k, v in request.inputs.items()})
        log.info("warm-up done", extra={"model": self.name, "version": self.version})

    def resolve(self, name: str, version: str | None) -> None:
        """Raise 404 unless (name, version) is what this server serves (TF Serving's wording)."""
        if name != self.name or (version is not None and int(version) != self.version):
            request = f"Specific({name}, {version})" if version else f"Latest({name})"
            raise ServingError(404, f"Servable not found for request: {request}")

    def signature(self, name: str | None) -> Signature:
        key = name or "serving_default"
        if key not in self.signatures:
            raise ServingError(404, f"Serving signature name: \"{key[:100]}\" not found in "
                                    f"signature def (have: {sorted(self.signatures)})")
        return self.signatures[key]

    def status(self) -> dict:
        return {"model_version_status": [{
            "version": str(self.version), "state": "AVAILABLE",
            "status": {"error_code": "OK", "error_message": ""},
        }]}

    def metadata(self) -> dict:
        return {
            "model_spec": {"name": self.name, "signature_name": "", "version": str(self.version)},
            "metadata": {"signature_def": {
                "signature_def": {k: s.metadata() for k, s in self.signatures.items()},
                "@type": "type.googleapis.com/tensorflow.serving.SignatureDefMap",
            }},
        }
