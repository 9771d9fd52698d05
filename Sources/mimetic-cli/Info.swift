import ArgumentParser
import Foundation
import MimeticCore

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Describe a model file.")

    @Argument(help: "Model file.") var model: String
    @Flag(help: "Print the raw config JSON.") var json = false

    func run() throws {
        try reportingErrors {
            let m = try MimeticModel(path: model)
            let c = m.config
            if json { print(m.store.metadata["mimetic.config"] ?? "{}"); return }
            let size = (try? FileManager.default.attributesOfItem(atPath: model)[.size] as? Int) ?? 0
            let e = c.encoder, d = c.decoder
            print("model        \(model) (\(String(format: "%.1f", Double(size) / 1_048_576)) MiB, \(m.store.tensorNames.count) tensors)")
            print("family       \(c.family.rawValue)")
            print("audio        \(c.sample_rate) Hz -> \(c.fps) fps, alignment \(m.alignmentName)")
            switch e {
            case .wav2vec2(let e):
                print("encoder      wav2vec2 (\(e.feat_extract_norm)-norm), \(e.num_layers) layers x \(e.hidden_size) (\(e.num_heads) heads, FFN \(e.intermediate_size)), CNN \(e.conv_dim.count) layers")
            case .realtime(let r):
                print("encoder      realtime: log-mel \(r.n_mels) x \(r.subframes * c.fps) Hz (FFT \(r.n_fft), window \(r.win_length)), conv \(r.mel_kernel.count) mel-rate + stride \(r.subframes) + \(r.kernel.count) frame-rate layers x \(r.hidden_size), lookahead \(String(format: "%.1f", (m.realtimeLookaheadSamples ?? 0) / 16)) ms, \(m.encoderParameterCount) parameters")
            }
            print("decoder      d=\(d.d_model), \(d.num_heads) heads, FFN \(d.ffn_dim), \(d.num_layers) layer(s), \(d.norm.rawValue) norm, \(d.attention_bias.rawValue) bias, period \(d.period), window \(d.max_seq_len) frames")
            print("mesh         \(c.num_vertices) vertices (\(c.outputSize) floats per frame), template \(m.template == nil ? "no" : "yes"), triangles \((m.triangles?.count ?? 0) / 3), lip vertices \(m.lipVertices?.count ?? 0), inner-lip pairs \(m.lipPairs?.upper.count ?? 0)")
            if let im = c.imitator { print("imitator     start token \(im.start_token.rawValue), \(im.mlp_layers) MLP layers") }
            if let mi = c.mimic { print("mimic        style encoder \(mi.style_conv_layers) conv + \(mi.style_layers) transformer layers, window \(mi.style_window) frames") }
            let names = m.styleNames
            print("styles       \(names.isEmpty ? "none (reference motion)" : names.enumerated().map { "\($0.offset):\($0.element)" }.joined(separator: " "))")
            if let p = m.store.metadata["mimetic.provenance"] { print("provenance   \(p)") }
        }
    }
}
