import Foundation

/// Counts what a store reads (rows one by one, or groups with their `count`) and makes the
/// `Report`: the store says how many, this says in which order and under which name, so that
/// every store's reports read alike. Two tallies of different parts of a report merge.
struct ReportTally: Sendable {
    private struct Opened: Hashable {
        var day: Int, type: String, severity: String, status: String, sla: SLAState?
    }

    private struct Closed: Hashable {
        var day: Int, type: String, severity: String, resolution: Incident.Resolution?
    }

    /// Times in milliseconds since 1970.
    private struct Breach {
        var number: Int, type: String, severity: String, due: Int64, closed: Int64?

        /// Whether the report lists it before `other`: the open ones first (the earliest due,
        /// the latest now), then the latest closed, then by number.
        func listed(before other: Breach) -> Bool {
            func key(_ breach: Breach) -> (Int, Int64, Int) {
                (breach.closed == nil ? 1 : 0, breach.closed.map { $0 - breach.due } ?? -breach.due, -breach.number)
            }
            return key(self) > key(other)
        }
    }

    private struct Run: Hashable {
        var playbook: String, status: String
    }

    private struct Task: Hashable {
        var owner: String?, open: Bool, overdue: Bool
    }

    private struct Action: Hashable {
        var name: String, status: String, expired: Bool
    }

    private struct InForce: Hashable {
        var name: String, lifting: Bool
    }

    private var opened: [Opened: Int] = [:]
    private var closed: [Closed: Int] = [:]
    /// The first `Report.breachedListed` in the list's order: kept as they come, rather than a
    /// million incidents' breaches sorted for a hundred.
    private var breaches: [Breach] = []
    private var acknowledge: [Int64] = []
    private var resolve: [Int64] = []
    private var verdicts: [Int: Int] = [:]
    private var indicators: [Report.TopIndicator] = []
    private var runs: [Run: Int] = [:]
    private var tasks: [Task: Int] = [:]
    private var actions: [Action: Int] = [:]
    private var approvers: [String: Int] = [:]
    private var approval: [Int64] = []
    private var inForce: [InForce: (count: Int, since: Int64)] = [:]
    private var openAtStart = 0
    private var openAtEnd = 0

    /// Incidents opened in the window: their day (`ReportDays.index(of:)`), type, severity, status
    /// and SLA state now.
    mutating func opened(day: Int, type: String, severity: String, status: String, sla: SLAState?, count: Int = 1) {
        opened[Opened(day: day, type: type, severity: severity, status: status, sla: sla), default: 0] += count
    }

    /// Incidents open at the window's start, and at its end.
    mutating func backlog(atStart: Int, atEnd: Int) {
        openAtStart += atStart
        openAtEnd += atEnd
    }

    /// An incident opened in the window whose SLA is breached (`SLAState.breached`): `due` its
    /// due time now, `breachedAt` when the breach was noted, if it was, `closed` when it closed,
    /// if it did; in milliseconds since 1970.
    mutating func breached(number: Int, type: String, severity: String, due: Int64, breachedAt: Int64?, closed: Int64?) {
        // A breach noted before the due time now was noted by the due time it had then: the
        // severity was lowered since, which moved the due time later (`SLAState`).
        keep(Breach(number: number, type: type, severity: severity, due: min(due, breachedAt ?? due), closed: closed))
    }

    private mutating func keep(_ breach: Breach) {
        if breaches.count == Report.breachedListed, let last = breaches.last, !breach.listed(before: last) { return }
        breaches.insert(breach, at: breaches.firstIndex { breach.listed(before: $0) } ?? breaches.endIndex)
        if breaches.count > Report.breachedListed { breaches.removeLast() }
    }

    /// Incidents closed in the window; `resolution` as stored (nil or a name this automator knows).
    mutating func closed(day: Int, type: String, severity: String, resolution: String?, count: Int = 1) {
        let known = resolution.flatMap(Incident.Resolution.init(rawValue:))
        closed[Closed(day: day, type: type, severity: severity, resolution: known), default: 0] += count
    }

    /// Milliseconds from an incident's creation to its acknowledgement.
    mutating func acknowledged(after milliseconds: Int64) { acknowledge.append(milliseconds) }

    /// Milliseconds from an incident's creation to its closing.
    mutating func resolved(after milliseconds: Int64) { resolve.append(milliseconds) }

    /// Indicators last seen in the window with this score (`Score.rawValue`).
    mutating func verdict(score: Int, count: Int) { verdicts[score, default: 0] += count }

    /// The worst indicators, in order.
    mutating func indicators(_ worst: [Report.TopIndicator]) { indicators = worst }

