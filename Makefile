# Mimetic: the two entry points of the README, and a few conveniences.
# Python: the checkout's virtual environment, made by scripts/setup.sh (PYTHON=... to use another).
PYTHON ?= .venv/bin/python
export PYTHON
MODEL ?= $(firstword $(wildcard models/default.safetensors) Tests/Fixtures/faceformer_vocaset.model.safetensors)
AUDIO ?= examples/audio/hello.wav

.PHONY: setup setup-demo setup-convert setup-train demo test release bench fixtures clean lib cli install install-strip uninstall cpp-test engine-demo examples test-packaging fuzz sanitize bench-threads bench-retarget bench-streams bench-load godot godot-test

# Set-up for one purpose each (scripts/setup.sh says what each installs).
setup:
	bash scripts/setup.sh test
setup-demo:
	bash scripts/setup.sh demo
setup-convert:
	bash scripts/setup.sh convert
setup-train:
	bash scripts/setup.sh train

release: setup-demo
	swift build -c release

demo: release
	@mkdir -p out
	.build/release/mimetic info $(MODEL)
	.build/release/mimetic animate --model $(MODEL) --audio $(AUDIO) --out out/hello.npy
	@$(PYTHON) -c "import numpy as np; a = np.load('out/hello.npy'); print('out/hello.npy', a.shape, a.dtype, 'finite' if np.isfinite(a).all() else 'NON-FINITE')"
	@if [ -f models/rig.safetensors ] && [ "$(MODEL)" = "models/default.safetensors" ]; then \
	    $(PYTHON) -m mimetic_tools.cli.render --rig models/rig.safetensors --npy out/hello.npy --audio $(AUDIO) --mp4 --out out --every 3 --view both --palette 128; \
	    echo "look at out/hello_sheet.png: the face over time (every 3rd frame: front, three-quarter, mouth close-up); out/hello.mp4 with the audio"; fi

test: setup
	bash scripts/test-all.sh

bench: setup release
	$(PYTHON) -m mimetic_tools.cli.bench

# Reliability (docs/reliability.md): libFuzzer + ASan over every untrusted-input path, N seconds a
# target; the tests under ASan, UBSan and TSan (SANITIZE_FLAGS=--swift adds the Swift tests);
# streams on many threads against one stream alone.
FUZZ_SECONDS ?= 20
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh $(FUZZ_TARGETS)

sanitize:
	bash scripts/sanitize.sh $(SANITIZE_FLAGS)

bench-retarget: lib
	$(CC) -O2 -std=c99 -Iinclude Tests/C/bench_retarget.c -L$(RELEASE_BIN) -lMimetic -Wl,-rpath,$(abspath $(RELEASE_BIN)) -o $(RELEASE_SCRATCH)/bench_retarget
	$(RELEASE_SCRATCH)/bench_retarget models/default.safetensors models/arkit52.safetensors models/samples/bumblebees.wav 20

# Characters per core: streams one by one against mimetic_stream_process_batch (docs/performance.md).
bench-streams: lib
	$(CC) -O2 -std=c99 -Iinclude Tests/C/bench_streams.c -L$(RELEASE_BIN) -lMimetic -Wl,-rpath,$(abspath $(RELEASE_BIN)) -o $(RELEASE_SCRATCH)/bench_streams
	$(RELEASE_SCRATCH)/bench_streams $(MODEL) models/samples/bumblebees.wav $(BENCH_STREAMS)

# Load time and resident memory (docs/performance.md): the default model and the full-size
# FaceFormer-VOCASET wav2vec 2.0 model in f32 and f16 (built once by mimetic_tools.dev.load_models,
# ~600 MB in ~/.cache/mimetic-bench; needs the train/test Python set-up: torch).
bench-load: lib
	$(CC) -O2 -std=c99 -Iinclude Tests/C/bench_load.c -L$(RELEASE_BIN) -lMimetic -lm -Wl,-rpath,$(abspath $(RELEASE_BIN)) -o $(RELEASE_SCRATCH)/bench_load
	$(RELEASE_SCRATCH)/bench_load models/default.safetensors $$($(PYTHON) -m mimetic_tools.dev.load_models)

bench-threads: lib
	$(CC) -O2 -std=c99 -Iinclude Tests/C/bench_threads.c -L$(RELEASE_BIN) -lMimetic -lm -lpthread -Wl,-rpath,$(abspath $(RELEASE_BIN)) -o $(RELEASE_SCRATCH)/bench_threads
	$(RELEASE_SCRATCH)/bench_threads $(MODEL) 8 2

fixtures: setup-convert
	$(PYTHON) -m mimetic_tools.dev.make_fixtures

clean:
	rm -rf .build out $(RELEASE_SCRATCH) .build-fuzz .build-address .build-undefined .build-thread

