import Foundation
import Logging

extension UTCLogHandler {
    /// `{"label":"automator","level":"info","message":"...","metadata":{...},"source":"...","time":"..."}`:
    /// keys sorted, so that lines compare; the time to the millisecond, so that a shipper keeps the
    /// order of lines written within a second; `metadata` only when there is some, its values as
    /// swift-log holds them (strings, lists, objects).
    func jsonLine(_ event: LogEvent, _ metadata: Logger.Metadata) -> String {
        var object: [String: Any] = [
            "time": Date().ISO8601Format(.init(includingFractionalSeconds: true)),
            "level": event.level.rawValue,
            "label": label,
            "message": "\(event.message)",
            "source": event.source,
        ]
        if !metadata.isEmpty { object["metadata"] = metadata.mapValues(Self.json) }
        // Only strings, lists and objects of them: serialization cannot fail.
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    private static func json(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(json)
        case .dictionary(let values): values.mapValues(json)
        }
    }
}
