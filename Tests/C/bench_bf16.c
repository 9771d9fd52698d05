/* Reduced precision for the wav2vec 2.0 encoder's products, measured (docs/performance.md; not built
 * by CI: needs Debian's libdnnl-dev, oneDNN 2.6): the GEMM shapes of a 10 s utterance through
 * wav2vec2-base (the CNN's strided convolutions as GEMMs, the transformer's projections at 30 Hz),
 * float32 with OpenBLAS (what Mimetic runs) against oneDNN's matmul in float32 and in bfloat16
 * (AVX-512 BF16: source and weights bf16, accumulation and output float32; weights converted and
 * packed once, as a model load would; the activations converted on every call, timed), and the
 * bf16 result's error relative to float32 on random data. Best of 5, threads: OPENBLAS_NUM_THREADS
 * and OMP_NUM_THREADS (set both). No timed assertion.
 *   cc -O2 -Iinclude Tests/C/bench_bf16.c -lopenblas -ldnnl -lm -o bench_bf16 && ./bench_bf16 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "oneapi/dnnl/dnnl.h"

#define CHECK(call) do { dnnl_status_t s_ = (call); if (s_ != dnnl_success) { fprintf(stderr, "%s: %d\n", #call, (int)s_); exit(1); } } while (0)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct { const char *what; int m, k, n, count; } Shape;

/* C[m, n] = A[m, k] W[n, k]^T, weights stored [out, in] as in a model file. */
static double onednn(dnnl_engine_t engine, dnnl_stream_t stream, const Shape *s, dnnl_data_type_t type, const float *a, const float *w,
                     float *c) {
    dnnl_memory_desc_t a32, a_md, w32, w_md, w_any, c_md;
    dnnl_dims_t ad = {s->m, s->k}, wd = {s->k, s->n}, cd = {s->m, s->n};
    CHECK(dnnl_memory_desc_init_by_tag(&a32, 2, ad, dnnl_f32, dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&a_md, 2, ad, type, dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&w32, 2, wd, dnnl_f32, dnnl_ba)); /* W^T viewed [k, n] from [n, k] */
    CHECK(dnnl_memory_desc_init_by_tag(&w_any, 2, wd, type, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&c_md, 2, cd, dnnl_f32, dnnl_ab));
    dnnl_matmul_desc_t md;
    CHECK(dnnl_matmul_desc_init(&md, &a_md, &w_any, NULL, &c_md));
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_primitive_desc_create(&pd, &md, NULL, engine, NULL));
    w_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_primitive_t mm;
    CHECK(dnnl_primitive_create(&mm, pd));
    dnnl_memory_t a32m, am, w32m, wm, cm;
    CHECK(dnnl_memory_create(&a32m, &a32, engine, (void *)a));
    CHECK(dnnl_memory_create(&am, &a_md, engine, DNNL_MEMORY_ALLOCATE));
    CHECK(dnnl_memory_create(&w32m, &w32, engine, (void *)w));
    CHECK(dnnl_memory_create(&wm, &w_md, engine, DNNL_MEMORY_ALLOCATE));
    CHECK(dnnl_memory_create(&cm, &c_md, engine, c));
    /* Weights: converted and packed once (load time). */
    dnnl_primitive_desc_t rpd;
    dnnl_primitive_t r;
    CHECK(dnnl_reorder_primitive_desc_create(&rpd, &w32, engine, &w_md, engine, NULL));
    CHECK(dnnl_primitive_create(&r, rpd));
    dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, w32m}, {DNNL_ARG_TO, wm}};
    CHECK(dnnl_primitive_execute(r, stream, 2, rargs));
    /* Activations: converted on every call. */
    dnnl_primitive_desc_t apd;
    dnnl_primitive_t ar;
    CHECK(dnnl_reorder_primitive_desc_create(&apd, &a32, engine, &a_md, engine, NULL));
    CHECK(dnnl_primitive_create(&ar, apd));
    dnnl_exec_arg_t aargs[2] = {{DNNL_ARG_FROM, a32m}, {DNNL_ARG_TO, am}};
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, cm}};
    double best = 1e9;
    for (int r5 = 0; r5 < 6; ++r5) {
        double t = now();
        for (int i = 0; i < s->count; ++i) {
            CHECK(dnnl_primitive_execute(ar, stream, 2, aargs));
            CHECK(dnnl_primitive_execute(mm, stream, 3, args));
        }
        CHECK(dnnl_stream_wait(stream));
        t = now() - t;
        if (r5 > 0 && t < best) best = t; /* the first run warms up */
    }
    dnnl_primitive_destroy(mm); dnnl_primitive_destroy(r); dnnl_primitive_destroy(ar);
    dnnl_primitive_desc_destroy(pd); dnnl_primitive_desc_destroy(rpd); dnnl_primitive_desc_destroy(apd);
    dnnl_memory_destroy(a32m); dnnl_memory_destroy(am); dnnl_memory_destroy(w32m); dnnl_memory_destroy(wm); dnnl_memory_destroy(cm);
    return best;
}

