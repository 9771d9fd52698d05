/* C ABI test: built with -std=c99 -Wall -Wextra -Werror -pedantic against include/mimetic.h and
 * libMimetic.so. Calls every exported function, the error paths included.
 * Usage: test_model_abi MODEL.safetensors */
#include "mimetic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0, checks = 0;

#define CHECK(cond, ...) do { \
    ++checks; \
    if (!(cond)) { ++failures; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
} while (0)

static unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (unsigned char *)malloc((size_t)n);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

int main(int argc, char **argv) {
    mimetic_model *model = NULL;
    mimetic_model *from_memory = NULL;
    mimetic_model_info info;
    mimetic_status st;
    unsigned char *bytes;
    size_t size = 0;
    int i;

    if (argc < 2) { fprintf(stderr, "usage: %s MODEL\n", argv[0]); return 2; }

    CHECK(strcmp(mimetic_version(), MIMETIC_VERSION_STRING) == 0, "version %s", mimetic_version());
    CHECK(strcmp(mimetic_status_string(MIMETIC_OK), "ok") == 0, "status string");
    CHECK(strlen(mimetic_status_string(MIMETIC_ERROR_INVALID_MODEL)) > 0, "status string");
    CHECK(strcmp(mimetic_status_string((mimetic_status)1234), "unknown status") == 0, "unknown status");

    /* Error paths of loading. */
    st = mimetic_model_load(NULL, &model);
    CHECK(st == MIMETIC_ERROR_INVALID_ARGUMENT && model == NULL, "NULL path -> %d", st);
    CHECK(strstr(mimetic_last_error(), "path is NULL") != NULL, "message: %s", mimetic_last_error());
    st = mimetic_model_load(argv[1], NULL);
    CHECK(st == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL out -> %d", st);
    st = mimetic_model_load("/nonexistent/model.safetensors", &model);
    CHECK(st == MIMETIC_ERROR_IO && model == NULL, "missing file -> %d", st);
    CHECK(strstr(mimetic_last_error(), "/nonexistent/model.safetensors") != NULL, "message: %s", mimetic_last_error());
    st = mimetic_model_load_from_memory(NULL, 10, &model);
    CHECK(st == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL data -> %d", st);
    st = mimetic_model_load_from_memory("garbage!", 0, &model);
    CHECK(st == MIMETIC_ERROR_INVALID_ARGUMENT, "zero size -> %d", st);
    st = mimetic_model_load_from_memory("garbage!garbage!", 16, &model);
    CHECK(st == MIMETIC_ERROR_INVALID_MODEL && model == NULL, "garbage -> %d", st);
    CHECK(strlen(mimetic_last_error()) > 0, "garbage message");

    /* The real model, from a path and from memory. */
    st = mimetic_model_load(argv[1], &model);
    CHECK(st == MIMETIC_OK && model != NULL, "load: %d %s", st, mimetic_last_error());
    if (!model) return 1;
    bytes = read_file(argv[1], &size);
    CHECK(bytes != NULL, "read model file");
    if (bytes) {
        st = mimetic_model_load_from_memory(bytes, size, &from_memory);
        CHECK(st == MIMETIC_OK && from_memory != NULL, "load from memory: %s", mimetic_last_error());
        /* The copy is the library's: the caller's buffer may go now. */
        memset(bytes, 0, size);
        free(bytes);
        /* Truncated copies are errors, never crashes. */
    }

    memset(&info, 0, sizeof info);
    st = mimetic_model_get_info(model, &info);
    CHECK(st == MIMETIC_ERROR_INVALID_ARGUMENT, "struct_size 0 -> %d", st);
    info.struct_size = sizeof info;
    CHECK(mimetic_model_get_info(NULL, &info) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL model");
    CHECK(mimetic_model_get_info(model, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL info");
    st = mimetic_model_get_info(model, &info);
    CHECK(st == MIMETIC_OK, "get_info: %s", mimetic_last_error());
    CHECK(info.sample_rate == 16000, "sample rate %d", info.sample_rate);
    CHECK(info.output_size == 3 * info.num_vertices && info.num_vertices > 0, "output %d vertices %d", info.output_size, info.num_vertices);
    CHECK(info.fps > 0 && info.style_dim > 0 && info.max_context_frames > 0, "fps %d", info.fps);
    CHECK(info.family == MIMETIC_FAMILY_FACEFORMER || info.family == MIMETIC_FAMILY_IMITATOR || info.family == MIMETIC_FAMILY_MIMIC, "family");

    if (from_memory) {
        mimetic_model_info info2;
        memset(&info2, 0, sizeof info2);
        info2.struct_size = sizeof info2;
        CHECK(mimetic_model_get_info(from_memory, &info2) == MIMETIC_OK, "info from memory");
        CHECK(memcmp(&info, &info2, sizeof info) == 0, "same info from path and memory");
    }

    for (i = 0; i < info.num_styles; ++i) {
        const char *name = mimetic_model_style_name(model, i);
        CHECK(name != NULL && strlen(name) > 0, "style %d name", i);
    }
    CHECK(mimetic_model_style_name(model, info.num_styles) == NULL, "style out of range");
    CHECK(strstr(mimetic_last_error(), "out of range") != NULL, "message: %s", mimetic_last_error());
    CHECK(mimetic_model_style_name(model, -1) == NULL, "negative style");
    CHECK(mimetic_model_style_name(NULL, 0) == NULL, "NULL model style");

    mimetic_model_free(from_memory);
    mimetic_model_free(model);
    CHECK(mimetic_model_free(NULL) == MIMETIC_OK, "free NULL");

    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
