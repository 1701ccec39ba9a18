"""Find pool photos whose visible text gives the answer away, e.g. "2007 Hyundai SantaFe" on a
dealer sign or "96 Audi A6" on a windscreen.

``python -m image_server.text_scan`` reads the text in every photo of the model's test split
with Tesseract OCR (Debian's ``tesseract-ocr`` through ``pytesseract``), two processes at a time,
each photo cached under ``.cache/text_scan/`` by its SHA-256, and writes the committed result,
``image_server/text_scan.csv`` (file, sha256, class, the text read, whether it names the car).
``prepare_pool`` trusts that file for every photo whose SHA-256 matches and scans only the rest.
``image_server/text_seen.csv`` holds text a person read where OCR cannot (file, sha256, text):
a caption a few pixels tall in a small photo.
"""
from __future__ import annotations

import csv
import hashlib
import logging
import os
import re
import sys
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from model_api import dataset
from model_api.dataset import REPO_ROOT

log = logging.getLogger(__name__)

SCAN_CSV = Path(__file__).with_name("text_scan.csv")
# Text a person read in a photo where OCR cannot (a caption a few pixels tall), by SHA-256.
SEEN_CSV = Path(__file__).with_name("text_seen.csv")
CACHE_DIR = REPO_ROOT / ".cache" / "text_scan"
FIELDS = ("file", "sha256", "class_name", "text", "names_car")
# Bump when the OCR below changes, so cached texts from the old reading are not reused.
OCR_VERSION = "1"
# The photos are small (most 448 px wide) and Tesseract wants letters ~30 px tall: read each
# photo at two enlargements, so both large signs and small badges come out.
SCALES = (2, 3)
MAX_SIDE = 2400  # px after enlarging; bounds the time per photo
OCR_TIMEOUT = 20.0  # seconds per reading; a photo that hangs Tesseract counts as text-free
# psm 11: sparse text in any place and orientation, as on signs, plates and windscreens.
TESSERACT_CONFIG = "--psm 11"
WORKERS = 2
# The body style that ends most model names ("Santa Fe SUV", "Silverado 1500 Regular Cab").
BODY_WORDS = frozenset((
    "cab", "cargo", "classic", "club", "conv", "convertible", "coupe", "crew", "drophead",
    "extended", "hatchback", "hybrid", "minivan", "passenger", "quad", "regular", "roadster",
    "sedan", "suv", "sut", "touring", "van", "wagon",
))
# Plain words that name nothing on their own ("Town and Country", "AM General", "E-Series").
GENERIC_WORDS = BODY_WORDS | {
    "and", "car", "class", "country", "duty", "edition", "general", "grand", "land", "model",
    "pickup", "series", "super", "town", "type",
}
MIN_TERM = 3  # shorter fragments ("GT", "S4", "xD") turn up in OCR noise all the time
MIN_JOINED = 5


@dataclass(frozen=True)
class Verdict:
    """One photo's scan: what it says and whether that names its car."""

    file: str
    sha256: str
    class_name: str
    text: str
    names_car: bool


def _norm(word: str) -> str:
    return re.sub(r"[^0-9a-z]", "", word.casefold().replace("&", "and"))


def name_terms(car: dataset.CarClass) -> frozenset[str]:
    """The normalised words and word pairs that name this car's make or model.

    Pairs are joined ("santafe", "astonmartin") so that OCR that drops or adds a space still
    matches; plain numbers (the year, "300", "500") and generic body words never count.
    """
    terms = set()
    for name in (car.make, car.model):
        words = [w for w in (_norm(w) for w in re.split(r"[\s/-]+", name)) if w]
        while words and words[-1] in BODY_WORDS:
            words.pop()
        specific = [w for w in words if w not in GENERIC_WORDS]
        terms.update(specific)
        terms.update(a + b for a, b in zip(specific, specific[1:], strict=False))
        if len(words) > 1:
            terms.add("".join(words))  # "townandcountry", "eseries", "mercedesbenz"
    return frozenset(t for t in terms if len(t) >= MIN_TERM and not t.isdigit())


def _readings(text: str) -> list[list[str]]:
    """The text's words, normalised ("F-150" is "f150"), per reading (readings split at "|")."""
    return [[t for t in (_norm(w) for w in part.split()) if t] for part in text.split("|")]


def names_car(text: str, car: dataset.CarClass) -> bool:
    """Whether ``text`` names the make or model of ``car`` (case and spacing ignored).

    A word of the text matches a term whole; two or three adjacent words joined ("Hyun" "dai",
    "Town & Country") match only terms of ``MIN_JOINED`` letters or more, so that
    OCR noise ("Ra m") does not spell a short name.
    """
    terms = name_terms(car)
    for words in _readings(text):
        if not terms.isdisjoint(words):
            return True
        joined = {"".join(words[i:i + n]) for n in (2, 3) for i in range(len(words) - n + 1)}
        if any(len(t) >= MIN_JOINED and t in joined for t in terms):
            return True
    return False


