public import Foundation

/// What the team and its playbooks did over a window of time: the figures of `automator report`.
///
/// Most figures are about the incidents *opened* in the window (the cohort), as they stand when
/// the report is made: their status, their SLA, how long they took to be acknowledged and
/// resolved. The per-day and per-type counts of closed incidents are about those *closed* in the
/// window, whenever they were opened. Days are the calendar days of the window's time zone (UTC
/// unless given). See docs/ARCHITECTURE.md, "Reports",
/// for the definitions (acknowledged, at risk, resolved).
///
/// ```swift
/// let window = try ReportWindow(since: "30d")
/// let report = try await store.report(window, at: Date())
/// print(ReportFormat.markdown.render(report))
/// ```
public struct Report: Sendable, Hashable {
    public var window: ReportWindow
    /// When it was made: open incidents' SLA states and overdue tasks are as of then.
    public var generatedAt: Date
    /// Every day the window touches in its time zone, in order, days without incidents included.
    public var days: [Day]
    /// Opened and closed in the window, per type and per severity (most opened first).
    public var types: [Breakdown]
    public var severities: [Breakdown]
    /// The incidents opened in the window by their status now.
    public var statuses: [Tally]
    /// The backlog: incidents open at the window's start (opened before it, not closed by then)
    /// and at its end (now, for a window until now), by their last closing when reopened.
    public var openAtStart = 0
    public var openAtEnd = 0
    /// The incidents opened in the window with an SLA, per type, by their SLA state now.
    public var sla: [SLATally]
    /// The same per severity, most severe first.
    public var slaBySeverity: [SeveritySLA] = []
    /// Those breached: the open ones first, then the latest; at most `breachedListed` (the
    /// breached of `sla` count them all).
    public var breached: [BreachedIncident] = []
    /// The incidents closed in the window, per type, by resolution (most closed first): the false
    /// positives by type say which detections to tune.
    public var resolutions: [Resolutions] = []
    /// From creation to the first act of a person, for the acknowledged incidents of the window.
    public var acknowledge: Timing
    /// From creation to closing, for the incidents of the window closed so far.
    public var resolve: Timing
    /// Indicators last looked up in the window, by verdict (malicious first).
    public var verdicts: [Tally]
    /// The worst of those: highest verdict first, then most recently seen; at most ten.
    public var indicators: [TopIndicator]
    /// Playbook runs started in the window, by playbook file and outcome.
    public var playbooks: [PlaybookOutcome]
    /// Tasks created in the window, by owner.
    public var owners: [OwnerTasks]
    /// Response actions asked for in the window, by action and outcome.
    public var actions: [ActionOutcome]
    /// Who approved those actions (a playbook's standing approval too), most first.
    public var approvers: [Tally]
    /// From an approval asked in chat to its yes, for the actions of the window approved there.
    public var approval: Timing
    /// Actions in force when the report is made, whenever they ran: done and not undone.
    public var inForce: [ActionsInForce]
    /// The sections the server that made this report did not send, being older than them
    /// (`Report+Codable.swift`): empty for a report made by this automator.
    public var absent: Set<Section> = []

    public init(window: ReportWindow, generatedAt: Date, days: [Day] = [], types: [Breakdown] = [],
                severities: [Breakdown] = [], statuses: [Tally] = [], sla: [SLATally] = [],
                acknowledge: Timing = Timing(), resolve: Timing = Timing(), verdicts: [Tally] = [],
                indicators: [TopIndicator] = [], playbooks: [PlaybookOutcome] = [], owners: [OwnerTasks] = [],
                actions: [ActionOutcome] = [], approvers: [Tally] = [], approval: Timing = Timing(),
                inForce: [ActionsInForce] = [])
    {
        self.window = window
        self.generatedAt = generatedAt
        self.days = days
        self.types = types
        self.severities = severities
        self.statuses = statuses
        self.sla = sla
        self.acknowledge = acknowledge
        self.resolve = resolve
        self.verdicts = verdicts
        self.indicators = indicators
        self.playbooks = playbooks
        self.owners = owners
        self.actions = actions
        self.approvers = approvers
        self.approval = approval
        self.inForce = inForce
    }

    /// A day of the window's time zone: `2026-03-01`.
    public struct Day: Sendable, Hashable, Codable {
        public var date: String
        public var opened: Int
        public var closed: Int

        public init(date: String, opened: Int, closed: Int) {
            self.date = date
            self.opened = opened
            self.closed = closed
        }
    }

