"""The view the model sees of a photo (model/preprocess.py): nothing squashed, a phone's portrait
frame reduced to its middle band, and the heatmap laid back over the whole photo."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from model import preprocess

VIEW = preprocess.Shape(192, 352)


def stripes(height: int, width: int) -> np.ndarray:
    """A photo whose every row says how far down it is (0-255), so crops can be read off."""
    rows = np.linspace(0, 255, height, dtype=np.float32)[:, None, None]
    return np.broadcast_to(rows, (height, width, 3)).astype(np.uint8)


def test_shape_parses_its_recorded_form_and_refuses_nonsense():
    assert preprocess.Shape.parse("192x352") == VIEW and str(VIEW) == "192x352"
    for bad in ("192", "x352", "axb", "8x8"):
        with pytest.raises(ValueError):
            preprocess.Shape.parse(bad)


def test_a_portrait_photo_keeps_its_middle_band_at_full_width():
    photo = stripes(400, 300)  # 3:4, as a phone held upright takes it
    seen = preprocess.view(tf.constant(photo), VIEW).numpy()
    assert seen.shape == (192, 352, 3)
    # the band kept is the middle 300 * 192 / 352 = 164 rows of 400: rows 118-281
    assert seen[0, :, 0].mean() == pytest.approx(118 * 255 / 399, abs=4)
    assert seen[-1, :, 0].mean() == pytest.approx(281 * 255 / 399, abs=4)
    assert seen[:, 0, 0] == pytest.approx(seen[:, -1, 0])  # the full width, not a side crop


def test_a_long_photo_is_not_squashed_but_banded_in_grey():
    photo = np.full((100, 400, 3), 30, np.uint8)  # 4:1, far wider than the view
    seen = preprocess.view(tf.constant(photo), VIEW).numpy()
    photo_rows = round(192 * (100 * 352) / (400 * 192))  # 88 rows tall once 352 wide
    top = (192 - photo_rows) // 2
    assert np.allclose(seen[:top - 1], preprocess.GREY)
    assert np.allclose(seen[top + 1 : top + photo_rows - 1], 30, atol=0.5)
    assert np.allclose(seen[top + photo_rows + 1 :], preprocess.GREY)


def test_a_photo_shaped_like_the_view_is_only_scaled():
    photo = stripes(96, 176)
    seen = preprocess.view(tf.constant(photo), VIEW).numpy()
    expected = tf.image.resize(tf.constant(photo, tf.float32), (192, 352), antialias=True)
    np.testing.assert_allclose(seen, expected.numpy(), atol=1e-3)


def test_the_view_is_cheap_for_huge_and_degenerate_photos():
    for height, width in ((20000, 30), (1, 5000), (5000, 1)):
        seen = preprocess.view(tf.zeros((height, width, 3), tf.uint8), VIEW)
        assert seen.shape == (192, 352, 3) and np.isfinite(seen.numpy()).all()


def test_the_heatmap_goes_back_over_the_whole_photo():
    cam = tf.ones((2, 6, 11))
    tall = preprocess.photo_height_in_view(tf.zeros((400, 300, 3)), VIEW)  # 2.44 views high
    wide = preprocess.photo_height_in_view(tf.zeros((100, 400, 3)), VIEW)  # 0.46 of the view
    maps = preprocess.heatmap_on_photo(cam, tf.stack([tall, wide])).numpy()
    grid = preprocess.HEATMAP_GRID
    assert maps.shape == (2, grid, grid)
    rows = np.linspace(0, 1, grid)
    seen = np.abs(rows - 0.5) <= 0.5 / float(tall)  # the rows the model saw of the tall photo
    assert (maps[0][~seen] == 0).all() and (maps[0][seen] == 1).all()
    assert (maps[1] == 1).all()  # a wide photo was seen whole: no grey band in its map


def test_zoom_out_puts_the_view_smaller_among_its_own_surroundings():
    seen = tf.constant(np.random.default_rng(0).uniform(0, 255, (192, 352, 3)), tf.float32)
    for seed in range(5):
        out = preprocess.zoom_out(seen, tf.constant([seed, 1])).numpy()
        assert out.shape == (192, 352, 3)
        assert out.min() >= 0 and out.max() <= 255
    assert not np.allclose(preprocess.zoom_out(seen, tf.constant([0, 1])),
                           preprocess.zoom_out(seen, tf.constant([1, 1])))
