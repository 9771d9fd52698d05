/// Reads of little-endian integers at arbitrary (unaligned) offsets, for
/// parsing binary file headers. Callers check bounds first.
extension UnsafeRawBufferPointer {
    func littleEndianUInt16(at offset: Int) -> UInt16 {
        UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    func littleEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// Four bytes as text ("RIFF", "fmt "), with anything unprintable escaped
    /// so it can be shown in an error message.
    func fourCharacterCode(at offset: Int) -> String {
        printableASCII(UnsafeRawBufferPointer(rebasing: self[offset..<offset + 4]))
    }
}

/// Bytes as ASCII text, escaping non-printable bytes as \xNN.
func printableASCII(_ bytes: UnsafeRawBufferPointer) -> String {
    var text = ""
    for byte in bytes {
        if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") && byte != UInt8(ascii: "\"") {
            text.unicodeScalars.append(Unicode.Scalar(byte))
        } else {
            let digits = String(byte, radix: 16, uppercase: true)
            text += "\\x" + (byte < 16 ? "0" + digits : digits)
        }
    }
    return text
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndian(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
    }

    mutating func appendLittleEndian(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) {
            append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }

    mutating func appendLittleEndian(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) {
            append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    mutating func appendASCII(_ text: String) {
        append(contentsOf: text.utf8)
    }
}
