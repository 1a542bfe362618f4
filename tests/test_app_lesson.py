"""Notebook 11's own ``depth_results`` (its cell, via tests/lesson_code.py) writes what the helpers it teaches write.

The lesson writes photo -> coloured depth, 16-bit PNG, camera and PLY points with numpy and Pillow calls; the app
(``helpers.app``) builds the same results from ``helpers.depthio`` and ``helpers.geometry``. A fake pipeline returns a
depth map with known edges, so both are compared on the same numbers without a model.
"""

import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image, PngImagePlugin

import helpers
from helpers.depthio import save_depth_png16
from helpers.geometry import discontinuity_mask, point_cloud
from tests.lesson_code import lesson_function

HFOV_DEG = 55.0


def stepped_depth(far: float) -> np.ndarray:
    """40 x 60 metres: a slope from 2 m, a box at 1.2 m, the right third at ``far`` metres (two depth edges)."""
    depth = np.tile(np.linspace(2.0, 3.0, 60, dtype=np.float32), (40, 1))
    depth[10:25, 5:20] = 1.2
    depth[:, 40:] = far
    return depth


def lesson(depth: np.ndarray, out_dir: Path, edge_jump: float = 0.05):
    """The notebook's depth_results, its knobs and pipeline replaced by the test's."""
    pipe = lambda image: {"predicted_depth": torch.from_numpy(depth)[None]}  # noqa: E731 - as the pipeline returns it
    return lesson_function("11", "depth_results", pipe=pipe, output_dir=out_dir, os=os, Path=Path,
                           matplotlib=matplotlib, Image=Image, PngImagePlugin=PngImagePlugin, MAX_SIDE=1024,
                           COLORMAP="magma", EDGE_JUMP=edge_jump, HFOV_DEG=HFOV_DEG)


@pytest.mark.parametrize("far, scale", [(8.0, 1000.0), (90.0, 256.0)])  # millimetres; beyond 65 m, 1/256 m
def test_the_lessons_depth_file_equals_save_depth_png16(tmp_path, far, scale):
    depth = stepped_depth(far)
    photo = tmp_path / "room.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(photo)
    results = lesson(depth, tmp_path)(photo)
    assert results["depth_file"] == tmp_path / "room_depth16.png"
    assert helpers.png_depth_scale(results["depth_file"]) == scale
    reference = save_depth_png16(tmp_path / "reference.png", depth, scale=scale)
    assert np.array_equal(np.asarray(Image.open(results["depth_file"])), np.asarray(Image.open(reference)))
    assert np.abs(helpers.load_depth_png16(results["depth_file"]) - depth).max() <= 0.5 / scale + 1e-6


def test_the_lessons_points_equal_point_cloud_without_the_edge_pixels(tmp_path):
    depth = stepped_depth(8.0)
    colours = np.random.default_rng(1).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0xA405] = 26  # a phone's 26 mm: the camera comes from the EXIF, not the guess
    photo = tmp_path / "phone.jpg"
    Image.fromarray(colours).save(photo, "JPEG", exif=exif, quality=100)
    results = lesson(depth, tmp_path)(photo)
    image = helpers.load_image(photo)
    camera = helpers.intrinsics_for_photo(photo, hfov_deg=HFOV_DEG)
    assert results["camera"].source == "exif" and results["camera"].intrinsics == camera.intrinsics
    edges = discontinuity_mask(depth, max_rel_jump=0.05)
    assert 0 < edges.sum() < depth.size  # the box and the far wall have edges to leave out
    expected = point_cloud(depth, camera.intrinsics, image, mask=~edges)
    written = helpers.read_ply(results["cloud_file"])
    assert results["points"] == len(written) == len(expected) == int((~edges).sum())
    np.testing.assert_allclose(written.points, expected.points, rtol=1e-6, atol=1e-6)
    assert np.array_equal(written.colors, expected.colors)
    bright_is_near = results["picture"][15, 10].sum() > results["picture"][15, 50].sum()  # 1.2 m box vs 8 m wall
    assert results["picture"].shape == (40, 60, 3) and results["picture"].dtype == np.uint8 and bright_is_near
