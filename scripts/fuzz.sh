#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer + AddressSanitizer) of every untrusted-input path:
#   model  - a model file: loading, then offline animation, a stream, style from motion, personalization
#   wav    - WAV bytes (and the resampling the CLI does next)       npy     - NPY bytes
#   persona- persona files for a fixture model                       restore - hand-edited, re-sealed snapshots
#   stream - fuzzed C-ABI call sequences (push sizes and contents, pull, flush, reset, styles, snapshots, batches)
#   text   - a Live Link Face CSV (resampled, its offset estimated) or phone labels (closure events)
# restore and stream run twice: on a real-time-encoder model and on a wav2vec 2.0 one.
#   FUZZ_SECONDS=N [FUZZ_SEED=S] scripts/fuzz.sh [TARGET...]   (default: 20 s each, every target;
#   a random seed each run, or S: test-all.sh passes FUZZ_SEED=1 so that CI's short pass is repeatable)
# Seeds: Tests/Fuzz/corpus/<target> (committed, small) plus fixture models, and past findings
# (Tests/Fuzz/regressions/<harness>-*, replayed before fuzzing starts); what the fuzzer finds
# goes to .build-fuzz/corpus (not committed); crashes to .build-fuzz/crashes, and the run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${FUZZ_SECONDS:-20}"
SCRATCH=.build-fuzz
CLANG="${CLANG:-$(dirname "$(readlink -f "$(command -v swiftc)")")/clang}"
FLAGS=(-c release --scratch-path "$SCRATCH" -Xswiftc -sanitize=address
       -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp)
echo "== fuzz: building the instrumented libraries ($SCRATCH)"
swift build "${FLAGS[@]}" --product Mimetic
swift build "${FLAGS[@]}" --product MimeticFuzzTargets
BIN="$SCRATCH/release"
mkdir -p "$SCRATCH/fuzz" "$SCRATCH/crashes"
for h in wav npy persona model restore stream text; do
    "$CLANG" -g -O1 -fsanitize=fuzzer,address -Iinclude -ITests/C "Tests/Fuzz/fuzz_$h.c" -L"$BIN" -lMimetic -lMimeticFuzzTargets \
        -Wl,-rpath,"$PWD/$BIN" -o "$SCRATCH/fuzz/fuzz_$h"
done

RT=Tests/Fixtures/realtime_imitator.model.safetensors
W2V=Tests/Fixtures/faceformer_vocaset.model.safetensors
# name  harness  model (MIMETIC_FUZZ_MODEL)  extra seeds  max_len
RUNS=("wav wav - - 65536" "npy npy - - 4096" "persona persona $RT - 65536" "model model - $RT 65536"
      "restore-realtime restore $RT - 600" "restore-wav2vec restore $W2V - 600"
      "stream-realtime stream $RT - 4096" "stream-wav2vec stream $W2V - 4096" "text text $RT - 8192")
total=0; failed=0
printf '%-18s %12s %10s %8s %8s\n' target executions exec/s coverage crashes > "$SCRATCH/fuzz/summary.txt"
for run in "${RUNS[@]}"; do
    read -r name harness model seeds maxlen <<<"$run"
    if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name\|$harness"; then continue; fi
    corpus="$SCRATCH/corpus/$name"
    mkdir -p "$corpus"
    cp -n Tests/Fuzz/corpus/"$harness"/* "$corpus"/ 2>/dev/null || true
    cp -n Tests/Fuzz/regressions/"$harness"-* "$corpus"/ 2>/dev/null || true   # past findings run first
    [ "$seeds" != - ] && cp -n "$seeds" "$corpus"/
    log="$SCRATCH/fuzz/$name.log"
    echo "== fuzz $name: $SECONDS_EACH s"
    set +e
    MIMETIC_FUZZ_MODEL="$( [ "$model" != - ] && echo "$model" )" ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no \
        "$SCRATCH/fuzz/fuzz_$harness" "$corpus" -max_total_time="$SECONDS_EACH" -max_len="$maxlen" -timeout=30 \
        -rss_limit_mb=4096 -seed="${FUZZ_SEED:-0}" -print_final_stats=1 -artifact_prefix="$SCRATCH/crashes/$name-" >"$log" 2>&1
    rc=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    crashes=0
    if [ $rc -ne 0 ]; then crashes=1; failed=$((failed + 1)); grep -E "ERROR|Fatal|SUMMARY|panic|crash" "$log" | head -5; fi
    total=$((total + ${execs:-0}))
    printf '%-18s %12s %10s %8s %8s\n' "$name" "${execs:-0}" "${rate:-0}" "${cov:-0}" "$crashes" | tee -a "$SCRATCH/fuzz/summary.txt"
done
echo "total executions: $total, targets with a crash: $failed" | tee -a "$SCRATCH/fuzz/summary.txt"
[ $failed -eq 0 ]
