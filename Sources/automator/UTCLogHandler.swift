import AutomatorRuntime
import Foundation
import Logging

/// Log lines on standard error, timed in UTC: swift-log's `StreamLogHandler` line
/// (`2026-12-01T02:38:31Z info automator: ...`), or one JSON object a line for a log shipper
/// (`LogFormat`). Its time followed TZ, while the CLI, the journal, the reports and due times are
/// UTC, and an incident at 3 a.m. is read across all of them.
///
/// An event is one line, shown as written (`VisibleText`; JSON escapes its own): a log line quotes
/// a feed's broken line, an alert's text or a chat message, and their line breaks made lines of
/// their own (a forged event), their escape sequences acted on the terminal that followed the log.
struct UTCLogHandler: LogHandler {
    let label: String
    var format = LogFormat.text
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
        let line = switch format {
        case .text: textLine(event, metadata)
        case .json: jsonLine(event, metadata)
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private func textLine(_ event: LogEvent, _ metadata: Logger.Metadata) -> String {
        let shown = metadata.sorted { $0.key < $1.key }.map { " \($0)=\($1)" }.joined()
        let line = "\(Date().ISO8601Format()) \(event.level) \(label):\(shown) [\(event.source)] \(event.message)"
        return VisibleText.escaped(line, as: .name)
    }
}
