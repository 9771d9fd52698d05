"""Preview pictures of face animation: lit offscreen renders (moderngl, OpenGL 3.3 through EGL, e.g.
Mesa's llvmpipe on a machine without a GPU), contact sheets and labels (Pillow), MP4 with the audio
(imageio-ffmpeg's ffmpeg). These libraries are the `render` extra: `pip install './tools[render]'`.

    offscreen.MeshRenderer   a mesh's triangles on an offscreen framebuffer -> uint8 [H, W, 3]
    views                    the cameras: front, three-quarter, mouth close-up, framed on the template
    heatmap                  per-vertex error against a reference motion as vertex colours + a colour bar
    sheet                    frames on a labelled grid (the contact sheet), PNG writing
    video                    MP4 (H.264 + AAC)
    frames                   all of it for a vertex sequence: the frames of a clip and its sheet

The command line is `mimetic-render` (mimetic_tools/cli/render.py).
"""
