"""A procedural face rig of our own: a head-front surface with a mouth opening, lips with inner lip
contours, jaw, chin, cheeks, nose, eye sockets with eyeballs, teeth and a mouth cavity; triangles;
a linear blendshape basis with named controls.

Coordinates: metres, x towards the subject's left (the viewer's right in a front view), y up, z
towards the viewer. The face is about 0.15 m wide and 0.23 m tall; the mouth is 50 mm wide.

The skin is one surface built in "mouth polar" coordinates (t, phi): ring 0 (t = 0) is the inner lip
contour, a thin ellipse (x, y) = (w cos phi, h0 sin phi); ring t lies on the straight segment
between the inner contour and the face outline at the same phi. The upper inner lip is ring 0 with
0 < phi < pi, the lower inner lip its mirror image (phi -> -phi): pair j = (upper j, lower N - j)
has the same x. The mouth corners (phi = 0, pi) are single vertices.

Inner-lip structure, exact by construction (`_project_contour`): for every control k except
`lower_lip_tuck`, the relative displacement of each pair is  upper - lower = s_j * a_k * n
(s_j = sin phi_j, n the unit "opening direction" of the jaw at the lips, a_k a scalar gain), and the
neutral relative position is s_j * g0 * n. So the pair vectors are all s_j * G * n with
G = g0 + sum_k a_k w_k, and `lips_close` (a = -g0) closes the mouth exactly with
w_close = G(other controls) / g0: inner lips touching, opening exactly 0, for any jaw opening.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

CONTROLS = [
    "jaw_open",          # jaw rotation about the temporomandibular axis (chin, lower lip, lower teeth)
    "lips_close",        # bilabial closure: inner lips meet (1 closes the neutral gap; the generator
                         #   solves it so that closure is exact whatever the jaw does)
    "lips_press",        # lips pressed together: vermilion rolled in and thinned, corners tightened
    "lip_pucker",        # protrusion: lips forward, corners in (w, sh, u)
    "mouth_round",       # rounded open lips (o, u): corners in, lips forward and a round opening
    "lip_spread_left",   # subject's left corner pulled out and back (i, e, s)
    "lip_spread_right",
    "upper_lip_raise",   # upper lip up, upper teeth show
    "lower_lip_drop",    # lower lip down and everted, lower teeth show
    "lower_lip_tuck",    # labiodental: lower lip up and back under the upper teeth (f, v)
    "cheek_puff",        # cheeks blown out (air pressure behind a p/b closure)
    "smile_left",        # corner up and out, cheek raised (subject's left)
    "smile_right",
    "brow_raise",        # eyebrows and forehead up (prosody)
]

# colours (linear-ish RGB 0..1)
SKIN = np.array([0.86, 0.66, 0.54])
LIP = np.array([0.70, 0.33, 0.34])
CAVITY = np.array([0.22, 0.04, 0.05])
TONGUE = np.array([0.55, 0.22, 0.24])
TEETH = np.array([0.93, 0.91, 0.84])
SCLERA = np.array([0.95, 0.94, 0.92])
IRIS = np.array([0.28, 0.42, 0.55])
PUPIL = np.array([0.03, 0.03, 0.04])
BROW = np.array([0.33, 0.23, 0.16])
HAIR = np.array([0.24, 0.16, 0.11])


@dataclass
class Rig:
    template: np.ndarray          # F32 [V, 3]
    triangles: np.ndarray         # I32 [F, 3]
    basis: np.ndarray             # F32 [K, 3V]
    names: list                   # K control names
    lip_vertices: np.ndarray      # I32 [m]
    lip_upper: np.ndarray         # I32 [p]
    lip_lower: np.ndarray         # I32 [p]
    upper_face: np.ndarray        # I32 [u]
    vertex_colors: np.ndarray | None = None  # F32 [V, 3] (rendering only, optional in the file)
    extra: dict = field(default_factory=dict)

    @property
    def V(self) -> int:
        return int(self.template.shape[0])

    @property
    def K(self) -> int:
        return int(self.basis.shape[0])

    def index(self, name: str) -> int:
        return self.names.index(name)

    def offsets(self, weights) -> np.ndarray:
        """weights [..., K] -> vertex offsets [..., 3V] (float32)."""
        w = np.asarray(weights, dtype=np.float32)
        return (w @ self.basis).astype(np.float32)

    def vertices(self, weights) -> np.ndarray:
        """weights [..., K] -> vertices [..., V, 3]."""
        off = self.offsets(weights)
        return self.template + off.reshape(*off.shape[:-1], self.V, 3)

    def lip_opening(self, vertices) -> np.ndarray:
        """mean ||v_upper - v_lower|| over the paired inner-lip vertices; vertices [..., V, 3]."""
        v = np.asarray(vertices)
        return np.linalg.norm(v[..., self.lip_upper, :] - v[..., self.lip_lower, :], axis=-1).mean(-1)

    # --- the inner-lip gap model (see the module docstring) ----------------------------------
    def gap_model(self):
        """(g0, gains [K], n [3], s [p]): the pair vectors are s_j * (g0 + gains @ w) * n, exactly for
        every control but lower_lip_tuck (gain reported as its least-squares projection)."""
        t = self.template
        rel0 = t[self.lip_upper] - t[self.lip_lower]                      # [p, 3]
        s = np.linalg.norm(rel0, axis=1)
        g0 = float(s.max())
        s = s / g0
        n = rel0[np.argmax(s)] / np.linalg.norm(rel0[np.argmax(s)])
        B = self.basis.reshape(self.K, self.V, 3)
        relk = B[:, self.lip_upper] - B[:, self.lip_lower]                 # [K, p, 3]
        gains = (relk @ n) @ s / float(s @ s)
        return g0, gains.astype(np.float64), n.astype(np.float64), s.astype(np.float64)


# ----------------------------------------------------------------------------------------------
# construction
# ----------------------------------------------------------------------------------------------
N_PHI = 104          # angles around the mouth (even: 0 and N/2 are the corners)
N_RING = 36          # rings from the inner lip contour (t = 0) to the face outline (t = 1)
MOUTH_HALF_WIDTH = 0.025
NEUTRAL_GAP = 0.002  # inner-lip gap at the centre, neutral face (relaxed, lips slightly apart)
JAW_PIVOT = np.array([0.0, 0.032, 0.005])   # y, z of the jaw hinge axis (x ignored)
JAW_ANGLE = 0.25     # radians at jaw_open = 1 (about 25 mm of opening at the lips)


def _smoothstep(e0, e1, x):
    u = np.clip((np.asarray(x, dtype=np.float64) - e0) / (e1 - e0), 0.0, 1.0)
    return u * u * (3 - 2 * u)


def _gauss(x, y, cx, cy, sx, sy):
    return np.exp(-(((x - cx) / sx) ** 2 + ((y - cy) / sy) ** 2))


def _outline(phi):
    """Face outline (x, y) at mouth angle phi: an egg, widest at the cheekbones, narrow chin."""
    c, s = np.cos(phi), np.sin(phi)
    yc, A, B = 0.035, 0.076, 0.117
    down = np.clip(-s, 0, None)
    a = A * (1.0 - 0.30 * down ** 1.6)          # jaw taper towards the chin
    b = np.where(s < 0, 0.112, B)               # chin at y = 0.035 - 0.112 = -0.077
    return a * c, yc + b * s


def _lens(phi):
    return MOUTH_HALF_WIDTH * np.cos(phi), 0.5 * NEUTRAL_GAP * np.sin(phi)


def _ring_t():
    """Ring positions: dense on the lips, about 5 mm apart on the forehead."""
    from scipy.interpolate import PchipInterpolator

    u = np.linspace(0.0, 1.0, N_RING)
    return PchipInterpolator([0.0, 0.25, 0.45, 1.0], [0.0, 0.10, 0.35, 1.0])(u)


def _surface_z(x, y):
    """Neutral head-front height field (without the lip profile)."""
    q = 1.0 - (x / 0.086) ** 2 - ((y - 0.03) / 0.14) ** 2
    z = 0.095 * np.sqrt(np.clip(q, 0.03, None))
    z = z + 0.007 * _gauss(x, y, 0.0, -0.004, 0.032, 0.030)            # muzzle
    # nose: bridge to tip, alae
    ny = np.clip((y - 0.038) / (0.088 - 0.038), 0.0, 1.0)
    h = 0.024 * (1 - ny) + 0.009 * ny
    h = h * _smoothstep(0.026, 0.036, y) * (1 - _smoothstep(0.088, 0.100, y))
    wn = 0.0105 * (1 - ny) + 0.0065 * ny
    z = z + h * np.exp(-(x / wn) ** 2)
    z = z + 0.004 * _gauss(x, y, 0.0, 0.038, 0.008, 0.006)             # tip
    for sx in (-1, 1):
        z = z + 0.007 * _gauss(x, y, sx * 0.0135, 0.035, 0.0055, 0.0055)  # alae
        z = z - 0.010 * _gauss(x, y, sx * 0.033, 0.077, 0.019, 0.013)  # eye sockets
        z = z + 0.006 * _gauss(x, y, sx * 0.033, 0.096, 0.022, 0.006)  # brow ridges
        z = z + 0.006 * _gauss(x, y, sx * 0.046, 0.045, 0.014, 0.014)  # cheekbones
        z = z + 0.002 * _gauss(x, y, sx * 0.040, 0.008, 0.016, 0.020)  # cheeks
        z = z - 0.002 * _gauss(x, y, sx * 0.0245, 0.022, 0.0025, 0.012) * _smoothstep(0.005, 0.02, y)  # nasolabial
    z = z - 0.0012 * _gauss(x, y, 0.0, 0.022, 0.0035, 0.008)           # philtrum groove
    z = z + 0.007 * _gauss(x, y, 0.0, -0.056, 0.016, 0.014)            # chin
    z = z - 0.003 * _gauss(x, y, 0.0, -0.029, 0.014, 0.005)            # mentolabial sulcus
    return z


def _lip_border(phi):
    """Distance (m) from the inner contour to the vermilion border along each ray."""
    s = np.sin(phi)
    up = np.clip(s, 0, None)
    lo = np.clip(-s, 0, None)
    bow = 1.0 - 0.20 * np.exp(-((phi - np.pi / 2) / 0.13) ** 2)        # Cupid's bow dip
    bu = 0.0092 * bow * up ** 0.65
    bl = 0.0105 * lo ** 0.55
    return np.where(s >= 0, bu, bl) + 0.0012


def _lip_profile(r, phi, dist):
    """z added to the surface on the lips: r = distance / border (0 at the contact line), dist in m."""
    s = np.sin(phi)
    amp = np.where(s >= 0, 0.0034, 0.0040) * np.abs(s) ** 0.45
    roll = 0.0024 * np.exp(-(dist / 0.0022) ** 2) * np.abs(s) ** 0.6      # lips roll into the mouth
    bump = np.exp(-((r - 0.55) / 0.42) ** 2) * (r < 1.8)
    return amp * bump - roll


def _sphere_cap(center, radius, n_lat, n_lon, max_polar):
    """Vertices/triangles of a sphere cap facing +z (polar angle from +z up to max_polar)."""
    verts = [center + np.array([0, 0, radius])]
    for i in range(1, n_lat + 1):
        th = max_polar * i / n_lat
        for j in range(n_lon):
            ph = 2 * np.pi * j / n_lon
            verts.append(center + radius * np.array([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)]))
    tris = []
    for j in range(n_lon):
        tris.append([0, 1 + j, 1 + (j + 1) % n_lon])
    for i in range(n_lat - 1):
        a, b = 1 + i * n_lon, 1 + (i + 1) * n_lon
        for j in range(n_lon):
            j1 = (j + 1) % n_lon
            tris.append([a + j, b + j, b + j1])
            tris.append([a + j, b + j1, a + j1])
    return np.array(verts), np.array(tris)


def _grid(nu, nv, fn):
    """Vertices fn(u, v) on a nu x nv grid (u, v in [0, 1]) and its triangles."""
    us, vs = np.meshgrid(np.linspace(0, 1, nu), np.linspace(0, 1, nv), indexing="ij")
    verts = np.stack(fn(us.ravel(), vs.ravel()), axis=1)
    tris = []
    for i in range(nu - 1):
        for j in range(nv - 1):
            a, b, c, d = i * nv + j, (i + 1) * nv + j, (i + 1) * nv + j + 1, i * nv + j + 1
            tris += [[a, b, c], [a, c, d]]
    return verts, np.array(tris)


def build_rig() -> Rig:
    """The Mimetic corpus face rig (deterministic; no parameters)."""
    N, R = N_PHI, N_RING
    phi = 2 * np.pi * np.arange(N) / N
    tr = _ring_t()
    T, P = np.meshgrid(tr, phi, indexing="ij")                       # [R, N]
    lx, ly = _lens(P)
    ox, oy = _outline(P)
    X = lx + T * (ox - lx)
    Y = ly + T * (oy - ly)
    L = np.hypot(ox - lx, oy - ly)
    D = T * L                                                         # distance from the contact line
    Z = _surface_z(X, np.where(T == 0, 0.0, Y))                       # ring 0: both lips on one z
    border = _lip_border(P)
    Rl = D / border
    Z = Z + _lip_profile(Rl, P, D)
    Z[0] = 0.5 * (Z[0] + Z[0, (-np.arange(N)) % N])                   # paired inner-lip vertices: same z
    skin = np.stack([X, Y, Z], axis=-1).reshape(-1, 3)
    S = np.sin(P).reshape(-1)
    Df, Rf = D.reshape(-1), Rl.reshape(-1)
    n_skin = skin.shape[0]
    ring0 = np.arange(N)                                               # indices of ring 0 (i = 0)

    tris = []
    for i in range(R - 1):
        for j in range(N):
            j1 = (j + 1) % N
            a, b, c, d = i * N + j, i * N + j1, (i + 1) * N + j1, (i + 1) * N + j
            tris += [[a, b, c], [a, c, d]]
    tris = np.array(tris)

    parts_v = [skin]
    parts_t = [tris]
    kinds = [np.zeros(n_skin, int)]   # 0 skin, 1 cavity, 2 upper teeth, 3 lower teeth, 4 eyes, 5 tongue, 6 lids
    def add(v, t, kind):
        off = sum(p.shape[0] for p in parts_v)
        parts_v.append(v)
        parts_t.append(t + off)
        kinds.append(np.full(v.shape[0], kind))

    zc = float(_surface_z(np.array(0.0), np.array(0.0)))               # front of the mouth
    # mouth cavity: a dark bowl behind the lips
    def cavity(u, v):
        x = (u - 0.5) * 0.066
        y = 0.012 - v * 0.050
        z = _surface_z(x, np.zeros_like(x)) - 0.016 - 0.010 * (1 - ((u - 0.5) * 2) ** 2)
        return x, y, z
    add(*_grid(17, 11, cavity), 1)
    # tongue: a low mound in the cavity floor
    def tongue(u, v):
        x = (u - 0.5) * 0.036
        y = -0.006 - v * 0.018
        z = _surface_z(x, np.zeros_like(x)) - 0.0125 - 0.006 * ((u - 0.5) * 2) ** 2 - 0.004 * v
        return x, y, z
    add(*_grid(9, 5, tongue), 5)
    # teeth: curved bands following the dental arch behind the lips
    def teeth(y0, y1):
        def fn(u, v):
            x = (u - 0.5) * 0.040
            y = y0 + (y1 - y0) * v
            z = _surface_z(x, np.zeros_like(x)) - 0.0052 - 0.030 * ((u - 0.5) * 2) ** 4 * 0.35
            return x, y, z
        return fn
    add(*_grid(15, 3, teeth(0.0004, 0.011)), 2)
    add(*_grid(15, 3, teeth(-0.0115, -0.0022)), 3)
    # eyeballs and eyelids (lids: a slightly larger sphere shell, kept above / below an almond)
    for sx in (-1, 1):
        c = np.array([sx * 0.033, 0.0765, float(_surface_z(np.array(sx * 0.033), np.array(0.0765))) - 0.0062])
        v, t = _sphere_cap(c, 0.0120, 8, 20, 1.35)
        add(v, t, 4)
        v, t = _sphere_cap(c, 0.0129, 10, 28, 1.45)
        lx_ = (v[:, 0] - c[0]) / 0.0129 * sx
        ly_ = (v[:, 1] - c[1]) / 0.0129
        cen_x, cen_y = lx_[t].mean(1), ly_[t].mean(1)
        upper_lid = cen_y > 0.40 - 0.55 * (cen_x - 0.08) ** 2
        lower_lid = cen_y < -0.46 + 0.40 * (cen_x - 0.05) ** 2
        t = t[upper_lid | lower_lid]
        used = np.unique(t)
        remap = np.full(v.shape[0], -1)
        remap[used] = np.arange(used.size)
        add(v[used], remap[t], 6)

    V = np.concatenate(parts_v).astype(np.float64)
    F = np.concatenate(parts_t).astype(np.int64)
    kind = np.concatenate(kinds)
    nV = V.shape[0]

    # ---- jaw field -------------------------------------------------------------------------
    x, y, z = V[:, 0], V[:, 1], V[:, 2]
    is_skin = kind == 0
    Sv = np.zeros(nV)
    Sv[:n_skin] = S
    Dv = np.full(nV, 1.0)
    Dv[:n_skin] = Df
    Rv = np.full(nV, 9.0)
    Rv[:n_skin] = Rf
    upper_side = Sv > 1e-9
    lower_side = Sv < -1e-9

    yb = -0.002 + 0.30 * np.abs(x)                                    # jaw line above which nothing moves
    J_far = 1.0 / (1.0 + np.exp(-(yb - y) / 0.0045))
    J_far = J_far * (1 - _smoothstep(0.070, 0.080, np.abs(x)))
    J0 = np.clip(-Sv, 0, None)
    beta = _smoothstep(0.0, 0.030, Dv)
    J = np.where(is_skin, (1 - beta) * J0 + beta * J_far, 0.0)
    J[kind == 3] = 1.0                                                # lower teeth
    J[kind == 5] = 0.6                                                # tongue
    J[kind == 1] = np.clip((0.004 - y[kind == 1]) / 0.03, 0, 1)        # cavity floor stretches
    # linearised rotation about the hinge; near the lips use the displacement of the lip centre
    lip_c = np.array([0.0, -0.5 * NEUTRAL_GAP, zc])
    def rot(p):
        return JAW_ANGLE * np.stack([np.zeros_like(p[..., 0]), -(p[..., 2] - JAW_PIVOT[2]), p[..., 1] - JAW_PIVOT[1]], -1)
    d_rot = rot(V)
    d_c = rot(lip_c)
    near = np.where(is_skin, 1 - _smoothstep(0.004, 0.030, Dv), 0.0)[:, None]
    jaw = J[:, None] * (near * d_c + (1 - near) * d_rot)
    n_open = -d_c / np.linalg.norm(d_c)                               # upper - lower direction when opening

    # neutral gap along n_open: move ring 0 (upper +, lower -) so that rel = s * g0 * n
    V[ring0, 1] = 0.0
    V[ring0] += (0.5 * NEUTRAL_GAP * Sv[ring0])[:, None] * n_open[None, :]
    x, y, z = V[:, 0], V[:, 1], V[:, 2]

    # ---- masks ------------------------------------------------------------------------------
    lipw = np.where(is_skin, np.exp(-np.clip(Rv - 1.0, 0, None) ** 2 / 0.5), 0.0)   # 1 on the lips, fades out
    upper_lip = lipw * upper_side * np.abs(Sv) ** 0.6
    mouth_area = np.where(is_skin, _gauss(x, y, 0.0, -0.002, 0.040, 0.030), 0.0)
    near_mouth = np.where(is_skin, np.exp(-(Dv / 0.012) ** 2), 0.0)

    B = {}
    jaw[:, 1] += 0.0012 * upper_lip                                  # the upper lip retracts a little
    B["jaw_open"] = jaw

    # lips_close: upper moves 40 %, lower 60 % of the neutral gap, along n; fades with distance
    fall = np.where(is_skin, np.exp(-(Dv / 0.0075) ** 2), 0.0)
    share = np.where(upper_side, -0.4, 0.6)
    B["lips_close"] = (share * np.abs(Sv) * NEUTRAL_GAP * fall)[:, None] * n_open[None, :]

    # lips_press: vermilion rolled in and thinned (points move towards the contact line), corners in
    d = np.zeros((nV, 3))
    roll = np.where(is_skin, np.clip(Rv, 0, 1.6) * np.exp(-np.clip(Rv - 1, 0, None) ** 2 / 0.3), 0.0)
    d[:, 1] = -np.sign(Sv) * 0.0022 * roll * np.abs(Sv) ** 0.5
    d[:, 2] = -0.0022 * lipw * np.abs(Sv) ** 0.5
    d[:, 0] = -0.0015 * np.sign(x) * near_mouth * (1 - np.abs(Sv))
    B["lips_press"] = d

    # lip_pucker: lips forward, corners in, slight small opening
    d = np.zeros((nV, 3))
    pk = np.where(is_skin, np.exp(-(Dv / 0.016) ** 2), 0.0)
    d[:, 2] = 0.0075 * pk * (0.55 + 0.45 * np.abs(Sv))
    d[:, 0] = -0.30 * x * pk
    d[:, 1] = 0.0008 * np.sign(Sv) * pk * np.abs(Sv)
    B["lip_pucker"] = d

    # mouth_round: corners in, lips forward, a rounded opening
    d = np.zeros((nV, 3))
    rd = np.where(is_skin, np.exp(-(Dv / 0.014) ** 2), 0.0)
    d[:, 0] = -0.38 * x * rd
    d[:, 2] = 0.0035 * rd
    d[:, 1] = np.where(upper_side, 0.0022, -0.0030) * rd * np.abs(Sv) ** 0.5
    B["mouth_round"] = d

    # lip_spread_left / right: the corner pulled out, slightly up and back
    for name, sx in (("lip_spread_left", 1.0), ("lip_spread_right", -1.0)):
        side = 0.5 * (1 + np.tanh(sx * x / 0.008))
        w_ = mouth_area * side * _smoothstep(0.0, 0.028, sx * x + 0.004)
        d = np.zeros((nV, 3))
        d[:, 0] = sx * 0.0085 * w_
        d[:, 1] = 0.0010 * w_
        d[:, 2] = -0.0030 * w_
        B[name] = d

    # upper_lip_raise / lower_lip_drop
    d = np.zeros((nV, 3))
    ur = np.where(is_skin, np.exp(-(Dv / 0.011) ** 2), 0.0) * upper_side * np.abs(Sv) ** 0.8
    d[:, 1] = 0.0042 * ur
    d[:, 2] = 0.0010 * ur
    B["upper_lip_raise"] = d
    d = np.zeros((nV, 3))
    lr = np.where(is_skin, np.exp(-(Dv / 0.012) ** 2), 0.0) * lower_side * np.abs(Sv) ** 0.8
    d[:, 1] = -0.0048 * lr
    d[:, 2] = 0.0012 * lr
    B["lower_lip_drop"] = d

    # lower_lip_tuck: lower lip up and back under the upper teeth
    d = np.zeros((nV, 3))
    tk = np.where(is_skin, np.exp(-(Dv / 0.010) ** 2), 0.0) * lower_side * np.abs(Sv) ** 0.7
    d[:, 1] = 0.0022 * tk
    d[:, 2] = -0.0042 * tk
    B["lower_lip_tuck"] = d

    # cheek_puff
    d = np.zeros((nV, 3))
    for sx in (-1, 1):
        g = np.where(is_skin, _gauss(x, y, sx * 0.042, 0.004, 0.017, 0.020), 0.0)
        d[:, 0] += sx * 0.0035 * g
        d[:, 2] += 0.0030 * g
    d[:, 2] += 0.0012 * near_mouth
    B["cheek_puff"] = d

    # smile_left / right
    for name, sx in (("smile_left", 1.0), ("smile_right", -1.0)):
        corner = np.where(is_skin, _gauss(x, y, sx * 0.026, 0.0, 0.014, 0.012), 0.0)
        cheek = np.where(is_skin, _gauss(x, y, sx * 0.040, 0.030, 0.016, 0.014), 0.0)
        d = np.zeros((nV, 3))
        d[:, 0] = sx * 0.0040 * corner
        d[:, 1] = 0.0048 * corner + 0.0020 * cheek
        d[:, 2] = -0.0015 * corner + 0.0012 * cheek
        B[name] = d

    # brow_raise
    d = np.zeros((nV, 3))
    br = np.where(is_skin, np.exp(-(((np.abs(x) - 0.032) / 0.026) ** 2)) * _smoothstep(0.082, 0.096, y), 0.0)
    br = br * (1 - 0.5 * _smoothstep(0.11, 0.15, y))
    d[:, 1] = 0.0040 * br
    d[:, 2] = 0.0006 * br
    B["brow_raise"] = d

    # speech controls leave the upper face alone (brow_raise moves it; smiles and puffs reach the cheeks)
    lock = np.where(is_skin | (kind == 4) | (kind == 6), 1 - _smoothstep(0.030, 0.048, y), 1.0)
    for name in CONTROLS:
        if name not in ("brow_raise", "smile_left", "smile_right", "cheek_puff"):
            B[name] = B[name] * lock[:, None]
    basis = np.stack([B[n] for n in CONTROLS])                        # [K, V, 3]

    # ---- exact inner-lip structure ---------------------------------------------------------
    half = N // 2
    lip_upper = np.arange(1, half)
    lip_lower = N - lip_upper
    s = np.sin(phi[lip_upper])
    for k, name in enumerate(CONTROLS):
        if name == "lower_lip_tuck":
            continue
        du, dl = basis[k, lip_upper], basis[k, lip_lower]
        mean = 0.5 * (du + dl)
        rel = du - dl
        a = float(((rel @ n_open) * s).sum() / (s * s).sum())
        if name == "lips_close":
            a = -NEUTRAL_GAP
        rel_new = (a * s)[:, None] * n_open[None, :]
        basis[k, lip_upper] = mean + 0.5 * rel_new
        basis[k, lip_lower] = mean - 0.5 * rel_new
    # corners of ring 0 and all the relative structure are now exact; mean motions are unchanged

    # ---- regions, colours -------------------------------------------------------------------
    lip_vertices = np.where(is_skin & (Rv <= 1.35) & (Dv < 0.02))[0]
    upper_face = np.where(((kind == 0) & (y > 0.050)) | (kind == 4) | (kind == 6))[0]

    col = np.tile(SKIN, (nV, 1))
    lipmix = np.where(is_skin, 1 - _smoothstep(0.85, 1.1, Rv), 0.0)
    col = col * (1 - lipmix[:, None]) + LIP * lipmix[:, None]
    ax_ = np.abs(x)
    ybrow = 0.0985 + 0.0045 * (1 - ((ax_ - 0.032) / 0.022) ** 2) - 0.004 * _smoothstep(0.045, 0.06, ax_)
    browmix = 0.75 * np.where(is_skin, np.exp(-((ax_ - 0.034) / 0.022) ** 6 - ((y - ybrow) / 0.0068) ** 2), 0.0)
    hair_y = 0.128 - 0.020 * (x / 0.07) ** 2 + 0.004 * np.cos(x / 0.012)
    hairmix = np.where(is_skin, _smoothstep(-0.002, 0.004, y - hair_y), 0.0)
    hairmix = np.maximum(hairmix, np.where(is_skin, _smoothstep(0.060, 0.068, ax_) * _smoothstep(0.07, 0.10, y), 0.0))
    col = col * (1 - 0.85 * browmix[:, None]) + BROW * 0.85 * browmix[:, None]
    col = col * (1 - hairmix[:, None]) + HAIR * hairmix[:, None]
    blush = np.where(is_skin, sum(_gauss(x, y, sx * 0.045, 0.020, 0.015, 0.013) for sx in (-1, 1)), 0.0)
    col = col * (1 - 0.12 * blush[:, None]) + np.array([0.85, 0.45, 0.42]) * 0.12 * blush[:, None]
    col[kind == 6] = SKIN * 0.97
    col[kind == 1] = CAVITY
    col[kind == 5] = TONGUE
    col[(kind == 2) | (kind == 3)] = TEETH
    eye = kind == 4
    if eye.any():
        for sx in (-1, 1):
            m = eye & (np.sign(x) == sx)
            c = np.array([sx * 0.033, 0.0765])
            rr = np.hypot(x[m] - c[0], y[m] - c[1])
            cc = np.tile(SCLERA, (m.sum(), 1))
            cc[rr < 0.0058] = IRIS
            cc[rr < 0.0026] = PUPIL
            col[m] = cc

    F = _orient(V, F)
    rig = Rig(
        template=V.astype(np.float32),
        triangles=F.astype(np.int32),
        basis=basis.reshape(len(CONTROLS), -1).astype(np.float32),
        names=list(CONTROLS),
        lip_vertices=lip_vertices.astype(np.int32),
        lip_upper=lip_upper.astype(np.int32),
        lip_lower=lip_lower.astype(np.int32),
        upper_face=upper_face.astype(np.int32),
        vertex_colors=np.clip(col, 0, 1).astype(np.float32),
    )
    return rig


def _orient(V, F):
    """Make every triangle counter-clockwise seen from the front (+z)."""
    a, b, c = V[F[:, 0]], V[F[:, 1]], V[F[:, 2]]
    nz = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    F = F.copy()
    flip = nz < 0
    F[flip] = F[flip][:, [0, 2, 1]]
    return F


# ----------------------------------------------------------------------------------------------
# file I/O (docs/corpus.md)
# ----------------------------------------------------------------------------------------------
RIG_VERSION = 1


def save_rig(rig: Rig, path) -> None:
    from safetensors.numpy import save_file

    tensors = {
        "template": np.ascontiguousarray(rig.template, np.float32),
        "triangles": np.ascontiguousarray(rig.triangles, np.int32),
        "basis": np.ascontiguousarray(rig.basis, np.float32),
        "lip_vertices": np.ascontiguousarray(rig.lip_vertices, np.int32),
        "lip_upper": np.ascontiguousarray(rig.lip_upper, np.int32),
        "lip_lower": np.ascontiguousarray(rig.lip_lower, np.int32),
        "upper_face": np.ascontiguousarray(rig.upper_face, np.int32),
    }
    if rig.vertex_colors is not None:
        tensors["vertex_colors"] = np.ascontiguousarray(rig.vertex_colors, np.float32)
    meta = {"basis": list(rig.names), "version": RIG_VERSION}
    save_file(tensors, str(path), metadata={"corpus.rig": json.dumps(meta, sort_keys=True)})


def load_rig(path) -> Rig:
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        meta = json.loads((f.metadata() or {})["corpus.rig"])
        t = {k: f.get_tensor(k) for k in f.keys()}
    return Rig(
        template=t["template"], triangles=t["triangles"], basis=t["basis"], names=list(meta["basis"]),
        lip_vertices=t["lip_vertices"], lip_upper=t["lip_upper"], lip_lower=t["lip_lower"],
        upper_face=t["upper_face"], vertex_colors=t.get("vertex_colors"),
        extra={"version": meta.get("version")},
    )
