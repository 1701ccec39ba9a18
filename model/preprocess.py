"""Photo decoding and framing: one set of functions for training and for the exported graph.

The model looks at a landscape *view* of the photo (``Shape``, e.g. 192 × 352): the photo is
scaled so its width fills the view's width and centred; a photo taller than the view (a phone
held upright, a square snap) keeps its middle band, one wider than the view (a long side view)
gets neutral grey bands above and below. Nothing is squashed, so a car in a portrait phone
photo looks to the model as it does in the data set's tight crops (issue 17: squashing the
whole 3:4 frame into a square cost 69 points of top-1). The assumption is that a visitor
photographs a car in the middle of the frame, as phones are held.
"""
from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf

GREY = 127.0  # the backbone's input mean: padding reads as "nothing here"
# A heatmap comes back on this grid over the whole photo (its own aspect, any size).
HEATMAP_GRID = 14


class Shape(NamedTuple):
    """The view the model sees, in pixels."""

    height: int
    width: int

    @classmethod
    def parse(cls, text: str) -> Shape:
        """``"192x352"`` → Shape(192, 352); the recorded form in ``metrics.json``."""
        height, width = (int(part) for part in text.lower().split("x"))
        if height < 32 or width < 32:
            raise ValueError(f"view {text!r} is too small")
        return cls(height, width)

    def __str__(self) -> str:
        return f"{self.height}x{self.width}"


def decode(image_bytes: tf.Tensor) -> tf.Tensor:
    """JPEG/PNG/GIF/BMP bytes → uint8 RGB [h, w, 3]."""
    image = tf.io.decode_image(image_bytes, channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    return image


def photo_height_in_view(image: tf.Tensor, shape: Shape) -> tf.Tensor:
    """The photo's height once its width fills the view, as a share of the view's height
    (> 1: its top and bottom are cut; < 1: grey bands)."""
    size = tf.cast(tf.shape(image)[:2], tf.float32)
    return size[0] * shape.width / (size[1] * shape.height)


def view(image: tf.Tensor, shape: Shape) -> tf.Tensor:
    """uint8 [h, w, 3] → float32 0-255 [height, width, 3]: width fitted, centred, antialiased."""
    share = photo_height_in_view(image, shape)
    h = tf.shape(image)[0]
    keep = tf.minimum(h, tf.maximum(1, tf.cast(tf.round(tf.cast(h, tf.float32) / share),
                                               tf.int32)))
    band = image[(h - keep) // 2 : (h - keep) // 2 + keep]  # crop before resizing: bounded work
    rows = tf.clip_by_value(tf.cast(tf.round(shape.height * tf.minimum(share, 1.0)), tf.int32),
                            1, shape.height)
    scaled = tf.image.resize(tf.cast(band, tf.float32), tf.stack([rows, shape.width]),
                             antialias=True)
    top = (shape.height - rows) // 2
    padded = tf.pad(scaled - GREY, [[top, shape.height - rows - top], [0, 0], [0, 0]]) + GREY
    return tf.ensure_shape(padded, [shape.height, shape.width, 3])


def load(image_bytes: tf.Tensor, shape: Shape) -> tf.Tensor:
    """What the model sees of a photo, in training and in serving alike."""
    return view(decode(image_bytes), shape)


def heatmap_on_photo(cam: tf.Tensor, shares: tf.Tensor) -> tf.Tensor:
    """[n, h, w] maps over the views → [n, GRID, GRID] over each whole photo (0 where the
    view cut the photo off), so a client stretches it over the photo as it is."""
    n = tf.shape(cam)[0]
    boxes = tf.stack([0.5 - shares / 2, tf.zeros_like(shares), 0.5 + shares / 2,
                      tf.ones_like(shares)], axis=1)
    mapped = tf.image.crop_and_resize(cam[..., None], boxes, tf.range(n),
                                      [HEATMAP_GRID, HEATMAP_GRID], extrapolation_value=0.0)
    return mapped[..., 0]


def random_crop(image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """A random crop keeping 70-100% of each side: the car stays, framing and scale vary."""
    shape = tf.shape(image)
    h, w = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    scale = tf.random.stateless_uniform([2], seed, 0.7, 1.0)
    ch = tf.maximum(1, tf.cast(h * scale[0], tf.int32))
    cw = tf.maximum(1, tf.cast(w * scale[1], tf.int32))
    return tf.image.stateless_random_crop(image, tf.stack([ch, cw, 3]), seed + 1)


def zoom_out(seen: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """A view as if the photo were taken from further away: the view shrunk to 60-100 % at a
    random place, the rest its own surroundings mirrored outwards (as the framing benchmark
    and a phone's wider frame have them)."""
    height, width = seen.shape[0], seen.shape[1]
    draw = tf.random.stateless_uniform([3], seed, 0.0, 1.0)
    scale = 0.6 + 0.4 * draw[0]
    rows = tf.cast(tf.round(height * scale), tf.int32)
    cols = tf.cast(tf.round(width * scale), tf.int32)
    small = tf.image.resize(seen, tf.stack([rows, cols]), antialias=True)
    top = tf.cast(draw[1] * tf.cast(height - rows, tf.float32), tf.int32)
    left = tf.cast(draw[2] * tf.cast(width - cols, tf.float32), tf.int32)
    framed = tf.pad(small, [[top, height - rows - top], [left, width - cols - left], [0, 0]],
                    mode="SYMMETRIC")
    return tf.ensure_shape(framed, [height, width, 3])