# ------------------------------------------------------------------------------------------------
# Packaging: libMimetic.so with the Swift runtime linked in (needs only libc, libm, libstdc++,
# libgcc_s and libopenblas), the `mimetic` CLI, and `make install` with pkg-config + CMake files.
#
#   make lib                      # $(RELEASE_SCRATCH)/release/libMimetic.so (SONAME libMimetic.so.0)
#   make install PREFIX=/opt/mimetic [DESTDIR=...]
#   make install-strip PREFIX=... # the same, debug symbols stripped (72 MB -> 58 MB today)
#   make cpp-test                 # C++ binding test against the release library
#   make engine-demo              # examples/cpp/engine_demo against the release library
#   make test-packaging           # scripts/test-packaging.sh
#
# -static-stdlib must be on the command line (not in Package.swift: it breaks `swift test`, see
# docs); it works for the dynamic library and for the executable. A separate scratch path keeps
# these builds away from the debug/test builds in .build.

VERSION := $(shell sed -n 's/^\#define MIMETIC_VERSION_STRING "\(.*\)"/\1/p' include/mimetic.h)
VERSION_MAJOR := $(word 1,$(subst ., ,$(VERSION)))
VERSION_MINOR := $(word 2,$(subst ., ,$(VERSION)))
SOVERSION := $(VERSION_MAJOR)
PREFIX ?= /usr/local
DESTDIR ?=
SWIFT ?= swift
CXX ?= g++
STRIP ?= strip
RELEASE_SCRATCH ?= .build-release
RELEASE_BIN := $(RELEASE_SCRATCH)/release
SWIFT_RELEASE := $(SWIFT) build -c release --scratch-path $(RELEASE_SCRATCH) -Xswiftc -static-stdlib
CPP_OUT := $(RELEASE_SCRATCH)/cpp
CXXFLAGS_CPP := -std=c++17 -O2 -Wall -Wextra -Werror -pthread -Iinclude -Ibindings/cpp

lib:
	$(SWIFT_RELEASE) --product Mimetic -Xlinker -soname=libMimetic.so.$(SOVERSION) -Xlinker --version-script=$(abspath packaging/libMimetic.map)
	@# The SONAME is libMimetic.so.0: a program linked against the build directory looks for it there.
	ln -sf libMimetic.so $(RELEASE_BIN)/libMimetic.so.$(SOVERSION)

cli:
	$(SWIFT_RELEASE) --product mimetic

