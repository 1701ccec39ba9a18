"""Photos as phones take them: does the served model still know the car? (not a test)

    python benchmarks/framing.py [--version-dir …] [--limit N]

Every test-split photo (the game's pool) three ways: as it is, upright in a portrait frame
(3:4, as most phone photos are) and in a wide one (16:9), the photo at the frame's full width
or height and the rest of the frame its surroundings (the photo's own edges mirrored outwards,
so the scene goes on rather than a plain border). Top-1 of ``serving_default`` for each, and
the loss in points against the photos as they are. Target (issue 17): at most 3 points.

One more framing is not a target but says where the view's assumption ends: the portrait
frame with the car in its lower part (three quarters of the surroundings above it), as a
phone held at eye level over a low car takes it.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import tensorflow as tf
from PIL import Image
from tqdm import tqdm

from model_api import dataset
from model_api.contract import SPLIT_ASSET, newest_version

FRAMES = {"as it is": (None, 0.5), "portrait 3:4": (3 / 4, 0.5), "wide 16:9": (16 / 9, 0.5),
          "portrait 3:4, car low": (3 / 4, 0.75)}


def framed(data: bytes, aspect: float | None, above: float = 0.5) -> bytes:
    """The photo in a frame of ``aspect`` (width / height), surroundings mirrored, ``above``
    of them over (or left of) the photo; as it is for None."""
    if aspect is None:
        return data
    with Image.open(io.BytesIO(data)) as image:
        pixels = np.asarray(image.convert("RGB"))
    h, w = pixels.shape[:2]
    if w / h > aspect:  # too wide for the frame: the frame is taller
        extra = round(w / aspect) - h
        pad = ((round(extra * above), extra - round(extra * above)), (0, 0), (0, 0))
    else:
        extra = round(h * aspect) - w
        pad = ((0, 0), (round(extra * above), extra - round(extra * above)), (0, 0))
    pixels = np.pad(pixels, pad, mode="symmetric")  # numpy mirrors again where one is short
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=92)
    return out.getvalue()


def top1(serve, photos: list[bytes], label: str, batch: int = 16) -> np.ndarray:
    out = []
    for start in tqdm(range(0, len(photos), batch), desc=label, unit="batch"):
        answer = serve(image_bytes=tf.constant(photos[start : start + batch]))
        out.append(answer["probabilities"].numpy().argmax(axis=1))
    return np.concatenate(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--version-dir", type=Path, default=newest_version())
    p.add_argument("--limit", type=int, default=0, help="the first N test photos only")
    args = p.parse_args()
    root = dataset.data_dir()
    test = dataset.read_split(args.version_dir / "assets" / SPLIT_ASSET)["test"]
    test = test[: args.limit] if args.limit else test
    labels = np.array([photo.index for photo in test])
    originals = [(root / "images" / photo.file).read_bytes() for photo in test]
    serve = tf.saved_model.load(str(args.version_dir)).signatures["serving_default"]
    accuracy = {}
    for name, (aspect, above) in FRAMES.items():
        photos = [framed(data, aspect, above) for data in originals]
        accuracy[name] = round(float((top1(serve, photos, name) == labels).mean()), 4)
    base = accuracy["as it is"]
    print(json.dumps({"version": args.version_dir.name, "photos": len(test), "top1": accuracy,
                      "points_lost": {k: round(100 * (base - v), 1)
                                      for k, v in accuracy.items() if k != "as it is"}},
                     indent=1))


if __name__ == "__main__":
    main()
