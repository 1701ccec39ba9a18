"""What one request may cost the model: photos per request, pixels per photo.

TF Serving trusts its callers; this server faces whatever reaches it, so a request is measured
before the model runs: its rows (photos) against a cap, each photo's header against a pixel
cap. A refusal costs microseconds, where a 500-photo batch or a 100-megapixel JPEG would cost
the model seconds and gigabytes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from common.images import PhotoRejected, TooManyPixels, check_header
from model.serving.servable import ServingError, Signature, TensorInfo


def is_photo(info: TensorInfo) -> bool:
    """TF Serving's convention: a string input whose name ends in ``_bytes`` holds binary data
    (here, encoded photos)."""
    return info.dtype == tf.string and info.name.endswith("_bytes")


@dataclass(frozen=True)
class Limits:
    max_photos: int
    max_pixels: int

    def check_rows(self, rows: int) -> None:
        if rows < 1:
            raise ServingError(400, "the request has no photos")
        if rows > self.max_photos:
            raise ServingError(413, f"{rows} photos in one request: at most {self.max_photos}")

    def check(self, signature: Signature, tensors: dict[str, tf.Tensor]) -> None:
        """Raise ``ServingError`` (413 too many, 400 not a photo) before any decoding."""
        for tensor in tensors.values():
            if tensor.shape.rank:
                self.check_rows(int(tensor.shape[0]))
        for key, tensor in tensors.items():
            if not is_photo(signature.inputs[key]):
                continue
            for index, photo in enumerate(np.ravel(tensor.numpy())):
                try:
                    check_header(photo, self.max_pixels)
                except TooManyPixels as exc:
                    raise ServingError(413, f"photo {index}: {exc}") from None
                except PhotoRejected as exc:
                    raise ServingError(400, f"photo {index}: {exc}") from None
