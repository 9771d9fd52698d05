/// The subset of Python literal syntax that .npy headers use, e.g.
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
/// Lists (structured dtypes) parse as tuples; they are rejected later.
indirect enum PythonLiteral: Equatable {
    case string(String)
    case bool(Bool)
    case integer(Int)
    case tuple([PythonLiteral])
    /// Keys are strings in .npy headers; others are rejected.
    case dict([String: PythonLiteral])
    case none

    subscript(key: String) -> PythonLiteral? {
        guard case let .dict(entries) = self else { return nil }
        return entries[key]
    }
}

struct PythonLiteralSyntaxError: Error {
    var reason: String
}

/// Parses one literal that makes up the whole of `text` (surrounding
/// whitespace allowed).
func parsePythonLiteral(_ text: String) throws -> PythonLiteral {
    var parser = PythonLiteralParser(characters: Array(text.unicodeScalars))
    let value = try parser.parseValue()
    parser.skipWhitespace()
    guard parser.position == parser.characters.count else {
        throw PythonLiteralSyntaxError(reason: "unexpected text after the literal at character \(parser.position)")
    }
    return value
}

private struct PythonLiteralParser {
    let characters: [Unicode.Scalar]
    var position = 0

    init(characters: [Unicode.Scalar]) {
        self.characters = characters
    }

    mutating func skipWhitespace() {
        while position < characters.count && characters[position].properties.isWhitespace {
            position += 1
        }
    }

    mutating func parseValue() throws -> PythonLiteral {
        skipWhitespace()
        guard position < characters.count else { throw failure("unexpected end of text") }
        switch characters[position] {
        case "{":
            let entries = try parseSequence(closing: "}", element: { try $0.parseDictEntry() })
            return .dict(Dictionary(entries, uniquingKeysWith: { _, last in last }))
        case "(": return .tuple(try parseSequence(closing: ")", element: { try $0.parseValue() }))
        case "[": return .tuple(try parseSequence(closing: "]", element: { try $0.parseValue() }))
        case "'", "\"": return .string(try parseString())
        case "-", "0"..."9": return .integer(try parseInteger())
        default:
            let word = parseWord()
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default: throw failure("unexpected \(word.isEmpty ? "'\(characters[position])'" : "'\(word)'")")
            }
        }
    }

    /// Comma-separated elements up to `closing`; a trailing comma is allowed.
    private mutating func parseSequence<Element>(
        closing: Unicode.Scalar, element: (inout PythonLiteralParser) throws -> Element
    ) throws -> [Element] {
        position += 1  // the opening bracket
        var elements: [Element] = []
        while true {
            skipWhitespace()
            guard position < characters.count else { throw failure("missing '\(closing)'") }
            if characters[position] == closing {
                position += 1
                return elements
            }
            elements.append(try element(&self))
            skipWhitespace()
            guard position < characters.count else { throw failure("missing '\(closing)'") }
            if characters[position] == "," {
                position += 1
            } else if characters[position] != closing {
                throw failure("expected ',' or '\(closing)'")
            }
        }
    }

    private mutating func parseDictEntry() throws -> (String, PythonLiteral) {
        guard case let .string(key) = try parseValue() else { throw failure("dict keys must be strings") }
        skipWhitespace()
        guard position < characters.count, characters[position] == ":" else { throw failure("expected ':'") }
        position += 1
        return (key, try parseValue())
    }

    /// Header strings are dtype codes and key names: no escapes needed.
    private mutating func parseString() throws -> String {
        let quote = characters[position]
        position += 1
        var text = String.UnicodeScalarView()
        while position < characters.count && characters[position] != quote {
            text.append(characters[position])
            position += 1
        }
        guard position < characters.count else { throw failure("unterminated string") }
        position += 1
        return String(text)
    }

    private mutating func parseInteger() throws -> Int {
        let start = position
        if characters[position] == "-" { position += 1 }
        while position < characters.count && ("0"..."9").contains(characters[position]) {
            position += 1
        }
        // Python 2 era headers wrote longs as e.g. 3L.
        let digits = String(String.UnicodeScalarView(characters[start..<position]))
        if position < characters.count && characters[position] == "L" { position += 1 }
        guard let value = Int(digits) else { throw failure("bad integer '\(digits)'") }
        return value
    }

    private mutating func parseWord() -> String {
        let start = position
        while position < characters.count
            && (characters[position].properties.isAlphabetic || characters[position] == "_") {
            position += 1
        }
        return String(String.UnicodeScalarView(characters[start..<position]))
    }

    private func failure(_ reason: String) -> PythonLiteralSyntaxError {
        PythonLiteralSyntaxError(reason: "\(reason) at character \(position)")
    }
}
