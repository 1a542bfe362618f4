"""From depth maps to 3-D: pinhole intrinsics, back-projection, z-depth vs ray distance, point clouds, PLY files.

Conventions: pixel (u, v) = (column, row) with u = 0 at the centre of the first pixel; camera frame
x right, y down, z forward (OpenCV). A depth map holds z-depth (distance along the optical axis)
unless said otherwise; "ray distance" is the Euclidean distance from the camera centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .depthmath import as_array


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics in pixels: focal lengths ``fx``, ``fy`` and principal point ``cx``, ``cy``."""

    fx: float
    fy: float
    cx: float
    cy: float

    def __post_init__(self):
        if not (self.fx > 0 and self.fy > 0):
            raise ValueError(f"focal lengths must be > 0 pixels, got fx={self.fx}, fy={self.fy}.")

    @classmethod
    def from_fov(cls, width: int, height: int, hfov_deg: float = 55.0) -> "Intrinsics":
        """Guess for an unknown camera: square pixels, principal point at the centre, horizontal FOV ``hfov_deg``."""
        if not 0.0 < hfov_deg < 180.0:
            raise ValueError(f"hfov_deg must be between 0 and 180 degrees, got {hfov_deg}.")
        return cls.centred((width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0), width, height)

    @classmethod
    def centred(cls, focal_px: float, width: int, height: int) -> "Intrinsics":
        """Square pixels of focal length ``focal_px``, principal point at the centre of a ``width`` x ``height`` image."""
        return cls(focal_px, focal_px, (width - 1) / 2.0, (height - 1) / 2.0)

    @classmethod
    def from_stereo(cls, calibration) -> "Intrinsics":
        """The left camera of a ``helpers.StereoCalibration`` (square pixels)."""
        return cls(calibration.focal_px, calibration.focal_px, calibration.cx_px, calibration.cy_px)

    def hfov_deg(self, width: int) -> float:
        """Horizontal field of view in degrees for an image ``width`` pixels wide."""
        return math.degrees(2.0 * math.atan((width / 2.0) / self.fx))


def _depth_map(depth) -> np.ndarray:
    array = as_array(depth)
    if array.ndim != 2:
        raise ValueError(f"need one 2-D depth map (H, W), got shape {array.shape}.")
    return array


def ray_directions(shape: tuple[int, int], K: Intrinsics) -> np.ndarray:
    """(H, W, 3) float64 directions ((u - cx)/fx, (v - cy)/fy, 1): the point at z-depth 1 on each pixel's ray."""
    height, width = shape
    u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    return np.stack([(u - K.cx) / K.fx, (v - K.cy) / K.fy, np.ones_like(u)], axis=-1)


def ray_distance_to_z(distance, K: Intrinsics) -> np.ndarray:
    """z-depth from Euclidean distance along each pixel's ray: z = r / |((u-cx)/fx, (v-cy)/fy, 1)|."""
    r = _depth_map(distance)
    return (r / np.linalg.norm(ray_directions(r.shape, K), axis=-1)).astype(np.float32)


def backproject(depth, K: Intrinsics, kind: str = "z") -> np.ndarray:
    """(H, W, 3) camera-frame points (X, Y, Z) from a depth map; NaN where depth is invalid or <= 0.

    ``kind="z"``: the map holds z-depth; ``kind="ray"``: it holds distance along the ray.
    """
    if kind not in ("z", "ray"):
        raise ValueError(f"kind must be 'z' (z-depth) or 'ray' (distance along the ray), got {kind!r}.")
    z = _depth_map(depth) if kind == "z" else ray_distance_to_z(depth, K)
    z = np.where(np.isfinite(z) & (z > 0), z, np.nan).astype(np.float64)
    return (ray_directions(z.shape, K) * z[..., None]).astype(np.float32)


def discontinuity_mask(depth, max_rel_jump: float = 0.05) -> np.ndarray:
    """True on pixels next to a depth edge: a 4-neighbour differs by more than ``max_rel_jump`` × the nearer depth.

    Both sides of an edge are marked; neighbours that are NaN do not count as edges.
    """
    if max_rel_jump <= 0:
        raise ValueError(f"max_rel_jump must be > 0 (e.g. 0.05 for 5 %), got {max_rel_jump}.")
    z = _depth_map(depth).astype(np.float64)
    edges = np.zeros(z.shape, dtype=bool)
    for a, b in ((z[:, :-1], z[:, 1:]), (z[:-1, :], z[1:, :])):
        with np.errstate(invalid="ignore"):
            jump = np.abs(a - b) > max_rel_jump * np.minimum(a, b)
        jump &= np.isfinite(a) & np.isfinite(b)
        if a.shape[1] < z.shape[1]:  # horizontal neighbours
            edges[:, :-1] |= jump
            edges[:, 1:] |= jump
        else:
            edges[:-1, :] |= jump
            edges[1:, :] |= jump
    return edges


