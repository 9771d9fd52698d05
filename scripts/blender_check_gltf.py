"""Outside CI: opens a `mimetic animate --format glb` file in Blender (headless) and renders two frames.

    apt-get install blender python3-numpy
    blender -b --python scripts/blender_check_gltf.py -- out/face.glb out/blender

Prints the mesh, its shape keys and the action Blender made of the morph-target animation, then
renders the first frame and the frame with the widest jaw (out/blender_first.png, _jaw.png).
"""
import numpy
if not hasattr(numpy, "bool"): numpy.bool = bool   # Blender 3.4 glTF importer vs numpy >= 1.24
import bpy, sys, math
bpy.ops.wm.read_factory_settings(use_empty=True)
argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
if len(argv) < 2:
    raise SystemExit("usage: blender -b --python scripts/blender_check_gltf.py -- FACE.glb OUT_PREFIX")
bpy.ops.import_scene.gltf(filepath=argv[0])
obj = [o for o in bpy.context.scene.objects if o.type == 'MESH'][0]
keys = obj.data.shape_keys
names = [k.name for k in keys.key_blocks]
print("BLENDER mesh", obj.name, len(obj.data.vertices), "verts", len(obj.data.polygons), "faces;", len(names) - 1, "shape keys; first", names[1:4], "jaw:", "jawOpen" in names)
act = keys.animation_data.action if keys.animation_data else None
print("BLENDER action", act.name if act else None, "fcurves", len(act.fcurves) if act else 0, "frame range", act.frame_range[:] if act else None)
scene = bpy.context.scene
scene.render.fps = 30
# the frame with the widest jaw
fc = [f for f in act.fcurves if 'jawOpen' in f.data_path][0]
best = max(range(int(act.frame_range[0]), int(act.frame_range[1]) + 1), key=lambda f: fc.evaluate(f))
print("BLENDER widest jaw at frame", best, "jawOpen", round(fc.evaluate(best), 3))
cam_data = bpy.data.cameras.new("cam"); cam = bpy.data.objects.new("cam", cam_data); scene.collection.objects.link(cam)
import mathutils
center = sum((obj.matrix_world @ v.co for v in obj.data.vertices), mathutils.Vector()) / len(obj.data.vertices)
cam.location = center + mathutils.Vector((0.0, -0.35, 0.0))
direction = center - cam.location
cam.rotation_euler = direction.to_track_quat('-Z', 'Y').to_euler()
scene.camera = cam
light = bpy.data.objects.new("light", bpy.data.lights.new("light", 'SUN')); scene.collection.objects.link(light)
light.rotation_euler = (math.radians(60), 0, math.radians(20))
scene.render.engine = 'BLENDER_WORKBENCH'
scene.render.resolution_x = 480; scene.render.resolution_y = 480
for f, path in [(1, argv[1] + "_first.png"), (best, argv[1] + "_jaw.png")]:
    scene.frame_set(f)
    scene.render.filepath = path
    bpy.ops.render.render(write_still=True)
print("BLENDER rendered")
