"""Cameras that frame a face: a perspective look-at camera whose distance makes a set of points (the
template, or its lips) fill the picture, from the front or turned about the vertical axis."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

FOV_Y_DEG = 20.0  # a portrait lens: little perspective distortion of the face


class Camera(NamedTuple):
    view: np.ndarray        # 4x4 world -> camera
    projection: np.ndarray  # 4x4 camera -> clip


def _perspective(fov_y_deg: float, aspect: float, near: float, far: float) -> np.ndarray:
    f = 1.0 / math.tan(math.radians(fov_y_deg) / 2)
    return np.array([[f / aspect, 0, 0, 0],
                     [0, f, 0, 0],
                     [0, 0, (far + near) / (near - far), 2 * far * near / (near - far)],
                     [0, 0, -1, 0]], np.float64)


def _yaw(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]], np.float64)


def framing(points: np.ndarray, aspect: float, yaw_deg: float = 0.0, margin: float = 1.1,
            fov_y_deg: float = FOV_Y_DEG) -> Camera:
    """A camera looking along -z (the face looks along +z) at `points`, turned by `yaw_deg` about the
    vertical axis through their centre (positive: the camera moves to the face's left, towards +x), at
    the distance where their extent, times `margin`, fills the picture of width / height `aspect`."""
    p = np.asarray(points, np.float64).reshape(-1, 3)
    centre = 0.5 * (p.min(0) + p.max(0))
    R = _yaw(yaw_deg)                      # camera orientation in the world
    q = (p - centre) @ R                   # the points in the turned frame
    half_h = max(np.abs(q[:, 1]).max(), np.abs(q[:, 0]).max() / aspect) * margin
    t = math.tan(math.radians(fov_y_deg) / 2)
    dist = half_h / t + q[:, 2].max()
    eye = centre + R @ np.array([0.0, 0.0, dist])
    view = np.eye(4)
    view[:3, :3] = R.T
    view[:3, 3] = -R.T @ eye
    # near / far wide enough for the whole head even when framing only a part of it (the lips: the nose
    # sticks out in front of them)
    near, far = 0.1 * dist, 10.0 * dist
    return Camera(view, _perspective(fov_y_deg, aspect, near, far))
