/* libFuzzer harness: the core's npy path (Sources/MimeticFuzzTargets). Built and run by `make fuzz`. */
#include <stddef.h>
#include <stdint.h>

int mimetic_fuzz_npy(const uint8_t *data, long size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mimetic_fuzz_npy(data, (long)size);
    return 0;
}
