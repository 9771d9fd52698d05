/// printf-style formatting of numbers (`formatted("%.2f", x)`), through the C library's
/// vsnprintf: what `String(format:)` did, without Foundation.
public func formatted(_ format: String, _ arguments: CVarArg...) -> String {
    withVaList(arguments) { list in
        var buffer = [CChar](repeating: 0, count: 128)
        // vsnprintf consumes the va_list, so a second attempt needs a fresh copy of it.
        let needed = Int(buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, format, list) })
        if needed < buffer.count { return String(cString: buffer) }
        return withVaList(arguments) { again in
            buffer = [CChar](repeating: 0, count: needed + 1)
            _ = buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, format, again) }
            return String(cString: buffer)
        }
    }
}