define install_files
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	           $(DESTDIR)$(PREFIX)/lib/cmake/Mimetic $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/mimetic.h $(DESTDIR)$(PREFIX)/include/mimetic.h
	install -m 644 bindings/cpp/mimetic.hpp $(DESTDIR)$(PREFIX)/include/mimetic.hpp
	install -m 755 $(1) $(RELEASE_BIN)/libMimetic.so $(DESTDIR)$(PREFIX)/lib/libMimetic.so.$(VERSION)
	ln -sf libMimetic.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libMimetic.so.$(SOVERSION)
	ln -sf libMimetic.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libMimetic.so
	install -m 755 $(1) $(RELEASE_BIN)/mimetic $(DESTDIR)$(PREFIX)/bin/mimetic
	sed -e 's|@VERSION@|$(VERSION)|g' packaging/mimetic.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/mimetic.pc
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@SOVERSION@|$(SOVERSION)|g' \
	    packaging/MimeticConfig.cmake.in > $(DESTDIR)$(PREFIX)/lib/cmake/Mimetic/MimeticConfig.cmake
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@VERSION_MAJOR@|$(VERSION_MAJOR)|g' -e 's|@VERSION_MINOR@|$(VERSION_MINOR)|g' \
	    packaging/MimeticConfigVersion.cmake.in > $(DESTDIR)$(PREFIX)/lib/cmake/Mimetic/MimeticConfigVersion.cmake
	chmod 644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/mimetic.pc $(DESTDIR)$(PREFIX)/lib/cmake/Mimetic/*.cmake
endef

install: lib cli
	$(call install_files,)

install-strip: lib cli
	$(call install_files,-s --strip-program=$(STRIP))

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/mimetic.h $(DESTDIR)$(PREFIX)/include/mimetic.hpp \
	      $(DESTDIR)$(PREFIX)/lib/libMimetic.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libMimetic.so.$(SOVERSION) \
	      $(DESTDIR)$(PREFIX)/lib/libMimetic.so $(DESTDIR)$(PREFIX)/lib/pkgconfig/mimetic.pc \
	      $(DESTDIR)$(PREFIX)/bin/mimetic
	rm -rf $(DESTDIR)$(PREFIX)/lib/cmake/Mimetic

# C++ binding test and engine demo, linked against the release build directory (rpath to it).
$(CPP_OUT)/test_mimetic: bindings/cpp/test_mimetic.cpp bindings/cpp/mimetic.hpp include/mimetic.h | lib
	@mkdir -p $(CPP_OUT)
	$(CXX) $(CXXFLAGS_CPP) $< -o $@ -L$(RELEASE_BIN) -lMimetic -Wl,-rpath,$(abspath $(RELEASE_BIN))

$(CPP_OUT)/engine_demo: examples/cpp/engine_demo.cpp include/mimetic.h | lib
	@mkdir -p $(CPP_OUT)
	$(CXX) $(CXXFLAGS_CPP) $< -o $@ -L$(RELEASE_BIN) -lMimetic -Wl,-rpath,$(abspath $(RELEASE_BIN))

# The same test built as C++20 too (the std::span overloads).
$(CPP_OUT)/test_mimetic20: bindings/cpp/test_mimetic.cpp bindings/cpp/mimetic.hpp include/mimetic.h | lib
	@mkdir -p $(CPP_OUT)
	$(CXX) $(subst -std=c++17,-std=c++20,$(CXXFLAGS_CPP)) $< -o $@ -L$(RELEASE_BIN) -lMimetic -Wl,-rpath,$(abspath $(RELEASE_BIN))

cpp-test: lib $(CPP_OUT)/test_mimetic $(CPP_OUT)/test_mimetic20
	$(CPP_OUT)/test_mimetic Tests/Fixtures/faceformer_vocaset.model.safetensors Tests/Fixtures/mimic_conv.model.safetensors $(AUDIO) \
	    models/default.safetensors models/arkit52.safetensors
	$(CPP_OUT)/test_mimetic20 Tests/Fixtures/imitator_style.model.safetensors Tests/Fixtures/mimic_conv.model.safetensors $(AUDIO)

examples: $(CPP_OUT)/engine_demo

engine-demo: lib $(CPP_OUT)/engine_demo
	$(CPP_OUT)/engine_demo --model $(MODEL) --audio $(AUDIO) $(DEMO_FLAGS)
	@if [ "$(MODEL)" = "models/default.safetensors" ]; then $(CPP_OUT)/engine_demo --model $(MODEL) --audio $(AUDIO) --fast --weights models/arkit52.safetensors | tail -7; fi

test-packaging:
	bash scripts/test-packaging.sh

# ------------------------------------------------------------------------------------------------
# Godot 4 (bindings/godot/README.md): the GDExtension addon, built into the demo project, and its
# test, which loads the addon through its .gdextension file with a C host playing Godot's side.
#
#   make godot          # examples/godot/addons/mimetic/ (bin/, models/), face.glb and voice.wav
#   make godot-test     # bindings/godot/tests against the C ABI (GODOT_TEST_WRAPPER=valgrind ... to check memory)

GODOT_PROJECT := examples/godot
GODOT_ADDON := $(GODOT_PROJECT)/addons/mimetic
GODOT_SHIM := $(GODOT_ADDON)/bin/libmimetic_godot.linux.x86_64.so
GODOT_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wno-format-truncation -fPIC -fvisibility=hidden -Iinclude
GODOT_TEST_WRAPPER ?=

$(GODOT_SHIM): $(wildcard bindings/godot/src/*.c bindings/godot/src/*.h) include/mimetic.h | lib
	@mkdir -p $(GODOT_ADDON)/bin
	$(CC) $(GODOT_CFLAGS) -shared bindings/godot/src/*.c -o $@ -L$(RELEASE_BIN) -lMimetic -Wl,-rpath,'$$ORIGIN' -Wl,--no-undefined

godot: lib cli $(GODOT_SHIM)
	@mkdir -p $(GODOT_ADDON)/models
	@# The library beside the shim, under its SONAME (the shim's rpath is $$ORIGIN), without debug symbols.
	$(STRIP) -o $(GODOT_ADDON)/bin/libMimetic.so.$(SOVERSION) $(RELEASE_BIN)/libMimetic.so
	cp bindings/godot/addon/mimetic.gdextension bindings/godot/addon/icon.svg bindings/godot/addon/README.md $(GODOT_ADDON)/
	cp models/default.safetensors models/arkit52.safetensors $(GODOT_ADDON)/models/
	@# The demo's face: the shipped template with the ARKit-52 basis as morph targets (plus the
	@# offline animation of the sample, to compare with the live one), and the sample itself.
	$(RELEASE_BIN)/mimetic animate --model models/default.safetensors --audio models/samples/bumblebees.wav \
	    --format glb --weights models/arkit52.safetensors --quiet --out $(GODOT_PROJECT)/face.glb
	cp models/samples/bumblebees.wav $(GODOT_PROJECT)/voice.wav
	@echo "addon: $(GODOT_ADDON) (copy this folder into a project's addons/); demo: open $(GODOT_PROJECT) in Godot 4.1+"

$(RELEASE_SCRATCH)/godot/test_godot_addon: $(wildcard bindings/godot/tests/*.c bindings/godot/tests/*.h) bindings/godot/src/gdextension_api.h | lib
	@mkdir -p $(RELEASE_SCRATCH)/godot
	$(CC) -std=c11 -O1 -g -Wall -Wextra -Werror -Wno-format-truncation -Iinclude bindings/godot/tests/*.c -o $@ \
	    -L$(RELEASE_BIN) -lMimetic -ldl -lm -Wl,-rpath,$(abspath $(RELEASE_BIN))

godot-test: godot $(RELEASE_SCRATCH)/godot/test_godot_addon
	$(GODOT_TEST_WRAPPER) $(RELEASE_SCRATCH)/godot/test_godot_addon $(GODOT_PROJECT) examples/audio/hello.wav
