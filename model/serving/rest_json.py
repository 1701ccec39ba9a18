"""TF Serving's REST JSON mapping for ``:predict``: row ("instances") and columnar ("inputs")
requests, ``{"b64": ...}`` binary values, ``predictions`` / ``outputs`` responses.

See tensorflow/serving ``g3doc/api_rest.md``.
"""
from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import numpy as np

from model.serving.servable import ServingError, Signature

_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def unescape_base64(text: str) -> bytes:
    """Decode as absl's ``Base64Unescape`` (TF Serving's) does: whitespace and line breaks are
    skipped and the ``=`` padding may be left out, so ``base64.encodebytes`` output and the
    ``base64`` command's are accepted; any other stray character is an error."""
    compact = "".join(text.split())
    if not _BASE64.fullmatch(compact) or len(compact.rstrip("=")) % 4 == 1:
        raise ServingError(400, "invalid base64: not a base64 string")
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ServingError(400, f"invalid base64: {exc}") from exc


def _is_b64(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"b64"}


def decode_binary(value: Any) -> Any:
    """Replace every ``{"b64": ...}`` object by its bytes."""
    if _is_b64(value):
        if not isinstance(value["b64"], str):
            raise ServingError(400, "a b64 value must be a string")
        return unescape_base64(value["b64"])
    if isinstance(value, dict):
        return {k: decode_binary(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_binary(v) for v in value]
    return value


def signature_name(body: Any) -> str | None:
    if not isinstance(body, dict):
        raise ServingError(400, "the request body must be a JSON object")
    name = body.get("signature_name")
    if name is not None and not isinstance(name, str):
        raise ServingError(400, "'signature_name' must be a string")
    return name


def parse_inputs(body: dict, signature: Signature) -> tuple[dict[str, Any], bool]:
    """(inputs by name, whether the request used the row format)."""
    if ("instances" in body) == ("inputs" in body):
        raise ServingError(400, "the request must have exactly one of 'instances' or 'inputs'")
    names = list(signature.inputs)
    if "instances" in body:
        instances = body["instances"]
        if not isinstance(instances, list) or not instances:
            raise ServingError(400, "'instances' must be a non-empty list")
        named = all(isinstance(i, dict) and not _is_b64(i) for i in instances)
        if named:
            keys = {frozenset(i) for i in instances}
            if len(keys) != 1:
                raise ServingError(400, "every instance must name the same inputs")
            columns = {k: [decode_binary(i[k]) for i in instances] for k in instances[0]}
        elif len(names) == 1:
            columns = {names[0]: decode_binary(instances)}
        else:
            raise ServingError(400, f"the signature has inputs {names}: name them in each instance")
        return columns, True
    inputs = body["inputs"]
    if isinstance(inputs, dict) and not _is_b64(inputs):
        return {k: decode_binary(v) for k, v in inputs.items()}, False
    if len(names) != 1:
        raise ServingError(400, f"the signature has inputs {names}: 'inputs' must name them")
    return {names[0]: decode_binary(inputs)}, False


def _jsonable(name: str, value: np.ndarray) -> Any:
    if value.dtype == np.float32:
        # TF Serving writes a float32 in its shortest round-trip form (0.1, not the double
        # 0.10000000149011612): numpy's float32 repr is that form, read back as a double.
        return value.astype(str).astype(np.float64).tolist()
    if value.dtype.kind not in ("S", "O"):
        return value.tolist()

    def text(b: bytes) -> Any:
        if name.endswith("_bytes"):
            return {"b64": base64.b64encode(b).decode("ascii")}
        try:
            return b.decode("utf-8")
        except UnicodeDecodeError:
            return {"b64": base64.b64encode(b).decode("ascii")}

    return np.vectorize(text, otypes=[object])(value).tolist() if value.ndim else text(value.item())


def format_outputs(outputs: dict[str, np.ndarray], row_format: bool) -> dict:
    """``{"predictions": [...]}`` for row requests, ``{"outputs": ...}`` for columnar ones."""
    if not row_format:
        if len(outputs) == 1:
            (name, value), = outputs.items()
            return {"outputs": _jsonable(name, value)}
        return {"outputs": {k: _jsonable(k, v) for k, v in outputs.items()}}
    columns = {k: _jsonable(k, v) for k, v in outputs.items()}
    if len(columns) == 1:
        return {"predictions": next(iter(columns.values()))}
    rows = len(next(iter(columns.values())))
    return {"predictions": [{k: columns[k][i] for k in columns} for i in range(rows)]}
