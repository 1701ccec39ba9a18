"""The photo pool: the model's test split copied out of the dataset, plus a manifest.

``prepare_pool`` runs once (``python -m image_server.prepare``); the server, local or nginx,
then only serves files: ``manifest.json`` and ``photos/<file>`` under the pool directory, at the
same paths as their URLs. Photos whose visible text names the car (see ``text_scan``) are left
out and listed in ``giveaways.json`` beside the manifest, which is never served. The model's
evaluation (``model.evaluate``) is published as ``model-card.json``, its mistakes narrowed to
the pool's photos.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from image_server import text_scan
from model_api import dataset
from model_api.contract import CLASSES_ASSET, METRICS_FILE, SPLIT_ASSET

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
GIVEAWAYS = "giveaways.json"
MODEL_CARD = "model-card.json"
PHOTOS = "photos"
PHOTO_URL = "/photos/{file}"
# The only names ever served: no separators, no dots but the extension's, no escapes.
FILE_PATTERN = re.compile(r"[0-9A-Za-z_-]{1,64}\.(?:jpg|jpeg|png)")
_MISSING_HINT = "run `python -m image_server.prepare` first"


class PoolError(RuntimeError):
    """The pool directory cannot be served as it is."""


@dataclass(frozen=True)
class Pool:
    """What the server needs, checked once at startup."""

    photos_dir: Path
    manifest: bytes
    etag: str
    files: frozenset[str]
    model_version: int
    model_card: bytes | None  # None: the model was exported without an evaluation


def prepare_pool(data_root: Path, version_dir: Path, pool_dir: Path, *,
                 scan_csv: Path = text_scan.SCAN_CSV,
                 scan_cache: Path = text_scan.CACHE_DIR) -> Path:
    """Copy the model's test split into ``pool_dir`` and write its manifest; return the manifest.

    The split and class list come from the model's own assets, so the game only shows photos
    the model never trained on. Photos whose visible text names their car are dropped: the
    committed scan (``scan_csv``) decides for every photo whose SHA-256 it lists, the rest are
    read with OCR now (cached in ``scan_cache``). Safe to re-run: unchanged photos are not copied
    again and photos no longer in the split are removed.
    """
    assets = version_dir / "assets"
    if not (assets / SPLIT_ASSET).is_file():
        raise FileNotFoundError(
            f"no exported model at {version_dir} ({SPLIT_ASSET} missing): train one with "
            "`python -m model.train` or set IMAGE_SERVER_MODEL_VERSION_DIR"
        )
    try:
        model_version = int(version_dir.name)
    except ValueError:
        raise ValueError(f"{version_dir} is not a model version (not a number)") from None
    classes = {c.class_id: c for c in dataset.read_classes(assets)}
    photos = sorted(dataset.read_split(assets / SPLIT_ASSET)["test"], key=lambda p: p.file)
    if not photos:
        raise ValueError(f"{assets / SPLIT_ASSET} has no test photos")
    source_dir = data_root / "images"
    photos_dir = pool_dir / PHOTOS
    photos_dir.mkdir(parents=True, exist_ok=True)

    for photo in photos:
        if not FILE_PATTERN.fullmatch(photo.file):
            raise ValueError(f"photo name {photo.file!r} would not be served")
        if photo.class_id not in classes:
            raise ValueError(f"{photo.file}: class {photo.class_id} is not in {CLASSES_ASSET}")
    verdicts = _text_verdicts(
        [(source_dir / p.file, classes[p.class_id]) for p in photos], scan_csv, scan_cache)
    giveaways = [v for v in verdicts if v.names_car]
    kept = [p for p, v in zip(photos, verdicts, strict=True) if not v.names_car]

    entries = []
    copied = 0
    for photo in tqdm(kept, desc="photo pool", unit="photo", disable=None):
        copied += _copy_if_changed(source_dir / photo.file, photos_dir / photo.file)
        car = classes[photo.class_id]
        entries.append({
            "file": photo.file, "class_id": car.class_id, "class_name": car.class_name,
            "make": car.make, "model": car.model, "year": car.year,
            "url": PHOTO_URL.format(file=photo.file),
        })

    manifest = pool_dir / MANIFEST
    data = json.dumps(
        {"model_version": model_version, "count": len(entries), "photos": entries,
         # Every class the model knows (not only those in the pool): the game's answer list.
         "classes": [dataclasses.asdict(c) for c in classes.values()]},
        separators=(",", ":"),
    ).encode()
    if not manifest.is_file() or manifest.read_bytes() != data:  # else keep nginx's ETag
        _write_atomically(manifest, data)
    report = json.dumps(
        {"count": len(giveaways),
         "photos": [{"file": v.file, "class_name": v.class_name, "text": v.text}
                    for v in giveaways]},
        indent=1, ensure_ascii=False,
    ).encode()
    _write_atomically(pool_dir / GIVEAWAYS, report)
    log.info("left out photos whose visible text names the car", extra={
        "giveaways": len(giveaways), "report": str(pool_dir / GIVEAWAYS)})
    wanted = {photo.file for photo in kept}
    _write_model_card(version_dir, pool_dir, wanted)
    stale = [path for path in photos_dir.iterdir() if path.name not in wanted]
    for path in stale:
        path.unlink()
    log.info("photo pool ready", extra={
        "pool_dir": str(pool_dir), "model_version": model_version, "photos": len(entries),
        "giveaways": len(giveaways), "copied": copied, "removed": len(stale),
    })
    return manifest


def _write_model_card(version_dir: Path, pool_dir: Path, pool_files: set[str]) -> None:
    """Publish the model's evaluation; a mistake is kept only if its photo is in the pool
    (a giveaway is never shown) and gets the pool's URL for it."""
    metrics_path = version_dir.parent / METRICS_FILE
    card_path = pool_dir / MODEL_CARD
    if not metrics_path.is_file():
        card_path.unlink(missing_ok=True)
        log.warning("no model card: the export has no evaluation", extra={
            "metrics": str(metrics_path)})
        return
    card = json.loads(metrics_path.read_text())
    card["mistakes"] = [{**m, "url": PHOTO_URL.format(file=m["file"])}
                        for m in card.get("mistakes", []) if m["file"] in pool_files]
    _write_atomically(card_path, json.dumps(card, separators=(",", ":")).encode())


