/// A row-major float32 matrix that owns its storage: activations, fixtures, outputs.
///
/// Rows are time steps and columns are features everywhere in the core ("time-major"), so a
/// frame is one contiguous row and every linear layer is one GEMM over all frames.
public struct Matrix: Sendable, Equatable {
    public var rows: Int
    public var cols: Int
    public var data: [Float]

    public init(rows: Int, cols: Int, data: [Float]) {
        precondition(data.count == rows * cols, "Matrix data has \(data.count) values, shape \(rows)x\(cols)")
        self.rows = rows
        self.cols = cols
        self.data = data
    }

    public init(zeros rows: Int, _ cols: Int) {
        self.init(rows: rows, cols: cols, data: [Float](repeating: 0, count: rows * cols))
    }

    public var count: Int { rows * cols }

    public subscript(row: Int, col: Int) -> Float {
        get { data[row * cols + col] }
        set { data[row * cols + col] = newValue }
    }

    public func row(_ r: Int) -> ArraySlice<Float> { data[(r * cols)..<((r + 1) * cols)] }

    /// Rows `range` as a new matrix.
    public func rows(_ range: Range<Int>) -> Matrix {
        Matrix(rows: range.count, cols: cols, data: Array(data[(range.lowerBound * cols)..<(range.upperBound * cols)]))
    }

    /// Every value times `factor`.
    public func scaled(by factor: Float) -> Matrix {
        Matrix(rows: rows, cols: cols, data: data.map { $0 * factor })
    }

    public func transposed() -> Matrix {
        var out = Matrix(zeros: cols, rows)
        for r in 0..<rows { for c in 0..<cols { out.data[c * rows + r] = data[r * cols + c] } }
        return out
    }
}
