"""A tiny 5x7 bitmap font (printable ASCII) for labels on rendered contact sheets. Drawn for Mimetic."""
from __future__ import annotations

import numpy as np

_GLYPHS = r"""
! ..X.. ..X.. ..X.. ..X.. ..X.. ..... ..X..
" .X.X. .X.X. ..... ..... ..... ..... .....
# .X.X. XXXXX .X.X. .X.X. XXXXX .X.X. .....
$ ..X.. .XXXX X.X.. .XXX. ..X.X XXXX. ..X..
% XX... XX..X ...X. ..X.. .X... X..XX ...XX
& .XX.. X..X. X.X.. .X... X.X.X X..X. .XX.X
' ..X.. ..X.. ..... ..... ..... ..... .....
( ...X. ..X.. .X... .X... .X... ..X.. ...X.
) .X... ..X.. ...X. ...X. ...X. ..X.. .X...
* ..... ..X.. X.X.X .XXX. X.X.X ..X.. .....
+ ..... ..X.. ..X.. XXXXX ..X.. ..X.. .....
, ..... ..... ..... ..... .XX.. ..X.. .X...
- ..... ..... ..... XXXXX ..... ..... .....
. ..... ..... ..... ..... ..... .XX.. .XX..
/ ....X ...X. ...X. ..X.. .X... .X... X....
0 .XXX. X...X X..XX X.X.X XX..X X...X .XXX.
1 ..X.. .XX.. ..X.. ..X.. ..X.. ..X.. .XXX.
2 .XXX. X...X ....X ...X. ..X.. .X... XXXXX
3 XXXXX ...X. ..X.. ...X. ....X X...X .XXX.
4 ...X. ..XX. .X.X. X..X. XXXXX ...X. ...X.
5 XXXXX X.... XXXX. ....X ....X X...X .XXX.
6 ..XX. .X... X.... XXXX. X...X X...X .XXX.
7 XXXXX ....X ...X. ..X.. .X... .X... .X...
8 .XXX. X...X X...X .XXX. X...X X...X .XXX.
9 .XXX. X...X X...X .XXXX ....X ...X. .XX..
: ..... .XX.. .XX.. ..... .XX.. .XX.. .....
; ..... .XX.. .XX.. ..... .XX.. ..X.. .X...
< ...X. ..X.. .X... X.... .X... ..X.. ...X.
= ..... ..... XXXXX ..... XXXXX ..... .....
> .X... ..X.. ...X. ....X ...X. ..X.. .X...
? .XXX. X...X ....X ...X. ..X.. ..... ..X..
@ .XXX. X...X ....X .XX.X X.X.X X.X.X .XXX.
A .XXX. X...X X...X XXXXX X...X X...X X...X
B XXXX. X...X X...X XXXX. X...X X...X XXXX.
C .XXX. X...X X.... X.... X.... X...X .XXX.
D XXX.. X..X. X...X X...X X...X X..X. XXX..
E XXXXX X.... X.... XXXX. X.... X.... XXXXX
F XXXXX X.... X.... XXXX. X.... X.... X....
G .XXX. X...X X.... X.XXX X...X X...X .XXXX
H X...X X...X X...X XXXXX X...X X...X X...X
I .XXX. ..X.. ..X.. ..X.. ..X.. ..X.. .XXX.
J ..XXX ...X. ...X. ...X. ...X. X..X. .XX..
K X...X X..X. X.X.. XX... X.X.. X..X. X...X
L X.... X.... X.... X.... X.... X.... XXXXX
M X...X XX.XX X.X.X X.X.X X...X X...X X...X
N X...X X...X XX..X X.X.X X..XX X...X X...X
O .XXX. X...X X...X X...X X...X X...X .XXX.
P XXXX. X...X X...X XXXX. X.... X.... X....
Q .XXX. X...X X...X X...X X.X.X X..X. .XX.X
R XXXX. X...X X...X XXXX. X.X.. X..X. X...X
S .XXXX X.... X.... .XXX. ....X ....X XXXX.
T XXXXX ..X.. ..X.. ..X.. ..X.. ..X.. ..X..
U X...X X...X X...X X...X X...X X...X .XXX.
V X...X X...X X...X X...X X...X .X.X. ..X..
W X...X X...X X...X X.X.X X.X.X X.X.X .X.X.
X X...X X...X .X.X. ..X.. .X.X. X...X X...X
Y X...X X...X .X.X. ..X.. ..X.. ..X.. ..X..
Z XXXXX ....X ...X. ..X.. .X... X.... XXXXX
[ .XXX. .X... .X... .X... .X... .X... .XXX.
\ X.... .X... .X... ..X.. ...X. ...X. ....X
] .XXX. ...X. ...X. ...X. ...X. ...X. .XXX.
^ ..X.. .X.X. X...X ..... ..... ..... .....
_ ..... ..... ..... ..... ..... ..... XXXXX
` .X... ..X.. ..... ..... ..... ..... .....
a ..... ..... .XXX. ....X .XXXX X...X .XXXX
b X.... X.... X.XX. XX..X X...X X...X XXXX.
c ..... ..... .XXX. X.... X.... X...X .XXX.
d ....X ....X .XX.X X..XX X...X X...X .XXXX
e ..... ..... .XXX. X...X XXXXX X.... .XXX.
f ..XX. .X..X .X... XXX.. .X... .X... .X...
g ..... .XXXX X...X X...X .XXXX ....X .XXX.
h X.... X.... X.XX. XX..X X...X X...X X...X
i ..X.. ..... .XX.. ..X.. ..X.. ..X.. .XXX.
j ...X. ..... ..XX. ...X. ...X. X..X. .XX..
k X.... X.... X..X. X.X.. XX... X.X.. X..X.
l .XX.. ..X.. ..X.. ..X.. ..X.. ..X.. .XXX.
m ..... ..... XX.X. X.X.X X.X.X X...X X...X
n ..... ..... X.XX. XX..X X...X X...X X...X
o ..... ..... .XXX. X...X X...X X...X .XXX.
p ..... ..... XXXX. X...X XXXX. X.... X....
q ..... ..... .XX.X X..XX .XXXX ....X ....X
r ..... ..... X.XX. XX..X X.... X.... X....
s ..... ..... .XXX. X.... .XXX. ....X XXXX.
t .X... .X... XXX.. .X... .X... .X..X ..XX.
u ..... ..... X...X X...X X...X X..XX .XX.X
v ..... ..... X...X X...X X...X .X.X. ..X..
w ..... ..... X...X X...X X.X.X X.X.X .X.X.
x ..... ..... X...X .X.X. ..X.. .X.X. X...X
y ..... ..... X...X X...X .XXXX ....X .XXX.
z ..... ..... XXXXX ...X. ..X.. .X... XXXXX
{ ...X. ..X.. ..X.. .X... ..X.. ..X.. ...X.
| ..X.. ..X.. ..X.. ..X.. ..X.. ..X.. ..X..
} .X... ..X.. ..X.. ...X. ..X.. ..X.. .X...
~ ..... ..... .X... X.X.X ...X. ..... .....
"""

