"""Geometry (helpers.geometry): pinhole back-projection, z-depth vs ray distance, edges, PLY files."""

import math

import numpy as np
import pytest

from helpers.data import load_stereo_pair
from helpers.geometry import (
    Intrinsics,
    PointCloud,
    backproject,
    discontinuity_mask,
    point_cloud,
    ray_distance_to_z,
    read_ply,
    write_ply,
)

NAN = np.nan
K = Intrinsics(fx=100.0, fy=100.0, cx=2.0, cy=1.0)  # a 5 x 3 image


def test_intrinsics_from_a_horizontal_field_of_view():
    K90 = Intrinsics.from_fov(640, 480, hfov_deg=90.0)  # tan(45°) = 1: focal = half the width
    assert K90.fx == pytest.approx(320.0) and K90.fy == pytest.approx(320.0)
    assert (K90.cx, K90.cy) == (319.5, 239.5)
    assert Intrinsics.from_fov(741, 500).hfov_deg(741) == pytest.approx(55.0)
    with pytest.raises(ValueError, match="between 0 and 180"):
        Intrinsics.from_fov(640, 480, hfov_deg=180.0)
    with pytest.raises(ValueError, match="> 0"):
        Intrinsics(0.0, 1.0, 0.0, 0.0)


def test_a_fronto_parallel_plane_back_projects_to_z_equal_to_its_depth():
    points = backproject(np.full((3, 5), 2.5), K)
    assert points.shape == (3, 5, 3) and points.dtype == np.float32
    assert np.all(points[..., 2] == 2.5)
    np.testing.assert_allclose(points[1, 2], [0.0, 0.0, 2.5])  # the principal point
    np.testing.assert_allclose(points[0, 4], [(4 - 2) * 2.5 / 100, (0 - 1) * 2.5 / 100, 2.5], rtol=1e-6)
    ray = np.full((3, 5), 2.5 * math.sqrt(1 + 0.02**2 + 0.01**2))  # the top-right pixel's ray distance, everywhere
    assert ray_distance_to_z(ray, K)[0, 4] == pytest.approx(2.5)


def test_a_tilted_plane_stays_a_plane_and_ray_distance_differs_from_z():
    Kw = Intrinsics.from_fov(64, 48, hfov_deg=90.0)
    normal, offset = np.array([0.2, -0.1, 1.0]), 3.0  # plane n . X = 3
    x, y = np.meshgrid((np.arange(64) - Kw.cx) / Kw.fx, (np.arange(48) - Kw.cy) / Kw.fy)
    rays = np.stack([x, y, np.ones_like(x)], -1)  # written out here, independently of ray_directions
    z = offset / (rays @ normal)  # where each pixel's ray meets the plane
    np.testing.assert_allclose(backproject(z, Kw) @ normal, offset, rtol=1e-5)
    ray = z * np.linalg.norm(rays, axis=-1)  # distance along each ray
    np.testing.assert_allclose(backproject(ray, Kw, kind="ray") @ normal, offset, rtol=1e-5)
    np.testing.assert_allclose(ray_distance_to_z(ray, Kw), z, rtol=1e-6)
    # treating ray distance as z-depth bends the plane: far from the centre points leave it
    assert np.abs(backproject(ray, Kw) @ normal - offset).max() > 0.5


def _project(points, K):
    """u = fx X/Z + cx, v = fy Y/Z + cy (notebook 06 writes it in its cell)."""
    p = np.asarray(points, dtype=np.float64)
    return K.fx * p[..., 0] / p[..., 2] + K.cx, K.fy * p[..., 1] / p[..., 2] + K.cy


def test_invalid_depth_gives_nan_points_and_projecting_inverts_backproject():
    depth = np.array([[1.0, NAN, 0.0, -2.0, 4.0]] * 3)
    points = backproject(depth, K)
    assert np.isnan(points[:, 1:4]).all() and np.isfinite(points[:, [0, 4]]).all()
    u, v = _project(points[:, [0, 4]], K)
    np.testing.assert_allclose(u, [[0, 4]] * 3, atol=1e-5)
    np.testing.assert_allclose(v, [[0, 0], [1, 1], [2, 2]], atol=1e-5)
    with pytest.raises(ValueError, match="'z'"):
        backproject(depth, K, kind="euclid")


