"""The AI's side of five rounds, in the terminal: ``make play`` until the Dash game lands.

Draws five photos from the game's pool (the model's test split) and shows what the exported
classifier makes of each.
"""
from __future__ import annotations

import argparse
import random

import tensorflow as tf

from model_api import dataset
from model_api.contract import SPLIT_ASSET, newest_version


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--version-dir", default=str(newest_version()))
    args = p.parse_args()

    root = dataset.data_dir()
    assets = f"{args.version_dir}/assets"
    classes = {c.class_name: c for c in dataset.read_classes(dataset.Path(assets))}
    by_id = {c.class_id: c for c in classes.values()}
    pool = dataset.read_split(dataset.Path(assets) / SPLIT_ASSET)["test"]
    photos = random.Random(args.seed).sample(pool, args.rounds)
    serve = tf.saved_model.load(args.version_dir).signatures["serving_default"]
    out = serve(image_bytes=tf.constant([(root / "images" / p.file).read_bytes() for p in photos]))

    exact = make = 0
    for i, photo in enumerate(photos):
        truth = by_id[photo.class_id]
        guesses = [g.decode() for g in out["top_k_classes"][i].numpy()]
        scores = out["top_k_scores"][i].numpy()
        guess = classes[guesses[0]]
        exact += guess == truth
        make += guess.make == truth.make
        verdict = ("exact" if guess == truth
                   else "make right" if guess.make == truth.make else "wrong")
        print(f"Round {i + 1}: {root / 'images' / photo.file}")
        print(f"  answer: {truth.class_name}")
        print(f"  AI:     {guess.class_name} ({scores[0]:.0%}) — {verdict}")
        runners_up = zip(guesses[1:3], scores[1:3], strict=True)
        print("          then " + ", ".join(f"{g} ({s:.0%})" for g, s in runners_up))
    print(f"\nThe AI got {exact}/{args.rounds} exactly right and the make in {make}/{args.rounds}.")


if __name__ == "__main__":
    main()
