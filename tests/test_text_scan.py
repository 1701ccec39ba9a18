"""No giveaway photos: text that names the car keeps a photo out of the pool.

OCR runs for real (Tesseract) on photos drawn here with Pillow; the committed scan is checked
against the real dataset.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from image_server import pool, text_scan
from model_api import dataset
from model_api.contract import CLASSES_ASSET, SPLIT_ASSET
from tests.data import COMMITTED_VERSION

SANTA_FE = dataset.CarClass(1, "Hyundai Santa Fe SUV 2012", "Hyundai", "Santa Fe SUV", 2012)
AUDI_S4 = dataset.CarClass(2, "Audi S4 Sedan 2007", "Audi", "S4 Sedan", 2007)
F150 = dataset.CarClass(3, "Ford F-150 Regular Cab 2012", "Ford", "F-150 Regular Cab", 2012)
TOWN_COUNTRY = dataset.CarClass(4, "Chrysler Town and Country Minivan 2012", "Chrysler",
                                "Town and Country Minivan", 2012)
FORD_GT = dataset.CarClass(5, "Ford GT Coupe 2006", "Ford", "GT Coupe", 2006)
RAM = dataset.CarClass(6, "Ram C/V Cargo Van Minivan 2012", "Ram", "C/V Cargo Van Minivan", 2012)
MERCEDES = dataset.CarClass(7, "Mercedes-Benz E-Class Sedan 2012", "Mercedes-Benz",
                            "E-Class Sedan", 2012)

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="tesseract-ocr is not installed (make system-deps)")


@pytest.mark.parametrize(("text", "car", "named"), [
    ("2007 Hyundai SantaFe SE V6", SANTA_FE, True),
    ("SANTA FE", SANTA_FE, True),
    ("hyundai", SANTA_FE, True),
    ("Santa Fe", SANTA_FE, True),
    ("96 Audi A6", AUDI_S4, True),
    ("new F-150 XLT", F150, True),
    ("Town & Country", TOWN_COUNTRY, True),
    ("Town Hall", TOWN_COUNTRY, False),  # its words alone are plain English
    ("Mercedes", MERCEDES, True),
    ("Benz", MERCEDES, True),
    ("E-Class", MERCEDES, True),
    ("2012", SANTA_FE, False),  # the year alone is no giveaway
    ("2007 SUV", SANTA_FE, False),  # nor the body style
    ("3/4 Ton Extended Van", RAM, False),
    ("Toyota Camry", SANTA_FE, False),  # another car's name gives nothing away
    ("Hyundai", AUDI_S4, False),
    ("GT", FORD_GT, False),  # two letters turn up in OCR noise
    ("S4 A6", AUDI_S4, False),
    ("Ra m", RAM, False),
    ("RAM 1500", RAM, True),
    ("Hyun dai", SANTA_FE, True),  # OCR split a word
    ("Hyun | dai", SANTA_FE, False),  # but never across separate readings
    ("", SANTA_FE, False),
])
def test_names_car_matches_whole_words_of_the_make_or_model(text, car, named):
    assert text_scan.names_car(text, car) is named


def draw(path: Path, text: str = "", size: tuple[int, int] = (448, 240)) -> Path:
    """A photo-sized grey picture with ``text`` in large dark letters, as on a dealer sign."""
    image = Image.new("RGB", size, (182, 190, 200))
    if text:
        font = ImageFont.load_default(size=34)
        ImageDraw.Draw(image).text((16, 90), text, fill=(20, 20, 30), font=font)
    image.save(path, quality=90)
    return path


@needs_tesseract
@pytest.mark.parametrize(("text", "car", "named"), [
    ("2007 Hyundai Santa Fe", SANTA_FE, True),
    ("", SANTA_FE, False),
    ("2007", SANTA_FE, False),
    ("Toyota Camry", SANTA_FE, False),
])
def test_ocr_finds_a_car_name_drawn_on_a_photo(tmp_path, text, car, named):
    photo = draw(tmp_path / "photo.jpg", text)
    read = text_scan.read_text(photo)
    assert text_scan.names_car(read, car) is named, read
    if text:
        assert text.split()[0] in read  # it read the words, not noise


@needs_tesseract
def test_scan_caches_each_photo_by_content(tmp_path):
    photo = draw(tmp_path / "00001.jpg", "Hyundai")
    [first] = text_scan.scan([(photo, SANTA_FE)], tmp_path / "cache", workers=1)
    assert first.names_car and first.sha256 == text_scan.sha256_of(photo)
    [entry] = (tmp_path / "cache").iterdir()
    entry.write_text("Toyota")  # what the cache says is what counts from now on
    [again] = text_scan.scan([(photo, SANTA_FE)], tmp_path / "cache", workers=1)
    assert again.text == "Toyota" and not again.names_car


@needs_tesseract
def test_text_read_by_eye_counts_where_ocr_reads_nothing(tmp_path):
    photo = draw(tmp_path / "00001.jpg")
    seen = tmp_path / "seen.csv"
    seen.write_text(f"file,sha256,text\n00001.jpg,{text_scan.sha256_of(photo)},Hyundai SantaFe\n")
    [verdict] = text_scan.scan([(photo, SANTA_FE)], tmp_path / "cache", workers=1,
                               seen_csv=seen)
    assert verdict.names_car and verdict.text.endswith("| Hyundai SantaFe")
    [other] = text_scan.scan([(photo, AUDI_S4)], tmp_path / "cache", workers=1, seen_csv=seen)
    assert not other.names_car  # it names a Hyundai, not this Audi


@pytest.fixture
def small_split(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """A dataset of drawn photos and a model version whose test split is all of them."""
    data_root, assets = tmp_path / "data", tmp_path / "model" / "1" / "assets"
    (data_root / "images").mkdir(parents=True)
    assets.mkdir(parents=True)
    texts = {"00001.jpg": "2007 Hyundai Santa Fe", "00002.jpg": "", "00003.jpg": "2007",
             "00004.jpg": "Hyundai", "00005.jpg": ""}
    for file, text in texts.items():
        draw(data_root / "images" / file, text)
    classes = [SANTA_FE, AUDI_S4]
    dataset.write_classes(classes, assets / CLASSES_ASSET)
    test = [dataset.Photo(file, 1) for file in texts]
    dataset.write_split({"train": [], "val": [], "test": test}, assets / SPLIT_ASSET)
    return data_root, assets.parent, texts


@needs_tesseract
def test_prepare_drops_the_giveaways_and_lists_them(small_split, tmp_path, caplog):
    data_root, version_dir, _ = small_split
    pool_dir = tmp_path / "pool"
    caplog.set_level("INFO", logger="image_server.pool")
    pool.prepare_pool(data_root, version_dir, pool_dir, scan_csv=tmp_path / "none.csv",
                      scan_cache=tmp_path / "cache")

    manifest = json.loads((pool_dir / pool.MANIFEST).read_text())
    assert [e["file"] for e in manifest["photos"]] == ["00002.jpg", "00003.jpg", "00005.jpg"]
    assert manifest["count"] == 3
    assert sorted(p.name for p in (pool_dir / pool.PHOTOS).iterdir()) == [
        "00002.jpg", "00003.jpg", "00005.jpg"]
    report = json.loads((pool_dir / pool.GIVEAWAYS).read_text())
    assert report["count"] == 2
    assert [p["file"] for p in report["photos"]] == ["00001.jpg", "00004.jpg"]
    assert "Hyundai" in report["photos"][0]["text"]
    assert report["photos"][0]["class_name"] == SANTA_FE.class_name
    assert any(getattr(r, "giveaways", None) == 2 for r in caplog.records)


def test_prepare_trusts_the_committed_scan_for_unchanged_photos(small_split, tmp_path):
    data_root, version_dir, texts = small_split
    images = data_root / "images"
    # The committed scan says 00002 names its car and 00001 does not: no OCR contradicts it.
    scan_csv = tmp_path / "scan.csv"
    text_scan.write_scan([
        text_scan.Verdict(file, text_scan.sha256_of(images / file), SANTA_FE.class_name,
                          "(committed)", file == "00002.jpg")
        for file in texts
    ], scan_csv)
    cache = tmp_path / "cache"
    pool_dir = tmp_path / "pool"
    pool.prepare_pool(data_root, version_dir, pool_dir, scan_csv=scan_csv, scan_cache=cache)
    manifest = json.loads((pool_dir / pool.MANIFEST).read_text())
    assert "00002.jpg" not in {e["file"] for e in manifest["photos"]}
    assert manifest["count"] == len(texts) - 1
    assert not cache.exists()  # nothing needed reading


@needs_tesseract
def test_a_changed_photo_is_scanned_again(small_split, tmp_path):
    data_root, version_dir, texts = small_split
    images = data_root / "images"
    scan_csv = tmp_path / "scan.csv"
    text_scan.write_scan([
        text_scan.Verdict(file, text_scan.sha256_of(images / file), SANTA_FE.class_name, "",
                          False)
        for file in texts
    ], scan_csv)
    draw(images / "00005.jpg", "Santa Fe")  # replaced after the scan
    pool_dir = tmp_path / "pool"
    pool.prepare_pool(data_root, version_dir, pool_dir, scan_csv=scan_csv,
                      scan_cache=tmp_path / "cache")
    report = json.loads((pool_dir / pool.GIVEAWAYS).read_text())
    assert [p["file"] for p in report["photos"]] == ["00005.jpg"]  # the committed rest stand
    assert len(list((tmp_path / "cache").iterdir())) == 1


def test_committed_scan_covers_the_committed_models_test_split(data_root):
    assets = COMMITTED_VERSION / "assets"
    classes = {c.class_id: c for c in dataset.read_classes(assets)}
    test = dataset.read_split(assets / SPLIT_ASSET)["test"]
    scan = text_scan.read_scan()
    assert set(scan) == {p.file for p in test}
    for photo in test:
        verdict, car = scan[photo.file], classes[photo.class_id]
        assert verdict.sha256 == text_scan.sha256_of(data_root / "images" / photo.file)
        assert verdict.class_name == car.class_name
        assert verdict.names_car == text_scan.names_car(verdict.text, car), photo.file
    assert 0 < sum(v.names_car for v in scan.values()) < len(test) // 10
