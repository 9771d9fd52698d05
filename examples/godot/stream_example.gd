extends Node
## MimeticStream used directly: what MimeticFace does, in GDScript. Captures what plays on a bus,
## pushes it as it arrives, and puts the newest frame's ARKit weights on a mesh's blend shapes.
## Scene: stream_example.tscn (run it with F6).

@export var mesh: MeshInstance3D
@export var bus_name := "Voice"

var model := MimeticModel.new()
var stream := MimeticStream.new()
var capture: AudioEffectCapture
var shape_index := PackedInt32Array()


func _ready() -> void:
	if model.load("res://addons/mimetic/models/default.safetensors") != OK:
		return  # the error, with Mimetic's reason, is already in the Output panel
	if model.load_blend_shapes("res://addons/mimetic/models/arkit52.safetensors") != OK:
		return
	if stream.open(model, int(AudioServer.get_mix_rate())) != OK:
		return
	var bus := AudioServer.get_bus_index(bus_name)
	for i in AudioServer.get_bus_effect_count(bus):
		if AudioServer.get_bus_effect(bus, i) is AudioEffectCapture:
			capture = AudioServer.get_bus_effect(bus, i)
	if capture == null:
		push_error("no AudioEffectCapture on bus %s" % bus_name)
		return
	for i in model.get_blend_shape_count():
		shape_index.append(mesh.find_blend_shape_by_name(model.get_blend_shape_name(i)))
	print("Mimetic %s model, %d fps, %d vertices; stream latency %.0f ms" % [
		model.family, model.fps, model.vertex_count, stream.get_latency() * 1000.0])


func _process(_delta: float) -> void:
	if capture == null:
		return
	var frames := capture.get_frames_available()
	if frames > 0:
		stream.push_stereo(capture.get_buffer(frames))
	var weights := PackedFloat32Array()
	while stream.frames_ready() > 0:
		weights = stream.pull_weights()  # keep the newest frame
	for i in weights.size():
		if shape_index[i] >= 0:
			mesh.set_blend_shape_value(shape_index[i], weights[i])