def _text_verdicts(photos: list[tuple[Path, dataset.CarClass]], scan_csv: Path,
                   scan_cache: Path) -> list[text_scan.Verdict]:
    """Each photo's verdict: the committed one where the photo is unchanged, else a new scan."""
    committed = text_scan.read_scan(scan_csv)
    verdicts: dict[str, text_scan.Verdict] = {}
    unknown = []
    for path, car in photos:
        known = committed.get(path.name)
        if (known is not None and known.class_name == car.class_name
                and known.sha256 == text_scan.sha256_of(path)):
            verdicts[path.name] = known
        else:
            unknown.append((path, car))
    if unknown:
        log.info("scanning photos for text", extra={"photos": len(unknown), "scan": str(scan_csv)})
        verdicts.update((v.file, v) for v in text_scan.scan(unknown, scan_cache))
    return [verdicts[path.name] for path, _ in photos]


def _copy_if_changed(source: Path, target: Path) -> bool:
    """Copy unless the same-sized file is there: dataset photos never change in place."""
    if target.is_file() and target.stat().st_size == source.stat().st_size:
        return False
    partial = target.with_name(f".{target.name}.part")
    shutil.copyfile(source, partial)
    os.replace(partial, target)  # a server never sees half a photo
    return True


def _write_atomically(path: Path, data: bytes) -> None:
    """Write beside the target, then rename: readers see the old file or the new one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from nginx's worker user
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load_pool(pool_dir: Path) -> Pool:
    """Read and check the manifest, so a bad pool stops the server at startup, not mid-game."""
    path = pool_dir / MANIFEST
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PoolError(
            f"no photo pool at {pool_dir} ({MANIFEST} is missing): {_MISSING_HINT}"
        ) from None
    try:
        manifest = json.loads(raw)
        files = [entry["file"] for entry in manifest["photos"]]
        model_version = int(manifest["model_version"])
        count = manifest["count"]
    except (ValueError, TypeError, KeyError) as exc:
        raise PoolError(f"{path} is not a valid manifest ({exc!r}): {_MISSING_HINT}") from exc
    bad = [f for f in files if not isinstance(f, str) or not FILE_PATTERN.fullmatch(f)]
    if bad:
        raise PoolError(f"{path} names files that would not be served: {bad[:5]}")
    if count != len(files) or len(set(files)) != len(files):
        raise PoolError(f"{path} is inconsistent (count or duplicate files): {_MISSING_HINT}")
    photos_dir = pool_dir / PHOTOS
    missing = [f for f in files if not (photos_dir / f).is_file()]
    if missing:
        raise PoolError(f"{len(missing)} photos in {path} are missing, e.g. {missing[:5]}: "
                        f"{_MISSING_HINT}")
    card_path = pool_dir / MODEL_CARD
    return Pool(
        photos_dir=photos_dir.resolve(), manifest=raw, etag=hashlib.sha256(raw).hexdigest()[:32],
        files=frozenset(files), model_version=model_version,
        model_card=card_path.read_bytes() if card_path.is_file() else None,
    )
