"""What a valid config is (`validate_config`) and which tensors, of which shapes, it implies
(`expected_tensors`, `check_tensors`): docs/model-format.md in code."""
from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from typing import List, Tuple

import numpy as np

from .constants import FAMILIES
from .errors import ConversionError


ENCODER_KEYS = ["type", "conv_dim", "conv_kernel", "conv_stride", "conv_bias", "feat_extract_norm",
             "hidden_size", "num_layers", "num_heads", "intermediate_size", "pos_conv_kernel",
             "pos_conv_groups", "layer_norm_eps", "stable_layer_norm", "input_norm_eps"]
REALTIME_ENCODER_KEYS = ["type", "n_fft", "win_length", "window_ahead", "n_mels", "f_min", "f_max", "mel_scale",
                "log_floor", "subframes", "hidden_size", "mel_kernel", "mel_dilation", "mel_lookahead",
                "down_kernel", "down_lookahead", "kernel", "dilation", "lookahead", "layer_norm_eps"]
_DEC_KEYS = ["d_model", "num_heads", "ffn_dim", "num_layers", "norm", "norm_eps", "attention_bias",
             "positional", "period", "max_seq_len"]
_IMI_KEYS = ["start_token", "mlp_layers", "leaky_slope"]
_MIM_KEYS = ["style_conv_layers", "style_layers", "style_heads", "style_ffn_dim", "style_window",
             "style_norm_eps"]
_TOP_KEYS = ["family", "sample_rate", "fps", "num_vertices", "encoder", "alignment", "decoder",
             "styles", "imitator", "mimic"]


