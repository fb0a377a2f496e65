public import Logging

/// `log`: messages for the operator, through the host's logger (stderr on the command line).
///
/// `log.info(message [, fields])`, and likewise `debug`, `warn`, `error`. The message is any
/// value (converted as `tostring` would for strings, numbers and booleans); `fields` is a
/// table whose entries become the log record's metadata. A scheduled run adds `run` (its id),
/// and `replay=true` while it replays its record after a restart: logging is not recorded, so
/// a resumed run logs again what it had logged, and says so.
public struct LogModule: HostModule {
    public let name = "log"
    private let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func register(in table: inout ModuleTable) {
        let levels: [(String, Logger.Level)] = [("debug", .debug), ("info", .info), ("warn", .warning), ("error", .error)]
        for (name, level) in levels {
            let logger = self.logger
            table.function(name) { [unowned(unsafe) state = table.state] call in
                guard logger.logLevel <= level else { return 0 }
                let message = try Self.text(call.value(1))
                var metadata = Logger.Metadata()
                if !call.isNoneOrNil(2) {
                    guard case .table(let fields) = try call.value(2) else {
                        throw HostError.argument(2, "table of fields expected")
                    }
                    for (key, value) in fields.fields { metadata[Self.text(key)] = .string(Self.text(value)) }
                    for (offset, value) in fields.array.enumerated() { metadata["\(offset + 1)"] = .string(Self.text(value)) }
                }
                if let run = state.activeRun, let id = run.id {
                    metadata["run"] = .string(id.rawValue)
                    if run.recording?.isReplaying == true { metadata["replay"] = "true" }
                }
                logger.log(level: level, "\(message)", metadata: metadata)
                return 0
            }
        }
    }

    private static func text(_ value: LuaValue) -> String {
        switch value {
        case .nil: "nil"
        case .boolean(let flag): "\(flag)"
        case .integer(let number): "\(number)"
        case .number(let number): LuaNumberFormat.string(number)
        case .string(let string): string.description
        case .table(let table): "table (\((table.array.count + table.fields.count).counted("entry", "entries")))"
        }
    }
}
