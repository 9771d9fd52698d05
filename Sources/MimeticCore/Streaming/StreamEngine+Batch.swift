/// Many characters of one model advanced together. A real-time-encoder stream's frame is a few
/// rows through each encoder layer and one through the motion basis (3V × d: 877 k multiply-adds on
/// the default model); alone, each of these products reads its weights from memory for a few rows.
/// A batch runs them for a tile of up to `tileRows` streams at once, layer by layer, so the weights
/// are read once per tile instead of once per stream (`WideLinear`). Every frame has the same bits
/// as the stream computes alone: each output is one dot product, computed the same way whichever
/// rows share the call (`wide_rows.c`).
///
/// Rounds: each stream with a frame to compute joins a tile; the tile's mel frames, then each
/// encoder layer over all its streams' new rows, then the decoders up to the motion head (each head
/// input stays in its own stream's state), then one product for the motion basis; each frame is
/// then queued as `pull` would have queued it. wav2vec 2.0 streams process as they do alone.
/// Allocates nothing and takes no lock.
extension StreamEngine {
    /// Streams whose frames share one tile (pointers on the stack).
    static let tileRows = 16

    /// Runs every stream's pending work, batched. `engine(i)` for i in 0..<count are the streams:
    /// one model, each at most once, used by no other thread during the call.
    public static func processBatch(count n: Int, _ engine: (Int) -> StreamEngine) throws {
        guard n > 0 else { return }
        let model = engine(0).model
        for i in 0..<n {
            let e = engine(i)
            guard e.model === model else {
                for j in 0..<i { engine(j).inBatch = false }
                throw MimeticError.invalidArgument("stream \(i) belongs to another model than stream 0: a batch is streams of one model")
            }
            guard !e.inBatch else {
                for j in 0..<i { engine(j).inBatch = false }
                throw MimeticError.invalidArgument("stream \(i) appears twice in the batch")
            }
            e.inBatch = true
        }
        defer { for i in 0..<n { engine(i).inBatch = false } }
        guard model.realtime != nil else {
            for i in 0..<n { engine(i).process() }
            return
        }
        withUnsafeTemporaryAllocation(of: TileMember.self, capacity: tileRows) { members in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: tileRows * RealtimeLayer.packedRows) { rows in
                withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: tileRows * RealtimeLayer.packedRows) { outs in
                    var computed = true
                    while computed {
                        computed = false
                        var next = 0
                        while next < n {
                            let m = gatherTile(from: &next, count: n, members: members, engine)
                            guard m > 0 else { continue }
                            computed = true
                            encodeTile(m, members: members, rows: rows.baseAddress!, outs: outs.baseAddress!, engine)
                            decodeTile(m, members: members, rows: rows, outs: outs, engine)
                        }
                    }
                }
            }
        }
        for i in 0..<n {
            let e = engine(i)
            if let rt = e.realtime { e.finishRealtime(rt) }
        }
    }

    /// One stream of a tile and its current frame.
    struct TileMember {
        var stream: Int
        var frame: Int
        var outputs: Int                          // the current layer's outputs on the packed path
        var input: UnsafePointer<Float>?          // the current layer's first input row
        var output: UnsafeMutablePointer<Float>?  // and its first output
        var seconds: Double                       // CPU time so far for this frame
    }

    /// The next streams, from `next` on, that can compute a frame now (at most tileRows), their
    /// mel frames appended. Returns how many.
    private static func gatherTile(from next: inout Int, count n: Int, members: UnsafeMutableBufferPointer<TileMember>,
                                   _ engine: (Int) -> StreamEngine) -> Int {
        var m = 0
        while next < n && m < tileRows {
            let e = engine(next)
            next += 1
            guard let rt = e.realtime, let t = e.nextRealtimeIndex(rt) else { continue }
            let start = e.cpuSeconds()
            rt.appendMelFrames(frame: t, e.input)
            members[m] = TileMember(stream: next - 1, frame: t, outputs: 0, input: nil, output: nil, seconds: e.cpuSeconds() - start)
            m += 1
        }
        return m
    }

    /// Every encoder layer over the tile's streams: one product per layer for all their new rows
    /// (a stream needing more rows than the packed path takes runs its layer alone, as it would).
    private static func encodeTile(_ m: Int, members: UnsafeMutableBufferPointer<TileMember>,
                                   rows: UnsafeMutablePointer<UnsafePointer<Float>?>, outs: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>,
                                   _ engine: (Int) -> StreamEngine) {
        let first = engine(members[0].stream)
        let start = first.cpuSeconds()
        for (li, layer) in first.model.realtime!.layers.enumerated() {
            var count = 0
            for j in 0..<m {
                let rt = engine(members[j].stream).realtime!
                let work = rt.layerWork(li, frame: members[j].frame)
                members[j].outputs = 0
                guard work.outputs > 0 else { continue }
                var arena = rt.arena()   // im2col scratch of a dilated layer, until the product below
                if work.outputs > RealtimeLayer.packedRows {
                    layer.forward(work.input, outputs: work.outputs, into: work.output, arena: &arena)
                    rt.layerDone(li, outputs: work.outputs)
                    continue
                }
                layer.packedRows(work.input, outputs: work.outputs, into: work.output, arena: &arena, rows: rows + count, outs: outs + count)
                members[j].outputs = work.outputs
                members[j].input = work.input
                members[j].output = work.output
                count += work.outputs
            }
            if count > 0 { layer.packed.apply(rows: count, inputs: rows, outputs: outs) }
            for j in 0..<m where members[j].outputs > 0 {
                layer.finishPacked(members[j].input!, outputs: members[j].outputs, into: members[j].output!)
                engine(members[j].stream).realtime!.layerDone(li, outputs: members[j].outputs)
            }
        }
        let share = (first.cpuSeconds() - start) / Double(m)
        for j in 0..<m {
            let e = engine(members[j].stream)
            e.header.pointee.encoderSeconds += members[j].seconds + share
            members[j].seconds = 0
        }
    }

    /// The tile's frames: features, each decoder up to the motion head, one product for the motion
    /// basis, then each frame's persona change and queueing.
    private static func decodeTile(_ m: Int, members: UnsafeMutableBufferPointer<TileMember>,
                                   rows: UnsafeMutableBufferPointer<UnsafePointer<Float>?>,
                                   outs: UnsafeMutableBufferPointer<UnsafeMutablePointer<Float>?>, _ engine: (Int) -> StreamEngine) {
        for j in 0..<m {
            let e = engine(members[j].stream)
            let rt = e.realtime!
            let start = e.cpuSeconds()
            let features = rt.finishFrame()
            let t = members[j].frame
            rows[j] = e.decodeUpToHead(t, audio: features, isOnly: e.isFinalRealtimeFrame(t, rt) && t == 0)
            outs[j] = e.queue.nextSlot
            members[j].seconds = e.cpuSeconds() - start
        }
        let first = engine(members[0].stream)
        let fd = first.model.frameDecoder
        let start = first.cpuSeconds()
        fd.wideBasis!.apply(rows: m, inputs: rows.baseAddress!, outputs: outs.baseAddress!)   // real-time models have it
        let share = (first.cpuSeconds() - start) / Double(m)
        for j in 0..<m {
            let e = engine(members[j].stream)
            let t0 = e.cpuSeconds()
            if let delta = e.basisDelta { fd.addBasisDelta(delta, headInput: rows[j]!, into: outs[j]!) }
            let t = members[j].frame
            e.commitFrame(t, isFinal: e.isFinalRealtimeFrame(t, e.realtime!), decodeSeconds: members[j].seconds + share + e.cpuSeconds() - t0)
        }
    }
}