def is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def is_num(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and \
        math.isfinite(float(v))


def is_realtime(enc) -> bool:
    return isinstance(enc, Mapping) and enc.get("type") == "realtime"


def realtime_encoder_errors(enc: Mapping) -> List[str]:
    """Problems in a realtime encoder section (docs/model-format.md; the same checks as the runtime's)."""
    errs: List[str] = []

    def ints(key, lo, hi):
        v = enc[key]
        if not is_int(v) or not lo <= v <= hi:
            errs.append(f"encoder.{key} must be an integer in [{lo}, {hi}], got {v!r}")
            return False
        return True

    if ints("n_fft", 16, 8192) and enc["n_fft"] & (enc["n_fft"] - 1):
        errs.append(f"encoder.n_fft must be a power of two, got {enc['n_fft']}")
    if ints("win_length", 1, 8192) and is_int(enc["n_fft"]) and enc["win_length"] > enc["n_fft"]:
        errs.append(f"encoder.win_length {enc['win_length']} exceeds n_fft {enc['n_fft']}")
    if ints("window_ahead", 0, 8192) and is_int(enc["win_length"]) and enc["window_ahead"] > enc["win_length"]:
        errs.append(f"encoder.window_ahead {enc['window_ahead']} exceeds win_length {enc['win_length']}")
    ints("n_mels", 1, 1024)
    ints("subframes", 1, 64)
    ints("hidden_size", 1, 16384)
    if not (is_num(enc["f_min"]) and is_num(enc["f_max"]) and 0 <= enc["f_min"] < enc["f_max"] <= 8000):
        errs.append(f"encoder.f_min/f_max must satisfy 0 <= f_min < f_max <= 8000, got {enc['f_min']!r}, "
                    f"{enc['f_max']!r}")
    if enc["mel_scale"] != "htk":
        errs.append(f"encoder.mel_scale must be 'htk', got {enc['mel_scale']!r}")
    for k in ("log_floor", "layer_norm_eps"):
        if not is_num(enc[k]) or enc[k] <= 0:
            errs.append(f"encoder.{k} must be a positive number, got {enc[k]!r}")
    for group in (("mel_kernel", "mel_dilation", "mel_lookahead"), ("kernel", "dilation", "lookahead")):
        lists = [enc[k] for k in group]
        if not all(isinstance(x, (list, tuple)) and all(is_int(i) for i in x) for x in lists):
            errs.append(f"encoder.{'/'.join(group)} must be lists of integers")
        elif len({len(x) for x in lists}) != 1 or len(lists[0]) > 64:
            errs.append(f"encoder.{'/'.join(group)} must have equal lengths (at most 64)")
        else:
            for i, (k, d, a) in enumerate(zip(*lists)):
                if not (1 <= k <= 64 and 1 <= d <= 1024 and 0 <= a <= (k - 1) * d):
                    errs.append(f"encoder.{group[0]}[{i}]: need 1 <= kernel <= 64, 1 <= dilation <= 1024, "
                                f"0 <= lookahead <= (kernel - 1) * dilation; got {k}, {d}, {a}")
    if ints("down_kernel", 1, 256) and ints("down_lookahead", 0, 255) and \
            enc["down_lookahead"] > enc["down_kernel"] - 1:
        errs.append(f"encoder.down_lookahead {enc['down_lookahead']} exceeds down_kernel - 1")
    if is_int(enc.get("down_kernel")) and is_int(enc.get("subframes")) and enc["down_kernel"] < enc["subframes"]:
        # The stride of the downsampling conv is `subframes`; a shorter kernel skips mel frames.
        errs.append(f"encoder.down_kernel {enc['down_kernel']} is less than encoder.subframes {enc['subframes']}, its stride")
    return errs


def realtime_encoder_tensors(enc: Mapping) -> "OrderedDict[str, Tuple[int, ...]]":
    """Canonical tensors of a realtime encoder (conv weights [out, kernel, in])."""
    H, M = enc["hidden_size"], enc["n_mels"]
    out: "OrderedDict[str, Tuple[int, ...]]" = OrderedDict()
    out["encoder.mel_norm.weight"] = (M,)
    out["encoder.mel_norm.bias"] = (M,)

    def block(name, k, c_in):
        out[f"{name}.conv.weight"] = (H, k, c_in)
        out[f"{name}.conv.bias"] = (H,)
        out[f"{name}.norm.weight"] = (H,)
        out[f"{name}.norm.bias"] = (H,)

    c_in = M
    for i, k in enumerate(enc["mel_kernel"]):
        block(f"encoder.mel_layers.{i}", k, c_in)
        c_in = H
    block("encoder.down", enc["down_kernel"], c_in)
    for i, k in enumerate(enc["kernel"]):
        block(f"encoder.layers.{i}", k, H)
    out["encoder.norm.weight"] = (H,)
    out["encoder.norm.bias"] = (H,)
    return out


def validate_config(cfg: Mapping) -> None:
    """Raise ConversionError listing every problem in a config dict."""
    errs: List[str] = []

    def pos_int(sec, key, v, allow_zero=False):
        if not is_int(v) or (v < 0 if allow_zero else v <= 0):
            errs.append(f"{sec}{key} must be a {'non-negative' if allow_zero else 'positive'} integer, "
                        f"got {v!r}")

    def pos_num(sec, key, v):
        if not is_num(v) or v <= 0:
            errs.append(f"{sec}{key} must be a positive number, got {v!r}")

    def section(name, keys):
        sec = cfg.get(name)
        if not isinstance(sec, Mapping):
            errs.append(f"missing config section '{name}'")
            return None
        for k in keys:
            if k not in sec:
                errs.append(f"missing config field '{name}.{k}'")
        for k in sec:
            if k not in keys:
                errs.append(f"unknown config field '{name}.{k}'")
        return sec

    if not isinstance(cfg, Mapping):
        raise ConversionError("config must be a dict")
    for k in cfg:
        if k not in _TOP_KEYS:
            errs.append(f"unknown config field '{k}'")
    family = cfg.get("family")
    if family not in FAMILIES:
        errs.append(f"family must be one of {', '.join(FAMILIES)}, got {family!r}")
    for k in ("sample_rate", "num_vertices"):
        if k not in cfg:
            errs.append(f"missing config field '{k}'")
        else:
            pos_int("", k, cfg[k])
    if cfg.get("sample_rate", 16000) != 16000:
        errs.append(f"sample_rate must be 16000 (wav2vec 2.0), got {cfg.get('sample_rate')!r}")
    if "fps" not in cfg:
        errs.append("missing config field 'fps'")
    else:
        pos_int("", "fps", cfg["fps"])

    realtime = is_realtime(cfg.get("encoder"))
    enc = section("encoder", REALTIME_ENCODER_KEYS if realtime else ENCODER_KEYS)
    if realtime:
        if enc is not None and all(k in enc for k in REALTIME_ENCODER_KEYS):
            errs.extend(realtime_encoder_errors(enc))
    elif enc is not None and all(k in enc for k in ENCODER_KEYS):
        if enc["type"] != "wav2vec2":
            errs.append(f"encoder.type must be 'wav2vec2' or 'realtime', got {enc['type']!r}")
        lists = [enc["conv_dim"], enc["conv_kernel"], enc["conv_stride"]]
        if not all(isinstance(x, (list, tuple)) and x and all(is_int(i) and i > 0 for i in x) for x in lists):
            errs.append("encoder.conv_dim / conv_kernel / conv_stride must be non-empty lists of positive "
                        "integers")
        elif not (len(lists[0]) == len(lists[1]) == len(lists[2])):
            errs.append(f"encoder.conv_dim / conv_kernel / conv_stride lengths differ: "
                        f"{len(lists[0])}, {len(lists[1])}, {len(lists[2])}")
        for k in ("conv_bias", "stable_layer_norm"):
            if not isinstance(enc[k], bool):
                errs.append(f"encoder.{k} must be true/false, got {enc[k]!r}")
        if enc["feat_extract_norm"] not in ("group", "layer"):
            errs.append(f"encoder.feat_extract_norm must be 'group' or 'layer', got {enc['feat_extract_norm']!r}")
        for k in ("hidden_size", "num_layers", "intermediate_size", "pos_conv_kernel", "pos_conv_groups"):
            pos_int("encoder.", k, enc[k])
        if enc["num_heads"] is None:
            errs.append(f"encoder.num_heads could not be inferred (hidden size {enc['hidden_size']} is not a "
                        "multiple of 64); pass --encoder-heads / overrides['encoder']['num_heads']")
        else:
            pos_int("encoder.", "num_heads", enc["num_heads"])
        for k in ("layer_norm_eps", "input_norm_eps"):
            pos_num("encoder.", k, enc[k])
        if is_int(enc["hidden_size"]) and is_int(enc["num_heads"]) and enc["num_heads"] > 0 and \
                enc["hidden_size"] % enc["num_heads"]:
            errs.append(f"encoder.hidden_size {enc['hidden_size']} is not divisible by num_heads {enc['num_heads']}")
        if is_int(enc["hidden_size"]) and is_int(enc["pos_conv_groups"]) and enc["pos_conv_groups"] > 0 and \
                enc["hidden_size"] % enc["pos_conv_groups"]:
            errs.append(f"encoder.hidden_size {enc['hidden_size']} is not divisible by pos_conv_groups "
                        f"{enc['pos_conv_groups']}")

    al = section("alignment", ["mode", "frames_offset"])
    if al is not None and "mode" in al:
        if al["mode"] not in ("interpolate", "pairs", "conv", "native"):
            errs.append(f"alignment.mode must be interpolate | pairs | conv | native, got {al['mode']!r}")
        elif (al["mode"] == "native") != realtime:
            errs.append("alignment.mode 'native' goes with encoder.type 'realtime' (and only with it), "
                        f"got mode {al['mode']!r} with encoder type "
                        f"{(cfg.get('encoder') or {}).get('type')!r}")
        if realtime and al.get("frames_offset", 0) != 0:
            errs.append("alignment.frames_offset must be 0 with a realtime encoder")
        if "frames_offset" in al and not is_int(al["frames_offset"]):
            errs.append(f"alignment.frames_offset must be an integer, got {al['frames_offset']!r}")

    dec = section("decoder", _DEC_KEYS)
    if dec is not None and all(k in dec for k in _DEC_KEYS):
        for k in ("d_model", "num_heads", "ffn_dim", "num_layers", "period", "max_seq_len"):
            pos_int("decoder.", k, dec[k])
        pos_num("decoder.", "norm_eps", dec["norm_eps"])
        if dec["norm"] not in ("layer", "saln"):
            errs.append(f"decoder.norm must be 'layer' or 'saln', got {dec['norm']!r}")
        if dec["attention_bias"] not in ("alibi", "causal"):
            errs.append(f"decoder.attention_bias must be 'alibi' or 'causal', got {dec['attention_bias']!r}")
        if dec["positional"] not in ("periodic", "constant"):
            errs.append(f"decoder.positional must be 'periodic' or 'constant', got {dec['positional']!r}")
        if is_int(dec["d_model"]) and is_int(dec["num_heads"]) and dec["num_heads"] > 0 and \
                dec["d_model"] % dec["num_heads"]:
            errs.append(f"decoder.d_model {dec['d_model']} is not divisible by num_heads {dec['num_heads']}")
        if family == "mimic" and dec["norm"] != "saln":
            errs.append("Mimic requires decoder.norm = 'saln'")
        if family in ("faceformer", "imitator") and dec["norm"] != "layer":
            errs.append(f"{family} requires decoder.norm = 'layer'")

    st = section("styles", ["names"])
    if st is not None and "names" in st:
        names = st["names"]
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n for n in names):
            errs.append("styles.names must be a list of non-empty strings")
        elif len(set(names)) != len(names):
            errs.append("styles.names contains duplicates")
        elif family in ("faceformer", "imitator") and not names:
            errs.append(f"{family}: styles.names must name the one-hot styles")

    if family == "imitator":
        im = section("imitator", _IMI_KEYS)
        if im is not None and all(k in im for k in _IMI_KEYS):
            if im["start_token"] not in ("zeros", "style"):
                errs.append(f"imitator.start_token must be 'zeros' or 'style', got {im['start_token']!r}")
            pos_int("imitator.", "mlp_layers", im["mlp_layers"], allow_zero=True)
            if not is_num(im["leaky_slope"]):
                errs.append(f"imitator.leaky_slope must be a number, got {im['leaky_slope']!r}")
    if family == "mimic":
        mm = section("mimic", _MIM_KEYS)
        if mm is not None and all(k in mm for k in _MIM_KEYS):
            for k in ("style_conv_layers", "style_layers", "style_heads", "style_ffn_dim", "style_window"):
                pos_int("mimic.", k, mm[k])
            pos_num("mimic.", "style_norm_eps", mm["style_norm_eps"])
            if dec is not None and is_int(dec.get("d_model")) and is_int(mm["style_heads"]) and \
                    mm["style_heads"] > 0 and dec["d_model"] % mm["style_heads"]:
                errs.append(f"decoder.d_model {dec['d_model']} is not divisible by mimic.style_heads "
                            f"{mm['style_heads']}")
    if errs:
        raise ConversionError("invalid config: " + "; ".join(errs))


