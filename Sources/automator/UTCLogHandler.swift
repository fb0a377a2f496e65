import AutomatorRuntime
import Foundation
import Logging

/// swift-log's `StreamLogHandler` lines on standard error, timed in UTC (`2026-12-01T02:38:31Z`):
/// its time follows TZ, while the CLI, the journal, the reports and due times are UTC, and an
/// incident at 3 a.m. is read across all of them.
///
/// An event is one line, shown as written (`VisibleText`): a log line quotes a feed's broken line,
/// an alert's text or a chat message, and their line breaks made lines of their own (a forged
/// event), their escape sequences acted on the terminal that followed the log.
struct UTCLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var metadata = metadata.merging(event.metadata ?? [:]) { _, explicit in explicit }
        if let error = event.error {
            metadata["error.message"] = "\(error)"
            metadata["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        let shown = metadata.sorted { $0.key < $1.key }.map { " \($0)=\($1)" }.joined()
        let line = "\(Date().ISO8601Format()) \(event.level) \(label):\(shown) [\(event.source)] \(event.message)"
        FileHandle.standardError.write(Data((VisibleText.escaped(line, as: .name) + "\n").utf8))
    }
}
