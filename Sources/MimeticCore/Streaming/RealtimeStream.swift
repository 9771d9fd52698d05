import Foundation

/// Streaming with the real-time encoder: exact, frame by frame, inside the stream's buffer.
///
/// State (byte offsets in `StreamLayout`): the 16 kHz audio from the next mel window's start
/// (`rtAudioBase` is the global index of its first sample), and for each layer its input rows
/// from the first one its next output reads (`(K − 1)·d − a` zero rows at the start), with the
/// count of rows held and of outputs produced. Frame t is computed once its interval is complete,
/// (t + 1)·16000 ≤ N·fps, and the samples up to its last mel window's end have arrived (after a
/// flush: while t < floor(N·fps / 16000), with zeros past the end). Each frame computes only its
/// new rows (k mel frames and k rows of each mel-rate layer, one row of the others), always in
/// the same batches whatever the push sizes, so the output does not depend on how audio arrives;
/// it equals offline features up to float rounding (GEMV vs GEMM). Allocation-free.
extension StreamEngine {
    private var rtCounts: UnsafeMutablePointer<Int> { (base + layout.rtCounts).assumingMemoryBound(to: Int.self) }

    /// Zero rows in front of every layer's input, nothing produced, no audio, no mel frames.
    func resetRealtime() {
        let rt = model.realtime!
        for (i, l) in rt.layers.enumerated() {
            rtCounts[2 * i] = l.leftPad
            rtCounts[2 * i + 1] = 0
            floats(layout.rtStaging[i]).update(repeating: 0, count: l.leftPad * l.inChannels)
        }
        header.pointee.rtAudioBase = 0
        header.pointee.rtMelFrames = 0
    }

    /// Computes and decodes every frame that is ready and fits in the queue.
    func processRealtime() {
        let rt = model.realtime!
        let h = header
        while h.pointee.queueCount < layout.queueCapacity {
            let t = h.pointee.framesEncoded
            let total = h.pointee.rtAudioBase + h.pointee.audioCount
            if h.pointee.flushed {
                guard t < rt.frames(samples: total) else { break }
            } else {
                guard (t + 1) * 16000 <= total * rt.fps, rt.samplesNeeded(frame: t) <= total else { break }
            }
            let start = cpuSeconds()
            encodeRealtimeFrame(t, total: total)
            let mid = cpuSeconds()
            h.pointee.encoderSeconds += mid - start
            decodeRealtimeFrame(t, final: h.pointee.flushed && t == rt.frames(samples: total) - 1)
            h.pointee.decoderSeconds += cpuSeconds() - mid
        }
        // Flushed: the newest frame is the utterance's last. A real-time stream may have computed
        // it before the flush (its lookahead was in); it is marked if it is still queued.
        if h.pointee.flushed, h.pointee.queueCount > 0 {
            let slot = (h.pointee.queueHead + h.pointee.queueCount - 1) % layout.queueCapacity
            let total = h.pointee.rtAudioBase + h.pointee.audioCount
            if records[slot].frameIndex == rt.frames(samples: total) - 1 { records[slot].isFinal = true }
        }
        // Keep the audio from the next mel window's start.
        let keep = rt.frontEnd.windowEnd(h.pointee.rtMelFrames) - rt.frontEnd.winLength
        let drop = min(max(0, keep - h.pointee.rtAudioBase), h.pointee.audioCount)
        if drop > 0 {
            let a = floats(layout.audio)
            UnsafeMutableRawPointer(a).copyMemory(from: a + drop, byteCount: (h.pointee.audioCount - drop) * 4)
            h.pointee.audioCount -= drop
            h.pointee.rtAudioBase += drop
        }
    }

    /// Frame t's encoder row (at rtRow) and audio features (right after it).
    private func encodeRealtimeFrame(_ t: Int, total: Int) {
        let rt = model.realtime!
        let h = header
        var arena = Arena(base: floats(layout.rtArena), capacity: layout.rtArenaFloats)
        let fe = rt.frontEnd
        // New mel frames, normalised, appended to the first layer's input.
        let mels = rt.melFrames(frames: t + 1)
        let nm = rt.config.n_mels
        let window = floats(layout.rtWindow)
        let scratch = (base + layout.rtFFT).assumingMemoryBound(to: Double.self)
        let audio = floats(layout.audio)
        while h.pointee.rtMelFrames < mels {
            let j = h.pointee.rtMelFrames
            precondition(fe.windowEnd(j) - fe.winLength >= h.pointee.rtAudioBase || fe.windowEnd(j) - fe.winLength < 0,
                         "realtime stream: audio of mel frame \(j) was dropped")
            fe.fillWindow(j, samples: audio, base: h.pointee.rtAudioBase, available: total - h.pointee.rtAudioBase, into: window)
            let row = floats(layout.rtStaging[0]) + rtCounts[0] * nm
            fe.logMel(window: window, scratch: scratch, into: row)
            rt.normalizeMel(row, rows: 1, into: row)
            rtCounts[0] += 1
            h.pointee.rtMelFrames = j + 1
        }
        // Each layer: its new outputs, appended to the next layer's input (the last: the row).
        let row = floats(layout.rtRow)
        for (i, l) in rt.layers.enumerated() {
            let m = rt.needed(layer: i, frames: t + 1) - rtCounts[2 * i + 1]
            guard m > 0 else { continue }
            let src = floats(layout.rtStaging[i])
            let last = i == rt.layers.count - 1
            let dst = last ? row : floats(layout.rtStaging[i + 1]) + rtCounts[2 * (i + 1)] * l.outChannels
            precondition(rtCounts[2 * i] >= l.rowsRead(outputs: m), "realtime stream: layer \(i) lacks input rows")
            precondition(last || rtCounts[2 * (i + 1)] + m <= layout.rtStagingRows[i + 1], "realtime stream: layer \(i + 1) input overflow")
            l.forward(src, outputs: m, into: dst, arena: &arena)
            let consumed = l.stride * m
            UnsafeMutableRawPointer(src).copyMemory(from: src + consumed * l.inChannels, byteCount: (rtCounts[2 * i] - consumed) * l.inChannels * 4)
            rtCounts[2 * i] -= consumed
            rtCounts[2 * i + 1] += m
            if !last { rtCounts[2 * (i + 1)] += m }
        }
        rt.norm.apply(row, rows: 1, cols: rt.hiddenSize)
        model.audioMap.apply(row, rows: 1, ldx: rt.hiddenSize, into: row + rt.hiddenSize, ldy: model.config.decoder.d_model)
    }

    private func decodeRealtimeFrame(_ t: Int, final: Bool) {
        let h = header
        let fd = model.frameDecoder
        let state = decoderState
        let slot = (h.pointee.queueHead + h.pointee.queueCount) % layout.queueCapacity
        let out = floats(layout.queueOffsets) + slot * layout.outputSize
        let delta: UnsafePointer<Float>? = h.pointee.basisDeltaActive ? UnsafePointer(floats(layout.basisDelta)) : nil
        let features = floats(layout.rtRow) + model.realtime!.hiddenSize
        fd.decode(state, position: t, audio: features, offsets: out, basisDelta: delta)
        if final, t == 0, case .imitator(let im) = model.head, im.startToken == .style {
            fd.output(state, hidden: fd.firstFeature(state), into: out, basisDelta: delta)   // a one-frame utterance
        }
        let latency = Double(h.pointee.samplesPushed) / Double(params.sampleRate) - Double(t) / Double(layout.fps)
        records[slot] = FrameRecord(frameIndex: t, latency: latency, isFinal: final)
        h.pointee.queueCount += 1
        h.pointee.framesEncoded = t + 1
    }
}