GLYPHS: dict[str, np.ndarray] = {" ": np.zeros((7, 5), bool)}
for _line in _GLYPHS.strip("\n").splitlines():
    _ch, _rows = _line[0], _line[2:].split()
    GLYPHS[_ch] = np.array([[c == "X" for c in r] for r in _rows], bool)


def text_mask(text: str, scale: int = 1) -> np.ndarray:
    """Boolean mask [7*scale, 6*len*scale] of `text` (unknown characters as '?')."""
    if not text:
        return np.zeros((7 * scale, 0), bool)
    cols = []
    for ch in text:
        g = GLYPHS.get(ch, GLYPHS["?"])
        cols.append(np.concatenate([g, np.zeros((7, 1), bool)], axis=1))
    m = np.concatenate(cols, axis=1)[:, :-1]
    return np.kron(m, np.ones((scale, scale), bool)).astype(bool)


def draw_text(img: np.ndarray, text: str, x: int, y: int, color=(0, 0, 0), scale: int = 1) -> None:
    """Draw `text` into img [H, W, 3] uint8 with its top-left corner at (x, y), clipped."""
    m = text_mask(text, scale)
    h, w = m.shape
    H, W = img.shape[:2]
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, W), min(y + h, H)
    if x1 <= x0 or y1 <= y0:
        return
    sub = m[y0 - y:y1 - y, x0 - x:x1 - x]
    img[y0:y1, x0:x1][sub] = np.asarray(color, np.uint8)
