public import Foundation

/// What waits on the team and on the service now: the open incidents and their SLAs, the open
/// tasks, the runs not finished or failed, the questions nobody answered. `GET /metrics` exposes
/// it for Prometheus, so that a breached SLA or a pile of failed runs pages someone.
///
/// Both stores read the same rows and count them here, so that an SLA's state is
/// `SLAState`'s, as the reports and the API give it.
public struct Workload: Sendable, Hashable {
    public struct IncidentGroup: Sendable, Hashable {
        public var status: Incident.Status
        public var severity: Incident.Severity

        public init(status: Incident.Status, severity: Incident.Severity) {
            self.status = status
            self.severity = severity
        }
    }

    public struct SLAGroup: Sendable, Hashable {
        public var type: String
        /// On track, at risk or breached: an open incident's SLA is never met.
        public var state: SLAState

        public init(type: String, state: SLAState) {
            self.type = type
            self.state = state
        }
    }

    /// Open incidents (every status but closed).
    public var openIncidents: [IncidentGroup: Int] = [:]
    /// Open incidents with an SLA.
    public var sla: [SLAGroup: Int] = [:]
    public var closedIncidents = 0
    /// Open tasks by owner ("" for none), and those of them past their deadline.
    public var openTasks: [String: Int] = [:]
    public var overdueTasks: [String: Int] = [:]
    /// Runs not finished (pending, running, waiting) and failed ones, by status as shown.
    public var runs: [RunRecord.Status: Int] = [:]
    /// `chat.ask` and `chat.approve` questions and approvals not answered yet.
    public var openQuestions = 0

    /// The statuses `runs` counts.
    public static let countedRuns: [RunRecord.Status] = [.pending, .running, .waiting, .failed]

    public init() {}

    /// SQL: the incident statuses counted as open, and the run statuses counted, as stored.
    static let openStatuses = quoted(Incident.Status.allCases.filter { $0 != .closed }.map(\.rawValue))
    static let storedRunStatuses = quoted(countedRuns.map(\.rawValue))
    private static func quoted(_ values: [String]) -> String { values.map { "'\($0)'" }.joined(separator: ", ") }

    /// Counts an open incident, from its columns as the stores keep them (times in milliseconds).
    mutating func addOpen(status: String, severity: String, type: String, created: Int64, due: Int64?,
                          breached: Int64?, now: Int64) throws(StoreError)
    {
        guard let status = Incident.Status(rawValue: status), let severity = Incident.Severity(rawValue: severity) else {
            throw StoreError.unknownValue("\(severity)/\(status)", of: "an open incident")
        }
        openIncidents[IncidentGroup(status: status, severity: severity), default: 0] += 1
        if let state = SLAState(created: created, closed: nil, due: due, breached: breached, now: now) {
            sla[SLAGroup(type: type, state: state), default: 0] += 1
        }
    }

    /// Counts the open tasks of one owner.
    mutating func addTasks(owner: String?, open: Int, overdue: Int) {
        openTasks[owner ?? "", default: 0] += open
        if overdue > 0 { overdueTasks[owner ?? "", default: 0] += overdue }
    }

    mutating func addRuns(status: String, count: Int) throws(StoreError) {
        guard let known = RunRecord.Status(rawValue: status) else {
            throw StoreError.unknownValue(status, of: "a run")
        }
        runs[known, default: 0] += count
    }
}

/// A store that can say what waits now (`Workload`).
public protocol WorkloadStore: ChatStore {
    func workload(at now: Date) async throws(StoreError) -> Workload
}
