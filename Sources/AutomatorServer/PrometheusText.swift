import Foundation

/// Prometheus's text exposition format (version 0.0.4): each metric's `# HELP` and `# TYPE`,
/// then its samples, `name{label="value"} number`.
struct PrometheusText {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private(set) var text = ""

    /// A gauge and its samples, each with its labels in the order given. A gauge with no
    /// samples still says what it is, so a query for it finds the metric, not nothing.
    mutating func gauge(_ name: String, _ help: String, _ samples: [([(String, String)], Double)]) {
        text += "# HELP \(name) \(help.replacingOccurrences(of: "\\", with: #"\\"#).replacingOccurrences(of: "\n", with: #"\n"#))\n"
        text += "# TYPE \(name) gauge\n"
        for (labels, value) in samples {
            text += name
            if !labels.isEmpty {
                text += "{" + labels.map { "\($0.0)=\"\(Self.escaped($0.1))\"" }.joined(separator: ",") + "}"
            }
            text += " \(Self.number(value))\n"
        }
    }

    /// A gauge of one sample without labels.
    mutating func gauge(_ name: String, _ help: String, _ value: Double) {
        gauge(name, help, [([], value)])
    }

    /// A label value: backslash, double quote and line feed escaped.
    static func escaped(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: #"\\"#).replacingOccurrences(of: "\"", with: #"\""#)
            .replacingOccurrences(of: "\n", with: #"\n"#)
    }

    /// Integers without a fraction, as counts read best.
    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }
}