static double openblas(const Shape *s, const float *a, const float *w, float *c) {
    double best = 1e9;
    for (int r = 0; r < 6; ++r) {
        double t = now();
        for (int i = 0; i < s->count; ++i)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->m, s->n, s->k, 1, a, s->k, w, s->k, 0, c, s->n);
        t = now() - t;
        if (r > 0 && t < best) best = t;
    }
    return best;
}

int main(void) {
    /* wav2vec2-base, 10 s at 16 kHz: the CNN (512 channels; the first layer's k = 10 patch on raw
     * audio, then k = 3 s = 2 four times and k = 2 s = 2 twice) and 12 transformer layers at 30 Hz
     * (300 rows): QKV, attention output, feed-forward up and down. */
    const Shape shapes[] = {
        {"cnn 1 (k10 s5 on audio)", 31999, 10, 512, 1},
        {"cnn 2 (512x3 -> 512)", 15999, 1536, 512, 1},
        {"cnn 3", 7999, 1536, 512, 1},
        {"cnn 4", 3999, 1536, 512, 1},
        {"cnn 5", 1999, 1536, 512, 1},
        {"cnn 6 (512x2 -> 512)", 999, 1024, 512, 1},
        {"cnn 7", 499, 1024, 512, 1},
        {"qkv x12", 300, 768, 2304, 12},
        {"attn out x12", 300, 768, 768, 12},
        {"ffn up x12", 300, 768, 3072, 12},
        {"ffn down x12", 300, 3072, 768, 12},
    };
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    double tb = 0, tf = 0, th = 0, flops = 0, worst = 0;
    printf("oneDNN %d.%d.%d (ISA 0x%x), OpenBLAS %s\n", dnnl_version()->major, dnnl_version()->minor, dnnl_version()->patch,
           (unsigned)dnnl_get_effective_cpu_isa(), openblas_get_config());
    printf("| product | m x k x n | OpenBLAS f32 GFLOP/s | oneDNN f32 | oneDNN bf16 (activations converted) | bf16 max rel. error |\n|---|---|---|---|---|---|\n");
    srand(7);
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; ++i) {
        const Shape *s = &shapes[i];
        float *a = malloc((size_t)s->m * s->k * 4), *w = malloc((size_t)s->n * s->k * 4);
        float *c1 = malloc((size_t)s->m * s->n * 4), *c2 = malloc((size_t)s->m * s->n * 4), *c3 = malloc((size_t)s->m * s->n * 4);
        for (long j = 0; j < (long)s->m * s->k; ++j) a[j] = (float)rand() / RAND_MAX - 0.5f;
        for (long j = 0; j < (long)s->n * s->k; ++j) w[j] = ((float)rand() / RAND_MAX - 0.5f) / sqrtf((float)s->k);
        double f = 2.0 * s->m * s->k * s->n * s->count;
        double b = openblas(s, a, w, c1), o = onednn(engine, stream, s, dnnl_f32, a, w, c2), h = onednn(engine, stream, s, dnnl_bf16, a, w, c3);
        double err = 0, scale = 0;
        for (long j = 0; j < (long)s->m * s->n; ++j) {
            err = fmax(err, fabs((double)c3[j] - c1[j]));
            scale = fmax(scale, fabs((double)c1[j]));
        }
        printf("| %s | %d x %d x %d | %.0f | %.0f | %.0f (%.2fx) | %.1e |\n", s->what, s->m, s->k, s->n, f / b / 1e9, f / o / 1e9, f / h / 1e9, b / h,
               err / scale);
        tb += b; tf += o; th += h; flops += f;
        if (err / scale > worst) worst = err / scale;
        free(a); free(w); free(c1); free(c2); free(c3);
    }
    printf("| all | %.0f GFLOP | %.0f (%.3f s) | %.0f (%.3f s) | %.0f (%.3f s, %.2fx) | %.1e |\n", flops / 1e9, flops / tb / 1e9, tb, flops / tf / 1e9, tf,
           flops / th / 1e9, th, tb / th, worst);
    return 0;
}
