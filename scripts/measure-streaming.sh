#!/usr/bin/env bash
# Regenerates the tables of docs/streaming.md: streaming vs offline on the fixture models (speech:
# examples/audio/hello.wav), and CPU per frame on a full-size (wav2vec2-base, 5023-vertex) random
# FaceFormer built by mimetic_tools/dev/parity_full.py or mimetic-bench. Takes a few minutes; run on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product mimetic >/dev/null
M=.build/release/mimetic
for f in faceformer_vocaset faceformer_biwi imitator_zeros mimic_conv; do
    $M stream-eval --model Tests/Fixtures/$f.model.safetensors --audio examples/audio/hello.wav \
        --lookahead 0,100,300,1000 --left-context 500,1000,2000
    echo
done
FULL="${FULL_MODEL:-$(ls $HOME/.cache/mimetic-bench/faceformer_vocaset*.model.safetensors 2>/dev/null | head -1)}"
if [ -f "$FULL" ]; then
    for t in 1 2; do
        $M stream-eval --model "$FULL" --audio examples/audio/hello.wav --lookahead 100,300 --left-context 500,1000 --threads $t
        echo
    done
else
    echo "(no full-size model at $FULL: run python -m mimetic_tools.dev.parity_full first, or set FULL_MODEL)"
fi
