/* libFuzzer harness: Live Link takes and phone labels (Sources/MimeticFuzzTargets). Built and run by `make fuzz`. */
#include <stddef.h>
#include <stdint.h>

int mimetic_fuzz_text(const uint8_t *data, long size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mimetic_fuzz_text(data, (long)size);
    return 0;
}
