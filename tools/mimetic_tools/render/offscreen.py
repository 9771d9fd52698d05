"""A mesh on an offscreen OpenGL framebuffer (moderngl): per-vertex colours, smooth normals, a key
and a fill light fixed to the camera, 4x multisampling. One context and one set of buffers per
renderer; `render` only uploads the new vertex positions."""
from __future__ import annotations

import numpy as np

_VERTEX_SHADER = """
#version 330
uniform mat4 view;
uniform mat4 projection;
in vec3 in_position;
in vec3 in_normal;
in vec3 in_color;
out vec3 v_position;
out vec3 v_normal;
out vec3 v_color;
void main() {
    vec4 p = view * vec4(in_position, 1.0);
    v_position = p.xyz;
    v_normal = mat3(view) * in_normal;
    v_color = in_color;
    gl_Position = projection * p;
}
"""

# Lighting in camera space, so every view of the face is lit the same way: a key light from the upper
# left, a weaker fill from the right, a little ambient and a soft highlight (Blinn-Phong).
_FRAGMENT_SHADER = """
#version 330
uniform vec3 key_light;
uniform vec3 fill_light;
in vec3 v_position;
in vec3 v_normal;
in vec3 v_color;
out vec4 f_color;
void main() {
    vec3 n = normalize(v_normal);
    vec3 eye = normalize(-v_position);
    if (dot(n, eye) < 0.0) n = -n;  // the rig is an open surface: light its back side too
    float key = max(dot(n, key_light), 0.0);
    float fill = max(dot(n, fill_light), 0.0);
    float spec = pow(max(dot(n, normalize(key_light + eye)), 0.0), 40.0);
    vec3 c = v_color * (0.28 + 0.62 * key + 0.22 * fill) + 0.08 * spec;
    f_color = vec4(pow(clamp(c, 0.0, 1.0), vec3(1.0 / 1.15)), 1.0);
}
"""

BACKGROUND = (236, 238, 242)
SKIN = (0.80, 0.72, 0.68)


def _unit(v) -> np.ndarray:
    v = np.asarray(v, np.float64)
    return v / np.linalg.norm(v)


def vertex_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals [V, 3] (unit length; zero-area neighbourhoods give 0)."""
    v = np.asarray(vertices, np.float64)
    a, b, c = (v[triangles[:, k]] for k in range(3))
    fn = np.cross(b - a, c - a)
    n = np.zeros_like(v)
    for k in range(3):
        np.add.at(n, triangles[:, k], fn)
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def _create_context():
    import moderngl

    try:  # headless first: no display needed (Mesa's EGL with llvmpipe, or a GPU driver's)
        return moderngl.create_standalone_context(require=330, backend="egl")
    except Exception:  # noqa: BLE001 - fall back to the platform's default (GLX, WGL, CGL)
        return moderngl.create_standalone_context(require=330)


class MeshRenderer:
    """Renders one mesh topology; one pair of framebuffers per image size asked for."""

    def __init__(self, triangles, num_vertices: int, background=BACKGROUND):
        self.triangles = np.ascontiguousarray(triangles, np.int32)
        self.num_vertices = int(num_vertices)
        self.background = tuple(c / 255.0 for c in background)
        self.ctx = _create_context()
        self.program = self.ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER)
        self.program["key_light"].value = tuple(_unit([-0.35, 0.45, 0.82]))
        self.program["fill_light"].value = tuple(_unit([0.6, 0.1, 0.8]))
        n = self.num_vertices * 3 * 4
        self.positions = self.ctx.buffer(reserve=n)
        self.normals = self.ctx.buffer(reserve=n)
        self.colors = self.ctx.buffer(reserve=n)
        self.vao = self.ctx.vertex_array(self.program, [(self.positions, "3f", "in_position"),
                                                        (self.normals, "3f", "in_normal"),
                                                        (self.colors, "3f", "in_color")],
                                         index_buffer=self.ctx.buffer(self.triangles.tobytes()))
        self._framebuffers = {}

    def _targets(self, size):
        """(multisampled framebuffer, single-sample one to resolve it into) for (width, height)."""
        if size not in self._framebuffers:
            samples = min(4, self.ctx.max_samples)
            msaa = self.ctx.framebuffer(color_attachments=[self.ctx.renderbuffer(size, 4, samples=samples)],
                                        depth_attachment=self.ctx.depth_renderbuffer(size, samples=samples))
            self._framebuffers[size] = (msaa, self.ctx.simple_framebuffer(size))
        return self._framebuffers[size]

    def render(self, vertices, view: np.ndarray, projection: np.ndarray, size, colors=None) -> np.ndarray:
        """vertices [V, 3]; view / projection 4x4 (camera.py); size (width, height); colors [V, 3] in
        0..1 -> uint8 [height, width, 3]."""
        import moderngl

        size = (int(size[0]), int(size[1]))
        msaa, resolved = self._targets(size)
        v = np.asarray(vertices, np.float32).reshape(self.num_vertices, 3)
        c = np.broadcast_to(np.asarray(SKIN if colors is None else colors, np.float32), v.shape)
        self.positions.write(np.ascontiguousarray(v).tobytes())
        self.normals.write(vertex_normals(v, self.triangles).astype(np.float32).tobytes())
        self.colors.write(np.ascontiguousarray(c).tobytes())
        # OpenGL reads matrices column-major: the transpose of numpy's row-major layout
        self.program["view"].write(np.asarray(view, np.float32).T.tobytes())
        self.program["projection"].write(np.asarray(projection, np.float32).T.tobytes())
        msaa.use()
        msaa.clear(*self.background, 1.0)
        self.ctx.enable(moderngl.DEPTH_TEST)
        self.vao.render(moderngl.TRIANGLES)
        self.ctx.copy_framebuffer(resolved, msaa)
        img = np.frombuffer(resolved.read(components=3), np.uint8).reshape(size[1], size[0], 3)
        return np.ascontiguousarray(img[::-1])  # OpenGL's first row is the bottom one

    def release(self) -> None:
        self.ctx.release()