    /// A type or a severity: opened in the window, and closed in it.
    public struct Breakdown: Sendable, Hashable, Codable {
        public var name: String
        public var opened: Int
        public var closed: Int

        public init(name: String, opened: Int, closed: Int) {
            self.name = name
            self.opened = opened
            self.closed = closed
        }
    }

    public struct Tally: Sendable, Hashable, Codable {
        public var name: String
        public var count: Int

        public init(name: String, count: Int) {
            self.name = name
            self.count = count
        }
    }

    /// How many breached incidents a report lists: enough for a month of a busy team, few
    /// enough for a phone; the rest are counted in `sla`.
    public static let breachedListed = 100

    /// A type's incidents closed in the window, by what they turned out to be (`Incident.Resolution`);
    /// `unresolved`: closed without saying.
    public struct Resolutions: Sendable, Hashable, Codable {
        public var type: String
        public var truePositive: Int
        public var benign: Int
        public var falsePositive: Int
        public var undetermined: Int
        public var unresolved: Int

        public init(type: String, truePositive: Int = 0, benign: Int = 0, falsePositive: Int = 0, undetermined: Int = 0,
                    unresolved: Int = 0)
        {
            self.type = type
            self.truePositive = truePositive
            self.benign = benign
            self.falsePositive = falsePositive
            self.undetermined = undetermined
            self.unresolved = unresolved
        }

        /// Counts `count` more closed as `resolution` (nil: without one).
        mutating func add(_ resolution: Incident.Resolution?, _ count: Int) {
            switch resolution {
            case .truePositive: truePositive += count
            case .benign: benign += count
            case .falsePositive: falsePositive += count
            case .undetermined: undetermined += count
            case nil: unresolved += count
            }
        }

        /// Every incident counted.
        public var closed: Int { truePositive + benign + falsePositive + undetermined + unresolved }

        /// Those closed with a resolution: what the false-positive rate is a share of.
        public var resolved: Int { closed - unresolved }
    }

    /// A type's incidents by SLA state (`Incident.slaState(at:)` at `generatedAt`).
    public struct SLATally: SLACounts, Sendable, Hashable, Codable {
        public var type: String
        public var met: Int
        public var breached: Int
        public var atRisk: Int
        public var onTrack: Int

        public init(type: String, met: Int = 0, breached: Int = 0, atRisk: Int = 0, onTrack: Int = 0) {
            self.type = type
            self.met = met
            self.breached = breached
            self.atRisk = atRisk
            self.onTrack = onTrack
        }
    }

    /// A severity's incidents by SLA state, as `SLATally` a type's.
    public struct SeveritySLA: SLACounts, Sendable, Hashable, Codable {
        public var severity: String
        public var met: Int
        public var breached: Int
        public var atRisk: Int
        public var onTrack: Int

        public init(severity: String, met: Int = 0, breached: Int = 0, atRisk: Int = 0, onTrack: Int = 0) {
            self.severity = severity
            self.met = met
            self.breached = breached
            self.atRisk = atRisk
            self.onTrack = onTrack
        }
    }

    /// An incident of the window whose SLA is breached. `due`: the due time it breached (the one
    /// it had then, when its severity was lowered since); `closedAt`: nil while it is open;
    /// `late`: seconds from `due` to its closing, or to `generatedAt` while it is open.
    public struct BreachedIncident: Sendable, Hashable, Codable {
        public var id: String
        public var type: String
        public var severity: String
        public var due: Date
        public var closedAt: Date?
        public var late: Double

        public init(id: String, type: String, severity: String, due: Date, closedAt: Date?, late: Double) {
            self.id = id
            self.type = type
            self.severity = severity
            self.due = due
            self.closedAt = closedAt
            self.late = late
        }
    }

    /// Durations in seconds; nil median, mean and p90 when nothing was measured (and a nil median
    /// from a server older than it). The median is the typical case a manager quotes: a few
    /// incidents left open for days make the mean twice the median and more.
    public struct Timing: Sendable, Hashable, Codable {
        public var count: Int
        /// The middle duration of the sorted ones, or the mean of the two middle ones, as a
        /// spreadsheet's MEDIAN gives it.
        public var median: Double?
        public var mean: Double?
        /// The nearest-rank 90th percentile: the duration at rank ⌈0.9 n⌉ of the n sorted ones.
        public var p90: Double?

        public init(count: Int = 0, median: Double? = nil, mean: Double? = nil, p90: Double? = nil) {
            self.count = count
            self.median = median
            self.mean = mean
            self.p90 = p90
        }

