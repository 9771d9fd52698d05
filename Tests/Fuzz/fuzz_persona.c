/* libFuzzer harness: the core's persona path (Sources/MimeticFuzzTargets). Built and run by `make fuzz`. */
#include <stddef.h>
#include <stdint.h>

int mimetic_fuzz_persona(const uint8_t *data, long size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mimetic_fuzz_persona(data, (long)size);
    return 0;
}