def test_middlebury_calibration_reproduces_the_ground_truth_disparity():
    pair = load_stereo_pair()
    cal = pair.calibration
    depth = pair.depth_m()
    rows, cols = np.nonzero(pair.valid)
    left = backproject(depth, Intrinsics.from_stereo(cal))[rows, cols].astype(np.float64)
    in_right = left - np.array([cal.baseline_mm / 1000.0, 0.0, 0.0])  # the right camera sits one baseline to the right
    right_K = Intrinsics(cal.focal_px, cal.focal_px, cal.cx_px + cal.doffs_px, cal.cy_px)
    u, v = _project(in_right, right_K)
    expected = cols - pair.disparity[rows, cols]
    assert np.abs(u - expected).max() < 2e-3  # float32 depth: sub-millipixel agreement
    assert np.abs(v - rows).max() < 1e-3


def test_discontinuity_mask_marks_both_sides_of_a_step_only():
    depth = np.array([[1.0, 1.0, 1.02, 2.0, 2.0], [1.0, 1.0, 1.0, 1.0, NAN]])
    edges = discontinuity_mask(depth, max_rel_jump=0.05)
    assert edges.tolist() == [[False, False, True, True, False], [False, False, False, True, False]]
    # (0,3)-(1,3): 2 vs 1 is a jump; (0,4)-(1,4) involves NaN and (0,1)-(0,2) is only 2 %
    with pytest.raises(ValueError, match="> 0"):
        discontinuity_mask(depth, max_rel_jump=0.0)


def test_point_cloud_keeps_valid_masked_subsampled_pixels_with_their_colours():
    depth = np.full((3, 5), 2.0)
    depth[0, 0] = NAN
    image = np.arange(3 * 5 * 3, dtype=np.uint8).reshape(3, 5, 3)
    cloud = point_cloud(depth, K, image)
    assert len(cloud) == 14 and cloud.points.dtype == np.float32 and cloud.colors.dtype == np.uint8
    np.testing.assert_array_equal(cloud.colors[0], image[0, 1])  # row by row, skipping the NaN pixel
    mask = np.ones((3, 5), bool)
    mask[2] = False
    assert len(point_cloud(depth, K, image, mask=mask)) == 9
    assert len(point_cloud(depth, K, image, stride=2)) == 5  # rows 0, 2 x cols 0, 2, 4, minus the NaN
    with pytest.raises(ValueError, match="resize"):
        point_cloud(depth, K, image[:2])


@pytest.mark.parametrize("binary", [True, False])
def test_ply_round_trip_keeps_every_point_and_colour(tmp_path, binary):
    cloud = PointCloud(np.array([[0.1, -2.5, 3.0], [1e-3, 7.25, 10.0]], np.float32),
                       np.array([[255, 0, 7], [1, 2, 3]], np.uint8))
    path = write_ply(tmp_path / "c.ply", cloud, binary=binary)
    header = path.read_bytes().split(b"end_header\n")[0].decode()
    assert "element vertex 2" in header and ("binary_little_endian" if binary else "ascii") in header
    back = read_ply(path)
    np.testing.assert_array_equal(back.points, cloud.points)
    np.testing.assert_array_equal(back.colors, cloud.colors)


def test_ply_refuses_overwrites_nan_points_and_foreign_files(tmp_path):
    cloud = PointCloud(np.zeros((1, 3), np.float32), np.zeros((1, 3), np.uint8))
    write_ply(tmp_path / "c.ply", cloud)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_ply(tmp_path / "c.ply", cloud)
    write_ply(tmp_path / "c.ply", PointCloud(np.ones((2, 3), np.float32), np.ones((2, 3), np.uint8)), overwrite=True)
    assert len(read_ply(tmp_path / "c.ply")) == 2
    with pytest.raises(ValueError, match="NaN"):
        write_ply(tmp_path / "n.ply", PointCloud(np.full((1, 3), NAN, np.float32), np.zeros((1, 3), np.uint8)))
    (tmp_path / "x.ply").write_bytes(b"not a ply")
    with pytest.raises(ValueError, match="not a PLY"):
        read_ply(tmp_path / "x.ply")


