/// A style vector from a [d, n] one-hot embedding table: column `slot`, or the weighted sum.
func styleFromTable(_ table: Weight, _ style: StyleInput, family: String) throws -> [Float] {
    let d = table.shape[0], n = table.shape[1]
    switch style {
    case .slot(let k):
        guard (0..<n).contains(k) else {
            throw MimeticError.invalidArgument("style slot \(k) is out of range: this \(family) model has \(n) style slots (0...\(n - 1))")
        }
        return (0..<d).map { table[$0 * n + k] }
    case .weights(let w):
        guard w.count == n else {
            throw MimeticError.invalidArgument("style weights have \(w.count) entries; this \(family) model has \(n) style slots")
        }
        guard w.allSatisfy({ $0.isFinite }) else { throw MimeticError.invalidArgument("style weights contain NaN or Inf") }
        return (0..<d).map { r in (0..<n).reduce(Float(0)) { $0 + table[r * n + $1] * w[$1] } }
    case .code(let c):
        guard c.count == d else {
            throw MimeticError.invalidArgument("style code has \(c.count) values; this \(family) model's style width is \(d)")
        }
        guard c.allSatisfy({ $0.isFinite }) else { throw MimeticError.invalidArgument("style code contains NaN or Inf") }
        return c
    case .motion:
        throw MimeticError.invalidArgument("a \(family) model takes a style slot, slot weights or a style vector, not a reference motion (that is Mimic's style encoder)")
    }
}