    /// Playbook runs of `playbook` with this `RunRecord.Status` raw value.
    mutating func run(playbook: String, status: String, count: Int = 1) {
        runs[Run(playbook: playbook, status: status), default: 0] += count
    }

    mutating func task(owner: String?, open: Bool, overdue: Bool, count: Int = 1) {
        tasks[Task(owner: owner, open: open, overdue: overdue), default: 0] += count
    }

    /// Actions asked for in the window, by name and `ActionRecord.Status` raw value; `expired`:
    /// undone by automator, at the end of its ttl.
    mutating func action(name: String, status: String, expired: Bool, count: Int = 1) {
        actions[Action(name: name, status: status, expired: expired), default: 0] += count
    }

    /// Actions of the window approved by `approver`.
    mutating func approved(by approver: String, count: Int = 1) { approvers[approver, default: 0] += count }

    /// Milliseconds from an approval asked in chat to its yes.
    mutating func approved(after milliseconds: Int64) { approval.append(milliseconds) }

    /// Actions done and not undone: `lifting` at the end of a ttl or not; the oldest ran at `since`.
    mutating func inForce(name: String, lifting: Bool, since: Int64, count: Int = 1) {
        let known = inForce[InForce(name: name, lifting: lifting)] ?? (0, since)
        inForce[InForce(name: name, lifting: lifting)] = (known.count + count, min(known.since, since))
    }

    /// Adds what `other` counted.
    mutating func merge(_ other: ReportTally) {
        opened.merge(other.opened, uniquingKeysWith: +)
        closed.merge(other.closed, uniquingKeysWith: +)
        for breach in other.breaches { keep(breach) }
        acknowledge += other.acknowledge
        resolve += other.resolve
        verdicts.merge(other.verdicts, uniquingKeysWith: +)
        if indicators.isEmpty { indicators = other.indicators }
        runs.merge(other.runs, uniquingKeysWith: +)
        tasks.merge(other.tasks, uniquingKeysWith: +)
        actions.merge(other.actions, uniquingKeysWith: +)
        approvers.merge(other.approvers, uniquingKeysWith: +)
        approval += other.approval
        inForce.merge(other.inForce) { ($0.count + $1.count, min($0.since, $1.since)) }
        backlog(atStart: other.openAtStart, atEnd: other.openAtEnd)
    }

