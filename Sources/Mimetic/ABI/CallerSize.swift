import MimeticCore

/// The `size_t` arguments of the C ABI, checked before any arithmetic uses them: a count larger
/// than anything it could mean is an error with a message, never a trap or a silent no-op (Swift
/// sees a size_t of 2^63 or more as a negative Int, so the parameters are declared as UInt).
enum CallerSize {
    /// The most elements (samples, frames, floats) one call takes: 2^40, far beyond any real
    /// input and small enough that every product with a model size stays inside 64 bits.
    static let maxCount = 1 << 40

    /// A count of elements the caller hands over.
    static func count(_ n: UInt, _ name: StaticString, function: StaticString) throws -> Int {
        guard n <= UInt(maxCount) else {
            throw MimeticError.invalidArgument("\(function): \(name) = \(n) is larger than any input can be (at most 2^40)")
        }
        return Int(n)
    }

    /// Room the caller offers (a capacity): any value; only what is needed is used.
    static func capacity(_ n: UInt) -> Int { Int(clamping: n) }
}
