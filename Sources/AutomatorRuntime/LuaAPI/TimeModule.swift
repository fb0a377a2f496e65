import Foundation

/// `time`: the clock, from the host, so that a durable run records it and a replay sees the
/// same times again (`os.time()` and `os.date()` read the same clock).
///
/// - `time.now()`: seconds since the Unix epoch, as a float with sub-second precision.
/// - `time.sleep(seconds)`: suspends the run; other runs go on meanwhile.
public struct TimeModule: HostModule {
    public let name = "time"

    /// The longest sleep: a year. Longer is surely a mistake (milliseconds for seconds?).
    static let longestSleep = 366.0 * 24 * 3600

    public init() {}

    static func now() -> LuaValue { .number(Date().timeIntervalSince1970) }

    public func register(in table: inout ModuleTable) {
        table.recordedFunction("now") { _ in [Self.now()] }
        table.waitingFunction("sleep") { call in
            let seconds = try call.number(1)
            guard seconds >= 0, seconds <= Self.longestSleep else {
                throw HostError.argument(1, "seconds between 0 and \(Int(Self.longestSleep)) expected, got \(seconds)")
            }
            return .sleep(.nanoseconds(Int64(seconds * 1e9)))
        }
    }
}
