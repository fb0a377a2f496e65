public import Foundation

/// Where incidents, their tasks and their journals are kept, beside the runs that work on them.
/// Changes go through `write(_:completion:)` like every write, so a playbook's note and the
/// record of the call that made it commit together; reads are `async`.
///
/// Implementations pass the conformance suite (`Tests/RuntimeTests/StoreConformance.swift`).
public protocol IncidentStore: Store {
    /// The incident with its links, or nil.
    func loadIncident(_ id: IncidentID) async throws(StoreError) -> Incident?

    /// Incidents that match `query`, newest first (without their links).
    func listIncidents(_ query: IncidentQuery) async throws(StoreError) -> [Incident]

    func loadTask(_ id: TaskID) async throws(StoreError) -> IncidentTask?

    /// Tasks that match `query`: open ones by due time (the most urgent first), then done ones.
    func listTasks(_ query: TaskQuery) async throws(StoreError) -> [IncidentTask]

    /// The incident's entries after sequence `after`, oldest first: at most `limit`, and none
    /// more once their texts reach `bytes` (so at least one), since one entry may hold a whole
    /// alert; empty for an unknown incident.
    func journal(of incident: IncidentID, after: Int64, limit: Int, bytes: Int) async throws(StoreError) -> [JournalEntry]

    /// Those of `refs` that an incident has as its `source` and `source_ref`, answered together:
    /// an import looks a page of lines up in one query.
    func storedSourceRefs(_ refs: Set<SourceRef>) async throws(StoreError) -> Set<SourceRef>

    /// The highest incident and task numbers given so far (0 when none).
    func highestNumbers() async throws(StoreError) -> (incident: Int, task: Int)

    /// A number of `kind` for a new incident or task, given to no one before. It is taken before
    /// the write, which holds it in several places (the journal, the record of the call that made
    /// it); how a write that fails leaves a gap or not is the store's (see docs/ARCHITECTURE.md).
    func takeNumber(_ kind: NumberedKind) async throws(StoreError) -> Int

    /// `takeNumber` on a thread that cannot await: a `HostWait.write` change, on an executor's.
    func takeNumberNow(_ kind: NumberedKind) throws(StoreError) -> Int

    /// The newest incident (by number) that mentions `indicator`, normalised as extraction gives
    /// it (`IncidentQuery.indicator`), other than `except`; nil when there is none.
    func sighting(of indicator: String, except: IncidentID?) async throws(StoreError) -> Sighting?

    /// A reader of the same answer for one thread, which reads without waiting for another
    /// thread; nil when the store can only answer by waiting (a server over the network).
    func sightingReader() -> (any SightingReader)?
}

extension IncidentStore {
    public func sightingReader() -> (any SightingReader)? { nil }

    /// The incident's whole journal, oldest first; empty for an unknown incident.
    public func journal(of incident: IncidentID) async throws(StoreError) -> [JournalEntry] {
        try await journal(of: incident, after: 0, limit: .max, bytes: .max)
    }
}

/// Which incidents to list. Every property set narrows the list.
public struct IncidentQuery: Sendable, Hashable {
    public var statuses: [Incident.Status]?
    public var type: String?
    public var severities: [Incident.Severity]?
    public var source: String?
    public var sourceRef: String?
    public var owner: String?
    /// A substring of the title, details, custom fields or raw payload (case-insensitive for
    /// ASCII letters).
    public var text: String?
    /// An indicator the incident mentions, normalised as extraction gives it
    /// (`IncidentIndicators.normalized`): an exact match, so `10.0.0.1` is not found in
    /// `10.0.0.12`.
    public var indicator: String?
    public var createdSince: Date?
    /// Open incidents whose SLA has not been handled as breached yet.
    public var awaitingSLA = false
    /// Incidents whose SLA deadline is before this date.
    public var slaDueBefore: Date?
    /// Incidents in one of these states against their SLA (`SLAState`) at `slaAt`.
    public var slaStates: [SLAState]?
    /// When `slaStates` are taken; nil: at the query.
    public var slaAt: Date?
    public var limit: Int

    public init(statuses: [Incident.Status]? = nil, type: String? = nil, severities: [Incident.Severity]? = nil,
                source: String? = nil, sourceRef: String? = nil, owner: String? = nil, text: String? = nil,
                indicator: String? = nil, createdSince: Date? = nil, awaitingSLA: Bool = false,
                slaDueBefore: Date? = nil, slaStates: [SLAState]? = nil, slaAt: Date? = nil, limit: Int = 100)
    {
        self.statuses = statuses
        self.type = type
        self.severities = severities
        self.source = source
        self.sourceRef = sourceRef
        self.owner = owner
        self.text = text
        self.indicator = indicator
        self.createdSince = createdSince
        self.awaitingSLA = awaitingSLA
        self.slaDueBefore = slaDueBefore
        self.slaStates = slaStates
        self.slaAt = slaAt
        self.limit = limit
    }

    /// Statuses that are not `closed`.
    public static let open: [Incident.Status] = [.new, .active, .pending]
}

/// Which tasks to list.
public struct TaskQuery: Sendable, Hashable {
    public var incident: IncidentID?
    public var owner: String?
    public var status: IncidentTask.Status?
    /// Open tasks due before this time.
    public var dueBefore: Date?
    /// Tasks due after this position, in due order: a walk through the due times that a batch
    /// may end within tasks due at the same instant.
    public var dueAfter: DuePosition?
    /// Tasks numbered after this one, in the order of their numbers (the order they were given)
    /// instead of the most urgent first.
    public var after: TaskID?
    public var limit: Int

    public init(incident: IncidentID? = nil, owner: String? = nil, status: IncidentTask.Status? = nil,
                dueBefore: Date? = nil, dueAfter: DuePosition? = nil, after: TaskID? = nil, limit: Int = 500)
    {
        self.incident = incident
        self.owner = owner
        self.status = status
        self.dueBefore = dueBefore
        self.dueAfter = dueAfter
        self.after = after
        self.limit = limit
    }

    /// Past the tasks due before `due`, and those due at `due` numbered up to `task` (all of them
    /// when nil).
    public struct DuePosition: Sendable, Hashable {
        public var due: Date
        public var task: TaskID?

        public init(due: Date, task: TaskID? = nil) {
            self.due = due
            self.task = task
        }

        /// Whether `task`, due at `due`, is past this position, as `dueAfter` selects it: to the
        /// millisecond, as the stores keep due times.
        func precedes(_ task: TaskID, dueAt due: Date) -> Bool {
            let (mine, its) = (self.due.millisecondsSince1970, due.millisecondsSince1970)
            return its > mine || its == mine && self.task.map { task.number > $0.number } == true
        }
    }
}
