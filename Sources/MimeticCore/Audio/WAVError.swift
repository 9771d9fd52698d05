/// Everything that can go wrong reading or writing a WAV file. Every case
/// carries the path (or the name given to `readWAV(data:name:)`) so a message
/// shown to a user on its own still says which file is at fault.
public enum WAVError: Error, Equatable, CustomStringConvertible {
    case cannotRead(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    /// Fewer than the 12 bytes of a RIFF/WAVE header.
    case tooShort(path: String, byteCount: Int)
    /// The first four bytes are not "RIFF"; `found` shows them, escaped.
    case notRIFF(path: String, found: String)
    /// A RIFF file of some other kind (AVI, WebP, ...).
    case notWAVE(path: String, found: String)
    case missingFormatChunk(path: String)
    case malformedFormatChunk(path: String, reason: String)
    case missingDataChunk(path: String)
    /// A compressed or otherwise unsupported encoding, e.g. "ADPCM" (2).
    case unsupportedFormat(path: String, formatTag: Int, name: String)
    case unsupportedBitsPerSample(path: String, bits: Int, encoding: String)
    case zeroChannels(path: String)
    case zeroSampleRate(path: String)
    case inconsistentBlockAlign(path: String, blockAlign: Int, channels: Int, bytesPerSample: Int)
    /// The data chunk declares more bytes than the file holds.
    case truncatedData(path: String, expectedBytes: Int, presentBytes: Int)
    /// The data size is not a whole number of frames.
    case partialFrame(path: String, dataBytes: Int, blockAlign: Int)
    case emptyAudio(path: String)
    /// NaN or infinity in a float file (reading) or in the samples to write.
    case nonFiniteSample(path: String, frame: Int, channel: Int, value: String)
    case invalidSampleRate(path: String, sampleRate: Int)
    /// More samples than a RIFF size field (32 bits) can describe.
    case tooLongForWAV(path: String, sampleCount: Int)

    public var description: String {
        switch self {
        case let .cannotRead(path, reason):
            return "\(path): cannot read WAV file: \(reason)"
        case let .cannotWrite(path, reason):
            return "\(path): cannot write WAV file: \(reason)"
        case let .tooShort(path, byteCount):
            return "\(path): not a WAV file: it is only \(byteCount) bytes long, "
                + "shorter than the 12-byte RIFF/WAVE header"
        case let .notRIFF(path, found):
            var hint = ""
            if found == "RF64" || found == "BW64" {
                hint = " (64-bit RF64/BW64 WAV files are not supported)"
            } else if found == "RIFX" {
                hint = " (big-endian RIFX files are not supported)"
            }
            return "\(path): not a WAV file: expected \"RIFF\" at the start, found \"\(found)\"\(hint)"
        case let .notWAVE(path, found):
            return "\(path): not a WAV file: it is a RIFF file of type \"\(found)\", not \"WAVE\""
        case let .missingFormatChunk(path):
            return "\(path): invalid WAV file: no \"fmt \" chunk, so the sample format is unknown"
        case let .malformedFormatChunk(path, reason):
            return "\(path): invalid WAV file: malformed \"fmt \" chunk: \(reason)"
        case let .missingDataChunk(path):
            return "\(path): invalid WAV file: no \"data\" chunk, so there is no audio"
        case let .unsupportedFormat(path, formatTag, name):
            return "\(path): unsupported WAV encoding \(name) (\(formatTag)); only PCM (1), IEEE float (3) "
                + "and WAVE_FORMAT_EXTENSIBLE with a PCM or float subformat can be read; "
                + "convert it first, e.g. `ffmpeg -i in.wav -c:a pcm_s16le out.wav`"
        case let .unsupportedBitsPerSample(path, bits, encoding):
            let supported = encoding == "float" ? "32 or 64" : "8, 16, 24 or 32"
            return "\(path): unsupported WAV sample size: \(bits) bits per sample for \(encoding) "
                + "(supported: \(supported))"
        case let .zeroChannels(path):
            return "\(path): invalid WAV file: the format says 0 channels"
        case let .zeroSampleRate(path):
            return "\(path): invalid WAV file: the format says a sample rate of 0 Hz"
        case let .inconsistentBlockAlign(path, blockAlign, channels, bytesPerSample):
            return "\(path): invalid WAV file: block align is \(blockAlign) bytes, but \(channels) "
                + "channel(s) of \(bytesPerSample) byte(s) need \(channels * bytesPerSample)"
        case let .truncatedData(path, expectedBytes, presentBytes):
            return "\(path): truncated WAV file: the data chunk declares \(expectedBytes) bytes "
                + "but only \(presentBytes) are present (the file was cut short, or written by a "
                + "streaming tool that never filled in the size)"
        case let .partialFrame(path, dataBytes, blockAlign):
            return "\(path): invalid WAV file: the data chunk holds \(dataBytes) bytes, which is not a "
                + "whole number of \(blockAlign)-byte frames"
        case let .emptyAudio(path):
            return "\(path): the WAV file contains no audio (0 frames)"
        case let .nonFiniteSample(path, frame, channel, value):
            return "\(path): invalid audio: sample \(value) at frame \(frame), channel \(channel) "
                + "(samples must be finite numbers)"
        case let .invalidSampleRate(path, sampleRate):
            return "\(path): cannot write WAV file: invalid sample rate \(sampleRate) Hz"
        case let .tooLongForWAV(path, sampleCount):
            return "\(path): cannot write WAV file: \(sampleCount) samples exceed the 4 GiB a WAV file can hold"
        }
    }
}