def read_text(path: Path) -> str:
    """The text Tesseract reads in the photo, as one line of words ("" if none)."""
    import pytesseract
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        gray = ImageOps.grayscale(image)
    words: list[str] = []
    for scale in SCALES:
        scale = min(scale, MAX_SIDE / max(gray.size))
        big = gray.resize((round(gray.width * scale), round(gray.height * scale)),
                          Image.Resampling.LANCZOS)
        try:
            words += pytesseract.image_to_string(
                big, config=TESSERACT_CONFIG, timeout=OCR_TIMEOUT).split()
        except pytesseract.TesseractNotFoundError:
            raise FileNotFoundError(
                f"{path.name} is not in the committed text scan and tesseract is not installed: "
                "`make system-deps` (Debian's tesseract-ocr)") from None
        except RuntimeError:  # pytesseract's timeout
            log.warning("OCR timed out", extra={"photo": path.name, "scale": scale})
        words.append("|")  # keep the readings apart, so no pair joins across them
    return " ".join(words[:-1])


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cached_text(path: Path, sha256: str, cache_dir: Path = CACHE_DIR) -> str:
    """``read_text`` once per photo content and OCR version, kept in ``cache_dir``."""
    entry = cache_dir / f"{sha256}.v{OCR_VERSION}.txt"
    if entry.is_file():
        return entry.read_text(encoding="utf-8")
    text = read_text(path)
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = entry.with_name(f".{entry.name}.{os.getpid()}.part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, entry)
    return text


def _scan_one(job: tuple[Path, dataset.CarClass, Path]) -> Verdict:
    path, car, cache_dir = job
    os.environ["OMP_THREAD_LIMIT"] = "1"  # one core per worker; Tesseract would take them all
    sha = sha256_of(path)
    text = cached_text(path, sha, cache_dir)
    return Verdict(path.name, sha, car.class_name, text, names_car(text, car))


def scan(photos: Iterable[tuple[Path, dataset.CarClass]], cache_dir: Path = CACHE_DIR,
         workers: int = WORKERS, seen_csv: Path = SEEN_CSV) -> list[Verdict]:
    """Scan the photos in ``workers`` processes with a progress bar; results in input order.

    Text read by eye (``seen_csv``) is added to what OCR read in the same photo.
    """
    jobs = [(path, car, cache_dir) for path, car in photos]
    if not jobs:
        return []
    bar = dict(total=len(jobs), desc="text scan", unit="photo", disable=None)
    if workers <= 1 or len(jobs) == 1:
        verdicts = [_scan_one(job) for job in tqdm(jobs, **bar)]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            verdicts = list(tqdm(pool.map(_scan_one, jobs, chunksize=4), **bar))
    seen = read_seen(seen_csv)
    for i, ((_, car, _), v) in enumerate(zip(jobs, verdicts, strict=True)):
        if v.sha256 in seen:
            text = f"{v.text} | {seen[v.sha256]}"
            verdicts[i] = Verdict(v.file, v.sha256, v.class_name, text, names_car(text, car))
    return verdicts


def read_seen(path: Path = SEEN_CSV) -> dict[str, str]:
    """Text read by eye, by the photo's SHA-256 (empty when there is no such file)."""
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {r["sha256"]: r["text"] for r in csv.DictReader(f)}


def read_scan(path: Path = SCAN_CSV) -> dict[str, Verdict]:
    """The committed scan by file name (empty when there is none)."""
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {
            r["file"]: Verdict(r["file"], r["sha256"], r["class_name"], r["text"],
                               r["names_car"] == "1")
            for r in csv.DictReader(f)
        }


def write_scan(verdicts: Iterable[Verdict], path: Path = SCAN_CSV) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(FIELDS)
        for v in sorted(verdicts, key=lambda v: v.file):
            writer.writerow((v.file, v.sha256, v.class_name, v.text, int(v.names_car)))


def main() -> None:
    from common.cli import answer_help
    from common.logs import setup_logging
    from image_server.settings import Settings
    from model_api.contract import SPLIT_ASSET

    answer_help("python -m image_server.text_scan", __doc__)
    settings = Settings()
    setup_logging("image_server", settings.log_level)
    assets = settings.model_version_dir / "assets"
    classes = {c.class_id: c for c in dataset.read_classes(assets)}
    images = dataset.data_dir() / "images"
    split = sorted(dataset.read_split(assets / SPLIT_ASSET)["test"], key=lambda p: p.file)
    verdicts = scan([(images / p.file, classes[p.class_id]) for p in split])
    write_scan(verdicts)
    flagged = [v for v in verdicts if v.names_car]
    log.info("text scan written", extra={
        "path": str(SCAN_CSV), "photos": len(verdicts), "names_car": len(flagged)})
    for v in flagged:
        print(f"{v.file}\t{v.class_name}\t{v.text}", file=sys.stderr)


if __name__ == "__main__":
    main()
