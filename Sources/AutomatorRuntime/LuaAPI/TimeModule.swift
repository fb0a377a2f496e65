import Foundation

/// `time`: the clock, from the host (so that replay can record it later).
///
/// - `time.now()`: seconds since the Unix epoch, as a float with sub-second precision.
public struct TimeModule: HostModule {
    public let name = "time"

    public init() {}

    public func register(in table: inout ModuleTable) {
        table.function("now") { call in
            try call.push(.number(Date().timeIntervalSince1970))
        }
    }
}
