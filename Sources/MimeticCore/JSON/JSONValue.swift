/// A parsed JSON document: what a safetensors header, a model's `mimetic.config` and a persona's
/// metadata are written in.
///
/// Our own, small and strict (RFC 8259), so that the core needs no Foundation. Integers written
/// without a fraction or exponent that fit an `Int` stay exact (`.integer`); every other number is
/// a `Double`. Objects keep their keys in a dictionary: a duplicate key is refused at parse time,
/// since two readers may disagree on which one wins.
///
/// ```swift
/// let header = try JSONValue(parsing: Array(#"{"a": {"dtype": "F32", "shape": [2]}}"#.utf8))
/// header["a"]?["shape"]?[0]?.intValue   // 2
/// ```
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] } else { return nil }
    }

    public subscript(index: Int) -> JSONValue? {
        if case .array(let items) = self, items.indices.contains(index) { return items[index] } else { return nil }
    }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }

    /// An integer: `.integer`, or a `.double` that is a whole number within `Int`'s range.
    public var intValue: Int? {
        switch self {
        case .integer(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e18: return Int(d)
        default: return nil
        }
    }

    /// Any number, as a `Double`.
    public var doubleValue: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// What the value is, in words, for error messages ("a string", "an array"...).
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// Why a JSON text could not be parsed: what was wrong and at which byte.
public struct JSONParseError: Error, Equatable, CustomStringConvertible {
    public var reason: String
    public var offset: Int
    public var description: String { "\(reason) at byte \(offset)" }
}
