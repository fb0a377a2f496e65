/// The name of a source of alerts: `POST /api/v1/ingest/SOURCE`, whose alerts
/// `scripts/mappers/SOURCE.lua` maps, and the one source an ingest-only token posts to.
public enum IngestSource {
    /// Why `source` cannot name a source of alerts, or nil: a name that is also a file's and a
    /// URL's path segment as it is.
    public static func problem(_ source: String) -> String? {
        guard !source.isEmpty, source.count <= 100,
              source.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { return "the source \"\(source)\" is not a name: use letters, digits, - and _" }
        return nil
    }
}
