/// An incident's identity as people write it: `INC-42`. Numbers are given in order from 1.
public struct IncidentID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let number: Int

    public init(_ number: Int) { self.number = number }

    /// Reads `INC-42`, `inc-42` or `42`; nil for anything else.
    public init?(_ text: some StringProtocol) {
        guard let number = Self.number(in: text, prefix: "INC-") else { return nil }
        self.number = number
    }

    public var description: String { "INC-\(number)" }
    public static func < (lhs: IncidentID, rhs: IncidentID) -> Bool { lhs.number < rhs.number }

    /// The positive number after an optional `prefix` (any case).
    static func number(in text: some StringProtocol, prefix: String) -> Int? {
        let text = String(text)
        let digits = text.uppercased().hasPrefix(prefix) ? text.dropFirst(prefix.count) : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(digits), number > 0
        else { return nil }
        return number
    }
}

/// A task's identity as people write it: `T-7`.
public struct TaskID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let number: Int

    public init(_ number: Int) { self.number = number }

    /// Reads `T-7`, `t-7` or `7`; nil for anything else.
    public init?(_ text: some StringProtocol) {
        guard let number = IncidentID.number(in: text, prefix: "T-") else { return nil }
        self.number = number
    }

    public var description: String { "T-\(number)" }
    public static func < (lhs: TaskID, rhs: TaskID) -> Bool { lhs.number < rhs.number }
}