@dataclass(frozen=True)
class PointCloud:
    """N points (float32, camera frame) with their RGB colours (uint8)."""

    points: np.ndarray
    colors: np.ndarray

    def __len__(self) -> int:
        return len(self.points)


def point_cloud(depth, K: Intrinsics, image=None, mask: np.ndarray | None = None, stride: int = 1) -> PointCloud:
    """Coloured points of every ``stride``-th valid pixel (finite depth > 0, ``mask`` True), row by row."""
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}.")
    xyz = backproject(depth, K)
    keep = np.isfinite(xyz[..., 2])
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != keep.shape:
            raise ValueError(f"mask shape {mask.shape} does not match depth shape {keep.shape}.")
        keep &= mask
    sub = np.zeros_like(keep)
    sub[::stride, ::stride] = True
    keep &= sub
    if image is None:
        colors = np.full(keep.shape + (3,), 255, dtype=np.uint8)
    else:
        colors = np.asarray(image.convert("RGB") if hasattr(image, "convert") else image, dtype=np.uint8)
        if colors.shape[:2] != keep.shape:
            raise ValueError(f"image size {colors.shape[1]}x{colors.shape[0]} does not match depth "
                             f"{keep.shape[1]}x{keep.shape[0]}; resize the depth map to the image first.")
    return PointCloud(xyz[keep].astype(np.float32), colors[keep][:, :3].astype(np.uint8))


_PLY_DTYPE = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1")])


def write_ply(path, cloud: PointCloud, binary: bool = True, overwrite: bool = False) -> Path:
    """Write a coloured point cloud as PLY (binary little-endian, or ASCII); never overwrites unless asked."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it, or choose another name.")
    points, colors = np.asarray(cloud.points, np.float32), np.asarray(cloud.colors, np.uint8)
    if points.ndim != 2 or points.shape[1] != 3 or colors.shape != points.shape:
        raise ValueError(f"need points (N, 3) and colors (N, 3), got {points.shape} and {colors.shape}.")
    if not np.isfinite(points).all():
        raise ValueError("points contain NaN or inf; keep only valid pixels (point_cloud does this).")
    rows = np.empty(len(points), dtype=_PLY_DTYPE)
    for i, name in enumerate("xyz"):
        rows[name] = points[:, i]
    for i, name in enumerate(("red", "green", "blue")):
        rows[name] = colors[:, i]
    header = (
        f"ply\nformat {'binary_little_endian' if binary else 'ascii'} 1.0\nelement vertex {len(rows)}\n"
        "property float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(header.encode("ascii"))
        if binary:
            f.write(rows.tobytes())
        else:
            for p, c in zip(points, colors):
                f.write(f"{float(p[0])!r} {float(p[1])!r} {float(p[2])!r} {c[0]} {c[1]} {c[2]}\n".encode("ascii"))
    return path


def read_ply(path) -> PointCloud:
    """Read a PLY written by ``write_ply`` (x, y, z float and red, green, blue uchar vertices)."""
    data = Path(path).read_bytes()
    end = data.find(b"end_header\n")
    if not data.startswith(b"ply\n") or end < 0:
        raise ValueError(f"{path} is not a PLY file (no 'ply' magic line or no 'end_header').")
    header = data[:end].decode("ascii").splitlines()
    fmt = next((line.split()[1] for line in header if line.startswith("format ")), None)
    count = next((int(line.split()[2]) for line in header if line.startswith("element vertex ")), None)
    properties = [line.split()[-1] for line in header if line.startswith("property ")]
    if properties != list(_PLY_DTYPE.names) or count is None or fmt not in ("binary_little_endian", "ascii"):
        raise ValueError(f"{path}: only PLY files with x y z red green blue vertices, as write_ply makes, are supported.")
    body = data[end + len(b"end_header\n"):]
    if fmt == "binary_little_endian":
        rows = np.frombuffer(body, dtype=_PLY_DTYPE, count=count)
        points = np.stack([rows[n] for n in "xyz"], axis=1)
        colors = np.stack([rows[n] for n in ("red", "green", "blue")], axis=1)
    else:
        table = np.loadtxt(body.decode("ascii").splitlines(), dtype=np.float64, ndmin=2).reshape(-1, 6)
        if len(table) != count:
            raise ValueError(f"{path}: header says {count} vertices, found {len(table)}.")
        points, colors = table[:, :3], table[:, 3:]
    return PointCloud(points.astype(np.float32), colors.astype(np.uint8))
