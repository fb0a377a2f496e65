/// The values `/metrics` gives a label whose values are free text (an incident's type, a task's
/// owner): an API client, a mapper copying an alert's field or a playbook naming an owner from
/// data may write any, and each value is a series Prometheus keeps. Prometheus's instrumentation
/// guidance is to keep a metric's cardinality to about ten and never to label by unbounded
/// values, so the values declared (a playbook's `match` types: bounded by the team's files) are
/// always kept, then the `limit` most numerous others; the rest are counted as `other`, so the
/// sums stay right. Ties go by name, so that a scrape keeps the same values as the last one.
struct BoundedLabel {
    /// What the values not kept are counted as.
    static let other = "other"
    /// Ten, as Prometheus's guidance: with a type's three SLA states, thirty series at most
    /// besides the declared types, whatever the store holds.
    static let limit = 10

    private let kept: Set<String>

    /// - Parameter counts: how many each value counts, which ranks them.
    init(counts: [String: Int], declared: Set<String> = [], limit: Int = Self.limit) {
        let undeclared = counts.filter { !declared.contains($0.key) }
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        kept = declared.intersection(counts.keys).union(undeclared.prefix(limit).map(\.key))
    }

    /// The label `value` is counted under: itself, or `other`.
    func label(_ value: String) -> String { kept.contains(value) ? value : Self.other }

    /// `counts` with the values not kept summed as `other`, sorted by label with `other` last.
    func folded(_ counts: [String: Int]) -> [(label: String, count: Int)] {
        var folded: [String: Int] = [:]
        for (value, count) in counts { folded[label(value), default: 0] += count }
        return folded.sorted { ($0.key == Self.other ? 1 : 0, $0.key) < ($1.key == Self.other ? 1 : 0, $1.key) }
            .map { ($0.key, $0.value) }
    }
}
