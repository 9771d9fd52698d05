// A tiny consumer of an installed libMimetic: prints the version and a model's info.
// Built two ways by scripts/test-packaging.sh: with CMake (find_package(Mimetic), C API) and with
// pkg-config (-DUSE_CPP_BINDING: through the installed C++ header mimetic.hpp).
#include <cstdio>
#include <cstring>

#ifdef USE_CPP_BINDING
#include <mimetic.hpp>

int main(int argc, char **argv) {
    if (argc < 2) { std::fprintf(stderr, "usage: consumer MODEL\n"); return 2; }
    std::printf("version %s (header %s, C++ binding)\n", mimetic::version(), MIMETIC_VERSION_STRING);
    try {
        mimetic::Model model(argv[1]);
        const mimetic::ModelInfo &info = model.info();
        std::printf("model family=%d sample_rate=%d fps=%d num_vertices=%d output_size=%d num_styles=%d\n",
                    static_cast<int>(info.family), info.sample_rate, info.fps, info.num_vertices, info.output_size, info.num_styles);
        for (const auto &name : model.styleNames()) std::printf("style %s\n", name.c_str());
    } catch (const mimetic::Error &e) {
        std::fprintf(stderr, "error %d: %s\n", static_cast<int>(e.status()), e.what());
        return 1;
    }
    return std::strcmp(mimetic::version(), MIMETIC_VERSION_STRING) == 0 ? 0 : 3;
}
#else
#include <mimetic.h>

int main(int argc, char **argv) {
    if (argc < 2) { std::fprintf(stderr, "usage: consumer MODEL\n"); return 2; }
    std::printf("version %s (header %s, C API)\n", mimetic_version(), MIMETIC_VERSION_STRING);
    mimetic_model *model = nullptr;
    mimetic_status st = mimetic_model_load(argv[1], &model);
    if (st != MIMETIC_OK) { std::fprintf(stderr, "error %d: %s\n", static_cast<int>(st), mimetic_last_error()); return 1; }
    mimetic_model_info info;
    std::memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    st = mimetic_model_get_info(model, &info);
    if (st != MIMETIC_OK) { std::fprintf(stderr, "error %d: %s\n", static_cast<int>(st), mimetic_last_error()); return 1; }
    std::printf("model family=%d sample_rate=%d fps=%d num_vertices=%d output_size=%d num_styles=%d\n",
                static_cast<int>(info.family), info.sample_rate, info.fps, info.num_vertices, info.output_size, info.num_styles);
    for (int i = 0; i < info.num_styles; ++i) std::printf("style %s\n", mimetic_model_style_name(model, i));
    mimetic_model_free(model);
    return std::strcmp(mimetic_version(), MIMETIC_VERSION_STRING) == 0 ? 0 : 3;
}
#endif
