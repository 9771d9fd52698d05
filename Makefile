# Mimetic: the two entry points of the README, and a few conveniences.
PYTHON ?= python3
MODEL ?= $(firstword $(wildcard models/*.safetensors) Tests/Fixtures/faceformer_vocaset.model.safetensors)
AUDIO ?= examples/audio/hello.wav

.PHONY: setup demo test release bench fixtures clean

setup:
	bash scripts/setup.sh

release: setup
	swift build -c release

demo: release
	@mkdir -p out
	.build/release/mimetic info $(MODEL)
	.build/release/mimetic animate --model $(MODEL) --audio $(AUDIO) --out out/hello.npy
	@$(PYTHON) -c "import numpy as np; a = np.load('out/hello.npy'); print('out/hello.npy', a.shape, a.dtype, 'finite' if np.isfinite(a).all() else 'NON-FINITE')"

test: setup
	bash scripts/test-all.sh

bench: release
	$(PYTHON) tools/bench.py

fixtures:
	$(PYTHON) tools/make_fixtures.py

clean:
	rm -rf .build out
