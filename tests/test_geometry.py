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
    project,
    ray_distance_to_z,
    read_ply,
    write_ply,
    z_to_ray_distance,
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
    ray = z_to_ray_distance(np.full((3, 5), 2.5), K)
    assert ray[1, 2] == pytest.approx(2.5)  # on the optical axis both distances agree
    assert ray[0, 4] == pytest.approx(2.5 * math.sqrt(1 + 0.02**2 + 0.01**2))
    assert (ray >= 2.5).all()


def test_a_tilted_plane_stays_a_plane_and_ray_distance_differs_from_z():
    Kw = Intrinsics.from_fov(64, 48, hfov_deg=90.0)
    normal, offset = np.array([0.2, -0.1, 1.0]), 3.0  # plane n . X = 3
    x, y = np.meshgrid((np.arange(64) - Kw.cx) / Kw.fx, (np.arange(48) - Kw.cy) / Kw.fy)
    rays = np.stack([x, y, np.ones_like(x)], -1)  # written out here, independently of ray_directions
    z = offset / (rays @ normal)  # where each pixel's ray meets the plane
    np.testing.assert_allclose(backproject(z, Kw) @ normal, offset, rtol=1e-5)
    ray = z_to_ray_distance(z, Kw)
    np.testing.assert_allclose(backproject(ray, Kw, kind="ray") @ normal, offset, rtol=1e-5)
    np.testing.assert_allclose(ray_distance_to_z(ray, Kw), z, rtol=1e-6)
    # treating ray distance as z-depth bends the plane: far from the centre points leave it
    assert np.abs(backproject(ray, Kw) @ normal - offset).max() > 0.5


def test_invalid_depth_gives_nan_points_and_project_inverts_backproject():
    depth = np.array([[1.0, NAN, 0.0, -2.0, 4.0]] * 3)
    points = backproject(depth, K)
    assert np.isnan(points[:, 1:4]).all() and np.isfinite(points[:, [0, 4]]).all()
    u, v = project(points[:, [0, 4]], K)
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
    u, v = project(in_right, right_K)
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