        /// The figures of `durations` (in any order; sorted here).
        public init(durations: [Double]) {
            guard !durations.isEmpty else {
                self.init()
                return
            }
            let sorted = durations.sorted()
            let middle = sorted.count / 2
            let median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
            let rank = Int((0.9 * Double(sorted.count)).rounded(.up))
            self.init(count: sorted.count, median: median, mean: sorted.reduce(0, +) / Double(sorted.count),
                      p90: sorted[rank - 1])
        }
    }

    public struct TopIndicator: Sendable, Hashable, Codable {
        public var type: String
        public var value: String
        /// `malicious`, `suspicious`, `benign`, `unknown`.
        public var verdict: String
        public var summary: String
        public var lastSeen: Date

        public init(type: String, value: String, verdict: String, summary: String, lastSeen: Date) {
            self.type = type
            self.value = value
            self.verdict = verdict
            self.summary = summary
            self.lastSeen = lastSeen
        }
    }

    /// A playbook's runs: `failed` counts the diverged ones too; `unfinished` those pending,
    /// running or waiting on a person.
    public struct PlaybookOutcome: Sendable, Hashable, Codable {
        public var playbook: String
        public var completed: Int
        public var failed: Int
        public var killed: Int
        public var unfinished: Int

        public init(playbook: String, completed: Int = 0, failed: Int = 0, killed: Int = 0, unfinished: Int = 0) {
            self.playbook = playbook
            self.completed = completed
            self.failed = failed
            self.killed = killed
            self.unfinished = unfinished
        }
    }

    /// An owner's tasks (nil: tasks nobody owns); `overdue` are open past their due time.
    public struct OwnerTasks: Sendable, Hashable, Codable {
        public var owner: String?
        public var open: Int
        public var done: Int
        public var overdue: Int

        public init(owner: String?, open: Int = 0, done: Int = 0, overdue: Int = 0) {
            self.owner = owner
            self.open = open
            self.done = done
            self.overdue = overdue
        }
    }

    /// An action's outcomes, each action counted once, as it stands now: `done` is done and not
    /// undone since; `undone` by a person, `expired` by its ttl; `refused` by its checks (the
    /// configuration's protected networks and accounts, parameters that do not fit), `denied` by
    /// an approver, `timedOut` when nobody answered its approval in time; `dryRun` planned only;
    /// `inFlight` sent with no answer recorded yet.
    public struct ActionOutcome: Sendable, Hashable, Codable {
        public var action: String
        public var done: Int
        public var failed: Int
        public var refused: Int
        public var denied: Int
        public var timedOut: Int
        public var dryRun: Int
        public var undone: Int
        public var expired: Int
        public var inFlight: Int

        public init(action: String, done: Int = 0, failed: Int = 0, refused: Int = 0, denied: Int = 0, timedOut: Int = 0,
                    dryRun: Int = 0, undone: Int = 0, expired: Int = 0, inFlight: Int = 0)
        {
            self.action = action
            self.done = done
            self.failed = failed
            self.refused = refused
            self.denied = denied
            self.timedOut = timedOut
            self.dryRun = dryRun
            self.undone = undone
            self.expired = expired
            self.inFlight = inFlight
        }
    }

    /// An action's runs still in force: `lifting` undo themselves at the end of their ttl,
    /// `untilUndone` stay until someone undoes them; `since` is when the oldest ran.
    public struct ActionsInForce: Sendable, Hashable, Codable {
        public var action: String
        public var lifting: Int
        public var untilUndone: Int
        public var since: Date

        public init(action: String, lifting: Int = 0, untilUndone: Int = 0, since: Date) {
            self.action = action
            self.lifting = lifting
            self.untilUndone = untilUndone
            self.since = since
        }
    }
}

/// Incidents by SLA state: a type's (`Report.SLATally`) or a severity's (`Report.SeveritySLA`).
public protocol SLACounts {
    var met: Int { get set }
    var breached: Int { get set }
    var atRisk: Int { get set }
    var onTrack: Int { get set }
}

extension SLACounts {
    mutating func add(_ state: SLAState, _ count: Int) {
        switch state {
        case .met: met += count
        case .breached: breached += count
        case .atRisk: atRisk += count
        case .onTrack: onTrack += count
        }
    }

    /// The counts in the order every table shows them: met, breached, at risk, on track.
    var states: [Int] { [met, breached, atRisk, onTrack] }
}
