"""Does the served model tell a car from everything else? (not a test)

    git clone --depth 1 https://github.com/EliSchwartz/imagenet-sample-images /tmp/imagenet
    python benchmarks/not_a_car.py --not-cars /tmp/imagenet [--version-dir …/3] [--before …/1]

Non-cars: one photo of each ImageNet class (the repository above: 1,000 real photos) without
the classes that show cars or their parts (``CAR_CLASSES``); photos are read where they lie,
never copied into this repository. Cars: the game's pool, the test split the model never
trained on. Reports the share of non-cars refused (target ≥ 95 %) and of pool photos accepted
(target ≥ 99 %) of the newest version (or ``--version-dir``). With ``--before`` (the same
weights without the judgement: version 2 against 1), also what the judgement adds to
``serving_default`` (target ≤ 10 ms a photo), for 1 and 5 photos, median of ``--runs`` calls.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tensorflow as tf
from model_latency import timed
from tqdm import tqdm

from model_api import dataset
from model_api.contract import newest_version

# ImageNet classes whose photo shows a car, a car's part or a car-like vehicle: left out of
# the non-cars (a "sports car" photo refused would be the detector's fault, not a success).
CAR_CLASSES = (
    "ambulance", "beach_wagon", "cab", "car_mirror", "car_wheel", "convertible", "go-kart",
    "golfcart", "grille", "jeep", "limousine", "minibus", "minivan", "Model_T", "moving_van",
    "pickup", "police_van", "racer", "sports_car", "tow_truck", "trailer_truck",
    "garbage_truck", "fire_engine", "recreational_vehicle", "tractor", "snowplow",
    "half_track", "amphibian", "parking_meter", "traffic_light", "street_sign", "crash_helmet",
    "disk_brake", "seat_belt", "school_bus", "trolleybus", "passenger_car", "freight_car",
    "streetcar", "forklift", "thresher", "harvester", "snowmobile", "motor_scooter", "moped",
    "mountain_bike", "tricycle", "horse_cart", "oxcart", "jinrikisha", "shopping_cart",
)


def not_car_photos(folder: Path) -> list[Path]:
    photos = sorted(folder.glob("n*_*.JPEG"))
    return [p for p in photos if p.stem.split("_", 1)[1] not in CAR_CLASSES]


def judged(serve, files: list[Path], label: str, batch: int = 16) -> list[bool]:
    """``is_car`` for every photo."""
    out: list[bool] = []
    for start in tqdm(range(0, len(files), batch), desc=label, unit="batch"):
        photos = [f.read_bytes() for f in files[start : start + batch]]
        out += serve(image_bytes=tf.constant(photos))["is_car"].numpy().tolist()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--not-cars", type=Path, required=True,
                   help="a folder of the imagenet-sample-images repository")
    p.add_argument("--version-dir", type=Path, default=newest_version())
    p.add_argument("--before", type=Path, default=None,
                   help="the same weights without the judgement, for the added latency "
                        "(version 2 against 1); left out, no latency is measured")
    p.add_argument("--runs", type=int, default=30)
    args = p.parse_args()
    root = dataset.data_dir()
    pool = [root / "images" / ph.file
            for ph in dataset.read_split(args.version_dir / "assets" / "split.csv")["test"]]
    others = not_car_photos(args.not_cars)
    serve = tf.saved_model.load(str(args.version_dir)).signatures["serving_default"]
    refused = [not car for car in judged(serve, others, "non-cars")]
    accepted = judged(serve, pool, "pool")
    latency = {}
    before = tf.saved_model.load(str(args.before)).signatures[
        "serving_default"] if args.before else None
    for n in (1, 5) if before else ():
        blobs = tf.constant([f.read_bytes() for f in pool[:n]])
        old, new = timed(before, blobs, args.runs), timed(serve, blobs, args.runs)
        latency[f"{n}_photos"] = {"before_ms": old["median_ms"], "after_ms": new["median_ms"],
                                  "added_ms_per_photo": round(
                                      (new["median_ms"] - old["median_ms"]) / n, 1)}
    print(json.dumps({
        "non_cars": len(others), "non_cars_refused": round(sum(refused) / len(refused), 4),
        "pool_photos": len(pool), "pool_accepted": round(sum(accepted) / len(accepted), 4),
        "latency": latency,
        "refused_wrongly": [f.name for f, ok in zip(pool, accepted, strict=True) if not ok],
        "let_through": [f.stem for f, no in zip(others, refused, strict=True) if not no],
    }, indent=1))


if __name__ == "__main__":
    main()
