import Foundation

extension SLAState {
    /// The SQL condition (SQLite and PostgreSQL alike) that holds for an incident row in one of
    /// `states` at `now`, a placeholder for the time in milliseconds since 1970: what
    /// `init(created:closed:due:breached:now:)` decides, so that a list filters before its limit.
    static func condition(_ states: [SLAState], now: String) -> String {
        guard !states.isEmpty else { return "FALSE" }
        return "(" + states.map { state in
            switch state {
            case .met: "(sla_due_at IS NOT NULL AND closed_at <= sla_due_at AND sla_breached_at IS NULL)"
            case .breached:
                "(sla_due_at IS NOT NULL AND (sla_breached_at IS NOT NULL OR closed_at > sla_due_at OR "
                    + "(closed_at IS NULL AND \(now) >= sla_due_at)))"
            case .atRisk, .onTrack:
                "(sla_due_at IS NOT NULL AND closed_at IS NULL AND sla_breached_at IS NULL AND \(now) < sla_due_at AND "
                    + "\(now) - created_at \(state == .atRisk ? ">=" : "<") (sla_due_at - created_at) * \(atRiskShare))"
            }
        }.joined(separator: " OR ") + ")"
    }
}