def expected_tensors(cfg: Mapping, with_style_codes: bool = False) -> "OrderedDict[str, Tuple[int, ...]]":
    """Canonical tensor names and shapes a model with this config must contain (no optional assets)."""
    enc = cfg["encoder"]
    out: "OrderedDict[str, Tuple[int, ...]]" = OrderedDict()

    def lin(name, o, i, bias=True):
        out[f"{name}.weight"] = (o, i)
        if bias:
            out[f"{name}.bias"] = (o,)

    def norm(name, c):
        out[f"{name}.weight"] = (c,)
        out[f"{name}.bias"] = (c,)

    if is_realtime(enc):
        out.update(realtime_encoder_tensors(enc))
    else:
        _wav2vec_tensors(enc, cfg, out, lin, norm)
    _head_tensors(cfg, out, lin, norm, with_style_codes)
    return out


def _wav2vec_tensors(enc, cfg, out, lin, norm) -> None:
    H, F = enc["hidden_size"], enc["intermediate_size"]
    c_prev = 1
    for i, (c, k) in enumerate(zip(enc["conv_dim"], enc["conv_kernel"])):
        out[f"encoder.conv.{i}.weight"] = (c, k, c_prev)
        if enc["conv_bias"]:
            out[f"encoder.conv.{i}.bias"] = (c,)
        if enc["feat_extract_norm"] == "layer" or i == 0:
            norm(f"encoder.conv.{i}.norm", c)
        c_prev = c
    norm("encoder.projection.norm", c_prev)
    lin("encoder.projection", H, c_prev)
    out["encoder.pos_conv.weight"] = (H, enc["pos_conv_kernel"], H // enc["pos_conv_groups"])
    out["encoder.pos_conv.bias"] = (H,)
    norm("encoder.norm", H)
    for i in range(enc["num_layers"]):
        p = f"encoder.layers.{i}"
        for q in "qkvo":
            lin(f"{p}.attention.{q}", H, H)
        norm(f"{p}.norm1", H)
        lin(f"{p}.ffn.up", F, H)
        lin(f"{p}.ffn.down", H, F)
        norm(f"{p}.norm2", H)
    if cfg["alignment"]["mode"] == "conv":
        out["encoder.downsample.weight"] = (H, 15, H)
        out["encoder.downsample.bias"] = (H,)


def _head_tensors(cfg, out, lin, norm, with_style_codes: bool) -> None:
    """Everything after the encoder: the audio map, the decoder layers and the family head."""
    enc, dec = cfg["encoder"], cfg["decoder"]
    fam = cfg["family"]
    H, d, Fd = enc["hidden_size"], dec["d_model"], dec["ffn_dim"]
    V3 = 3 * cfg["num_vertices"]
    n = len(cfg["styles"]["names"])
    lin("audio_map", d, H)
    for l in range(dec["num_layers"]):
        p = f"decoder.layers.{l}"
        for att in ("self_attn", "cross_attn"):
            for q in "qkvo":
                lin(f"{p}.{att}.{q}", d, d)
        lin(f"{p}.ffn.up", Fd, d)
        lin(f"{p}.ffn.down", d, Fd)
        for j in (1, 2, 3):
            if dec["norm"] == "saln":
                lin(f"{p}.norm{j}.style", 2 * d, d)
            else:
                norm(f"{p}.norm{j}", d)
    if fam == "faceformer":
        lin("motion_in", d, V3)
        lin("motion_out", V3, d)
        out["style.weight"] = (d, n)
    elif fam == "imitator":
        out["style.weight"] = (d, n)
        for i in range(cfg["imitator"]["mlp_layers"]):
            lin(f"motion_decoder.{i}", d, d)
        lin("motion_out", V3, d)
    else:
        m = cfg["mimic"]
        lin("motion_in", d, V3)
        lin("motion_out", V3, d)
        lin("style_encoder.motion_map", d, V3)
        for i in range(m["style_conv_layers"]):
            out[f"style_encoder.conv.{i}.weight"] = (d, 3, d)
            norm(f"style_encoder.conv.{i}.norm", d)
        norm("style_encoder.projection.norm", d)
        lin("style_encoder.projection", d, d)
        for i in range(m["style_layers"]):
            p = f"style_encoder.layers.{i}"
            for q in "qkvo":
                lin(f"{p}.attention.{q}", d, d)
            norm(f"{p}.norm1", d)
            lin(f"{p}.ffn.up", m["style_ffn_dim"], d)
            lin(f"{p}.ffn.down", d, m["style_ffn_dim"])
            norm(f"{p}.norm2", d)
        lin("style_encoder.output", d, d)
        if with_style_codes:
            out["style_codes"] = (n, d)


def check_tensors(cfg: Mapping, tensors: Mapping) -> None:
    """Raise ConversionError unless ``tensors`` holds exactly the tensors ``cfg`` requires."""
    has_codes = "style_codes" in tensors
    exp = expected_tensors(cfg, with_style_codes=has_codes)
    errs = []
    if cfg["family"] == "mimic" and not has_codes and cfg["styles"]["names"]:
        errs.append(f"styles.names has {len(cfg['styles']['names'])} entries but there are no style_codes")
    for name, shape in exp.items():
        if name not in tensors:
            errs.append(f"missing tensor '{name}' {list(shape)}")
        elif tuple(np.shape(tensors[name])) != tuple(shape):
            errs.append(f"tensor '{name}' has shape {list(np.shape(tensors[name]))}, config implies {list(shape)}")
    extra = [k for k in tensors if k not in exp]
    if extra:
        errs.append("tensors not described by the config: " + ", ".join(sorted(extra)))
    if errs:
        raise ConversionError("tensors do not match the config: " + "; ".join(errs))

