/* Re-seals a hand-edited snapshot with the checksum include/mimetic.h defines (FNV-1a over the
 * 8-byte little-endian words, bytes 16..23 taken as zero), as a tool that edits snapshots would:
 * used by the tests and the fuzzer to get past the checksum to the bounds checks behind it. */
#ifndef MIMETIC_SNAPSHOT_SEAL_H
#define MIMETIC_SNAPSHOT_SEAL_H

#include <stddef.h>
#include <stdint.h>

static void snapshot_seal(unsigned char *snap, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull, w;
    size_t i, j;
    for (i = 0; i < n; i += 8) {
        w = 0;
        for (j = 0; j < 8 && i + j < n; ++j) w |= (uint64_t)snap[i + j] << (8 * j);
        if (i == 16) w = 0;
        h = (h ^ w) * 0x100000001b3ull;
    }
    for (j = 0; j < 8; ++j) snap[16 + j] = (unsigned char)(h >> (8 * j));
}

#endif
