import Foundation

/// Folds the groups that a store's aggregate queries return into a `Report`: the store's SQL
/// says how many, this says in which order and under which name, so that every store's reports
/// read alike.
struct ReportTally {
    private var report: Report
    private var opened: [Int64: Int] = [:]
    private var closed: [Int64: Int] = [:]
    private var types: [String: Report.Breakdown] = [:]
    private var severities: [String: Report.Breakdown] = [:]
    private var statuses: [String: Int] = [:]
    private var sla: [String: Report.SLATally] = [:]
    private var verdicts: [Int: Int] = [:]
    private var playbooks: [String: Report.PlaybookOutcome] = [:]

    init(window: ReportWindow, generatedAt: Date) {
        report = Report(window: window, generatedAt: Date(timeIntervalSince1970: generatedAt.timeIntervalSince1970.rounded(.down)))
    }

    /// A group of incidents opened in the window: their UTC day (days since 1970), type,
    /// severity, status now, and how many are in each SLA state (those without an SLA in none).
    mutating func opened(day: Int64, type: String, severity: String, status: String, count: Int, met: Int,
                         breached: Int, atRisk: Int, onTrack: Int)
    {
        opened[day, default: 0] += count
        types[type, default: Report.Breakdown(name: type, opened: 0, closed: 0)].opened += count
        severities[severity, default: Report.Breakdown(name: severity, opened: 0, closed: 0)].opened += count
        statuses[status, default: 0] += count
        guard met + breached + atRisk + onTrack > 0 else { return }
        var tally = sla[type, default: Report.SLATally(type: type)]
        tally.met += met
        tally.breached += breached
        tally.atRisk += atRisk
        tally.onTrack += onTrack
        sla[type] = tally
    }

    /// A group of incidents closed in the window.
    mutating func closed(day: Int64, type: String, severity: String, count: Int) {
        closed[day, default: 0] += count
        types[type, default: Report.Breakdown(name: type, opened: 0, closed: 0)].closed += count
        severities[severity, default: Report.Breakdown(name: severity, opened: 0, closed: 0)].closed += count
    }

    /// Milliseconds from creation to acknowledgement, and to closing, in any order.
    mutating func timings(acknowledge: [Int64], resolve: [Int64]) {
        report.acknowledge = Report.Timing(durations: acknowledge.map { Double($0) / 1000 })
        report.resolve = Report.Timing(durations: resolve.map { Double($0) / 1000 })
    }

    /// Indicators last seen in the window with this score (`Score.rawValue`).
    mutating func verdict(score: Int, count: Int) { verdicts[score, default: 0] += count }

    /// The worst indicators, in order.
    mutating func indicators(_ indicators: [Report.TopIndicator]) { report.indicators = indicators }

    /// Playbook runs of `playbook` with this `RunRecord.Status` raw value.
    mutating func runs(playbook: String, status: String, count: Int) {
        var outcome = playbooks[playbook, default: Report.PlaybookOutcome(playbook: playbook)]
        switch RunRecord.Status(rawValue: status) {
        case .completed: outcome.completed += count
        case .failed, .diverged: outcome.failed += count
        case .killed: outcome.killed += count
        case .pending, .running, .waiting, nil: outcome.unfinished += count
        }
        playbooks[playbook] = outcome
    }

    mutating func tasks(_ owner: Report.OwnerTasks) { report.owners.append(owner) }

    /// The report, every list in the order the renderers show it.
    func finish() -> Report {
        var report = report
        let first = report.window.from.millisecondsSince1970 / Self.day
        let last = (report.window.to.millisecondsSince1970 - 1) / Self.day
        report.days = first > last ? [] : (first...last).map { day in
            Report.Day(date: Self.date(day), opened: opened[day] ?? 0, closed: closed[day] ?? 0)
        }
        report.types = types.values.sorted { ($0.opened, $0.closed, $1.name) > ($1.opened, $1.closed, $0.name) }
        report.severities = Incident.Severity.allCases.reversed().map { severity in
            severities[severity.rawValue] ?? Report.Breakdown(name: severity.rawValue, opened: 0, closed: 0)
        }
        report.statuses = Incident.Status.allCases.map { Report.Tally(name: $0.rawValue, count: statuses[$0.rawValue] ?? 0) }
        report.sla = sla.values.sorted { $0.type < $1.type }
        report.verdicts = Score.allCases.reversed().map { Report.Tally(name: $0.name, count: verdicts[$0.rawValue] ?? 0) }
        report.playbooks = playbooks.values.sorted { $0.playbook < $1.playbook }
        // By name; the tasks nobody owns last.
        report.owners.sort { lhs, rhs in lhs.owner.map { name in rhs.owner.map { name < $0 } ?? true } ?? false }
        return report
    }

    /// Milliseconds in a day: `at / day` is the UTC day of `at`, in the stores' SQL too.
    static let day: Int64 = 86_400_000

    private static func date(_ day: Int64) -> String {
        Date(timeIntervalSince1970: Double(day) * 86400)
            .formatted(Date.ISO8601FormatStyle().year().month().day())
    }
}