    /// The report, every list in the order the renderers show it.
    ///
    /// - Parameter generatedAt: the report's time, given to the whole second after it, as a window
    ///   until now ends (`ReportWindow.untilNow`): a CSV read `to` a second after `generated_at`.
    func finish(window: ReportWindow, days calendar: ReportDays, generatedAt: Date) -> Report {
        var report = Report(window: window, generatedAt: Date(timeIntervalSince1970: generatedAt.timeIntervalSince1970.rounded(.up)))
        var days: [Int: (opened: Int, closed: Int)] = [:]
        var types: [String: Report.Breakdown] = [:]
        var severities: [String: Report.Breakdown] = [:]
        var statuses: [String: Int] = [:]
        var sla: [String: Report.SLATally] = [:]
        var slaBySeverity: [String: Report.SeveritySLA] = [:]
        for (group, count) in opened {
            days[group.day, default: (0, 0)].opened += count
            types[group.type, default: Report.Breakdown(name: group.type, opened: 0, closed: 0)].opened += count
            severities[group.severity, default: Report.Breakdown(name: group.severity, opened: 0, closed: 0)].opened += count
            statuses[group.status, default: 0] += count
            guard let state = group.sla else { continue }
            sla[group.type, default: Report.SLATally(type: group.type)].add(state, count)
            slaBySeverity[group.severity, default: Report.SeveritySLA(severity: group.severity)].add(state, count)
        }
        var resolutions: [String: Report.Resolutions] = [:]
        for (group, count) in closed {
            resolutions[group.type, default: Report.Resolutions(type: group.type)].add(group.resolution, count)
            days[group.day, default: (0, 0)].closed += count
            types[group.type, default: Report.Breakdown(name: group.type, opened: 0, closed: 0)].closed += count
            severities[group.severity, default: Report.Breakdown(name: group.severity, opened: 0, closed: 0)].closed += count
        }
        report.days = calendar.dates.enumerated().map { day, date in
            Report.Day(date: date, opened: days[day]?.opened ?? 0, closed: days[day]?.closed ?? 0)
        }
        report.types = types.values.sorted { ($0.opened, $0.closed, $1.name) > ($1.opened, $1.closed, $0.name) }
        report.resolutions = resolutions.values.sorted { ($0.closed, $1.type) > ($1.closed, $0.type) }
        report.severities = Incident.Severity.allCases.reversed().map { severity in
            severities[severity.rawValue] ?? Report.Breakdown(name: severity.rawValue, opened: 0, closed: 0)
        }
        (report.openAtStart, report.openAtEnd) = (openAtStart, openAtEnd)
        report.statuses = Incident.Status.allCases.map { Report.Tally(name: $0.rawValue, count: statuses[$0.rawValue] ?? 0) }
        report.sla = sla.values.sorted { $0.type < $1.type }
        report.slaBySeverity = Incident.Severity.allCases.reversed().compactMap { slaBySeverity[$0.rawValue] }
        report.breached = breached(at: report.generatedAt)
        report.acknowledge = Report.Timing(durations: acknowledge.map { Double($0) / 1000 })
        report.resolve = Report.Timing(durations: resolve.map { Double($0) / 1000 })
        report.verdicts = Score.allCases.reversed().map { Report.Tally(name: $0.name, count: verdicts[$0.rawValue] ?? 0) }
        report.indicators = indicators
        var playbooks: [String: Report.PlaybookOutcome] = [:]
        for (run, count) in runs {
            var outcome = playbooks[run.playbook, default: Report.PlaybookOutcome(playbook: run.playbook)]
            switch RunRecord.Status(rawValue: run.status) {
            case .completed: outcome.completed += count
            case .failed, .diverged: outcome.failed += count
            case .killed: outcome.killed += count
            case .pending, .running, .waiting, nil: outcome.unfinished += count
            }
            playbooks[run.playbook] = outcome
        }
        report.playbooks = playbooks.values.sorted { $0.playbook < $1.playbook }
        var owners: [String?: Report.OwnerTasks] = [:]
        for (task, count) in tasks {
            var owner = owners[task.owner, default: Report.OwnerTasks(owner: task.owner)]
            if task.open { owner.open += count } else { owner.done += count }
            if task.overdue { owner.overdue += count }
            owners[task.owner] = owner
        }
        // By name; the tasks nobody owns last.
        report.owners = owners.values.sorted { lhs, rhs in
            lhs.owner.map { name in rhs.owner.map { name < $0 } ?? true } ?? false
        }
        report.actions = actionOutcomes()
        report.approvers = approvers.map { Report.Tally(name: $0.key, count: $0.value) }
            .sorted { ($0.count, $1.name) > ($1.count, $0.name) }
        report.approval = Report.Timing(durations: approval.map { Double($0) / 1000 })
        var inForce: [String: Report.ActionsInForce] = [:]
        for (group, value) in self.inForce {
            let since = Date(millisecondsSince1970: value.since)
            var action = inForce[group.name, default: Report.ActionsInForce(action: group.name, since: since)]
            if group.lifting { action.lifting += value.count } else { action.untilUndone += value.count }
            action.since = min(action.since, since)
            inForce[group.name] = action
        }
        report.inForce = inForce.values.sorted { $0.action < $1.action }
        return report
    }

    /// The actions by name, each outcome counted.
    private func actionOutcomes() -> [Report.ActionOutcome] {
        var outcomes: [String: Report.ActionOutcome] = [:]
        for (action, count) in actions {
            var outcome = outcomes[action.name, default: Report.ActionOutcome(action: action.name)]
            switch ActionRecord.Status(rawValue: action.status) {
            case .done: outcome.done += count
            case .failed: outcome.failed += count
            case .refused: outcome.refused += count
            case .denied: outcome.denied += count
            case .timedOut: outcome.timedOut += count
            case .planned: outcome.dryRun += count
            case .undone where action.expired: outcome.expired += count
            case .undone: outcome.undone += count
            case .sending, nil: outcome.inFlight += count
            }
            outcomes[action.name] = outcome
        }
        return outcomes.values.sorted { $0.action < $1.action }
    }

    /// The breached incidents a manager acts on first: late until they closed, or until `now`.
    private func breached(at now: Date) -> [Report.BreachedIncident] {
        let now = now.millisecondsSince1970
        func late(_ breach: Breach) -> Int64 { (breach.closed ?? now) - breach.due }
        return breaches.map { breach in
            Report.BreachedIncident(id: IncidentID(breach.number).description, type: breach.type,
                                    severity: breach.severity, due: Date(millisecondsSince1970: breach.due),
                                    closedAt: breach.closed.map(Date.init(millisecondsSince1970:)),
                                    late: Double(late(breach)) / 1000)
        }
    }
}
