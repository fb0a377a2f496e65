import Foundation

/// A run's identity: `run-` and a time-ordered hexadecimal tail, so ids sort by start time.
public struct RunID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }

    /// A new id: milliseconds since the epoch, then 64 random bits.
    public static func make() -> RunID {
        let milliseconds = UInt64(Date().timeIntervalSince1970 * 1000)
        let random = UInt64.random(in: .min ... .max)
        return RunID("run-" + hex(milliseconds, width: 12) + hex(random, width: 16))
    }

    private static func hex(_ value: UInt64, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    public var description: String { rawValue }
    public static func < (lhs: RunID, rhs: RunID) -> Bool { lhs.rawValue < rhs.rawValue }
}
