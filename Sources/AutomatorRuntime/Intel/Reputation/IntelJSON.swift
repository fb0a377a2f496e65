/// Indicators and verdicts as JSON, for the API and the CLI.
public enum IntelJSON {
    /// `{"type": T, "value": V, "start": BYTE, "end": BYTE}` (plus `"line": N` when given):
    /// what `automator intel extract` prints, one per line.
    public static func indicator(_ indicator: ExtractedIndicator, line: Int? = nil) -> String {
        var object = JSONText.Object()
        object["type"] = JSONText.string(indicator.type.rawValue)
        object["value"] = JSONText.string(indicator.value)
        object["start"] = "\(indicator.start)"
        object["end"] = "\(indicator.end)"
        if let line { object["line"] = "\(line)" }
        return object.text
    }

    /// `{"type", "value", "verdict", "score", "summary", "sources": [{"source", "verdict",
    /// "reliability", "reason"}]}` (plus `"line": N` when given).
    public static func verdict(_ verdict: Verdict, type: IndicatorType, value: String, line: Int? = nil) -> String {
        var object = JSONText.Object()
        object["type"] = JSONText.string(type.rawValue)
        object["value"] = JSONText.string(value)
        object["verdict"] = JSONText.string(verdict.score.name)
        object["score"] = "\(verdict.score.rawValue)"
        object["summary"] = JSONText.string(verdict.summary)
        object["sources"] = JSONText.array(verdict.sources.map { source in
            var item = JSONText.Object()
            item["source"] = JSONText.string(source.source)
            item["verdict"] = JSONText.string(source.score.name)
            item["reliability"] = JSONText.string(source.reliability.rawValue)
            item["reason"] = JSONText.string(source.reason)
            return item.text
        })
        if let line { object["line"] = "\(line)" }
        return object.text
    }
}