# Notebook 06 writes back-projection, the point cloud, the edge mask and the PLY file in its cells; helpers.geometry
# keeps the careful versions that notebook 13 and the app reuse. Both must compute the same.
def _lesson(name, **namespace):
    from pathlib import Path

    from tests.lesson_code import lesson_function

    return lesson_function("06", name, Path=Path, **namespace)


def _middlebury_like_depth():
    """The Middlebury ground truth (NaN holes, real edges) and a random map with steps, NaN and a non-positive pixel."""
    pair = load_stereo_pair()
    rng = np.random.default_rng(0)
    steps = rng.choice([1.0, 1.03, 2.0, 4.0], size=(40, 60)).astype(np.float32)
    steps[rng.uniform(size=steps.shape) < 0.1] = NAN
    return pair, [(pair.depth_m(), Intrinsics.from_stereo(pair.calibration)), (steps, Intrinsics.from_fov(60, 40, 70.0))]


def test_the_lessons_backprojection_point_cloud_and_edges_match_helpers_geometry():
    backproject_lesson = _lesson("backproject")
    edges_lesson = _lesson("discontinuity_mask")
    cloud_lesson = _lesson("point_cloud", backproject=backproject_lesson)
    pair, maps = _middlebury_like_depth()
    for depth, camera in maps:
        np.testing.assert_allclose(backproject_lesson(depth, camera), backproject(depth, camera), rtol=1e-6, atol=1e-6)
        for jump in (0.02, 0.05, 0.5):
            np.testing.assert_array_equal(edges_lesson(depth, jump), discontinuity_mask(depth, max_rel_jump=jump))
        image = np.random.default_rng(1).integers(0, 256, size=depth.shape + (3,), dtype=np.uint8)
        keep = ~discontinuity_mask(depth)
        points, colours = cloud_lesson(depth, camera, image, keep)
        expected = point_cloud(depth, camera, image, mask=keep)
        np.testing.assert_allclose(points, expected.points, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(colours, expected.colors)
    assert discontinuity_mask(maps[0][0]).sum() > 1000  # the comparison sees real edges


def test_the_lessons_ply_file_is_byte_identical_to_write_ply(tmp_path):
    write_ply_lesson = _lesson("write_ply")
    points = np.array([[0.5, -1.25, 3.0], [1e-3, 2.0, 4.5]], dtype=np.float64)
    colours = np.array([[255, 0, 7], [1, 2, 3]], dtype=np.uint8)
    path = write_ply_lesson(tmp_path / "lesson.ply", points, colours)
    write_ply(tmp_path / "helpers.ply", PointCloud(points.astype(np.float32), colours))
    assert path.read_bytes() == (tmp_path / "helpers.ply").read_bytes()
    back = read_ply(path)
    np.testing.assert_array_equal(back.points, points.astype(np.float32))
    with pytest.raises(FileExistsError):
        write_ply_lesson(path, points, colours)  # never replaces a file unless asked
    write_ply_lesson(path, points[:1], colours[:1], overwrite=True)
    assert len(read_ply(path)) == 1


def test_the_lessons_16_bit_depth_png_is_byte_identical_to_helpers_depthio(tmp_path):
    """Notebook 06 writes its 16-bit PNG with PIL; helpers.depthio's writer (predict_folder, the app) must agree."""
    from helpers.depthio import load_depth_png16, save_depth_png16

    from PIL import Image, PngImagePlugin

    lesson_save = _lesson("save_depth_png16", Image=Image, PngImagePlugin=PngImagePlugin)
    pair, maps = _middlebury_like_depth()
    for index, (depth, _) in enumerate(maps):
        for scale in (1000.0, 256.0):
            ours = lesson_save(tmp_path / f"lesson-{index}-{scale}.png", depth, scale)
            theirs = save_depth_png16(tmp_path / f"helpers-{index}-{scale}.png", depth, scale=scale)
            assert ours.read_bytes() == theirs.read_bytes()
            back = load_depth_png16(ours)  # the scale the file states
            np.testing.assert_allclose(back, depth, atol=0.5 / scale + 1e-7)
    with pytest.raises(ValueError, match="does not fit 16 bits"):
        lesson_save(tmp_path / "far.png", np.full((2, 2), 70.0), 1000.0)
