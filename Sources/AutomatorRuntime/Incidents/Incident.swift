public import Foundation

/// An incident as the store keeps it: what happened, how bad, who owns it, where it came from,
/// which playbook works on it, and its SLA.
///
/// `fields` and `raw` are JSON text, kept as they came (a custom field `1.0` stays `1.0`).
/// Times are kept to the millisecond.
public struct Incident: Sendable, Hashable {
    public enum Severity: String, Sendable, Hashable, CaseIterable, Comparable {
        case info, low, medium, high, critical

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// Arrived, nobody (no person, no playbook) has acted on it yet.
        case new
        /// Being worked on.
        case active
        /// Waiting on someone outside the team (the reporter, a vendor).
        case pending
        /// Done: `closedAt` and `closeReason` say when and why, `resolution` what it turned out to be.
        case closed
    }

    /// What a closed incident turned out to be, as its closer said: what a SOC lead counts (the
    /// false positives by type say which detections to tune) and what a close hook tells the tool
    /// the alert came from (Sentinel's and Defender's classifications).
    public enum Resolution: String, Sendable, Hashable, CaseIterable {
        /// A real attack or compromise.
        case truePositive = "true_positive"
        /// Real activity, correctly detected, and harmless (an admin's scan, a test).
        case benign
        /// The detection was wrong.
        case falsePositive = "false_positive"
        /// Nobody could tell.
        case undetermined
    }

    public var id: IncidentID
    public var title: String
    public var type: String
    public var severity: Severity
    public var status: Status
    public var owner: String?
    public var labels: [String]
    /// Custom fields: a JSON object.
    public var fields: String
    /// Free text: the analyst's or the source's description.
    public var details: String
    /// The source's payload, as JSON text.
    public var raw: String?
    /// Where it came from (`edr`, `mail-gateway`, `api`), and the source's own id for it:
    /// alerts with the same pair are deduplicated.
    public var source: String?
    public var sourceRef: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var closedAt: Date?
    public var closeReason: String?
    /// Given by its close, or nil (closed without one, or open: reopening clears it).
    public var resolution: Resolution?
    /// The playbook chosen for it, and the run that executes it.
    public var playbook: String?
    public var runID: RunID?
    /// When its SLA ends, and when the breach was handled (nil until then).
    public var slaDueAt: Date?
    public var slaBreachedAt: Date?
    /// How many alerts it stands for: duplicates linked to it add one each.
    public var alertCount: Int
    /// Incidents linked to this one, either way.
    public var links: [IncidentID]

    public init(id: IncidentID, title: String, type: String, severity: Severity, status: Status = .new,
                owner: String? = nil, labels: [String] = [], fields: String = "{}", details: String = "",
                raw: String? = nil, source: String? = nil, sourceRef: String? = nil, createdAt: Date = Date(),
                updatedAt: Date? = nil, closedAt: Date? = nil, closeReason: String? = nil, resolution: Resolution? = nil,
                playbook: String? = nil,
                runID: RunID? = nil, slaDueAt: Date? = nil, slaBreachedAt: Date? = nil, alertCount: Int = 1,
                links: [IncidentID] = [])
    {
        self.id = id
        // Without NUL, as the journal (`withoutNUL`): a mapped alert's title would end at one.
        self.title = title.withoutNUL
        self.type = type.withoutNUL
        self.severity = severity
        self.status = status
        self.owner = owner?.withoutNUL
        self.labels = labels
        self.fields = fields
        self.details = details
        self.raw = raw
        self.source = source
        self.sourceRef = sourceRef
        self.createdAt = createdAt.roundedToMilliseconds
        self.updatedAt = (updatedAt ?? createdAt).roundedToMilliseconds
        self.closedAt = closedAt?.roundedToMilliseconds
        self.closeReason = closeReason
        self.resolution = resolution
        self.playbook = playbook
        self.runID = runID
        self.slaDueAt = slaDueAt?.roundedToMilliseconds
        self.slaBreachedAt = slaBreachedAt?.roundedToMilliseconds
        self.alertCount = alertCount
        self.links = links
    }

    /// Where the incident stands against its SLA at `now`.
    public func slaState(at now: Date = Date()) -> SLAState? {
        SLAState(created: createdAt.millisecondsSince1970, closed: closedAt?.millisecondsSince1970,
                 due: slaDueAt?.millisecondsSince1970, breached: slaBreachedAt?.millisecondsSince1970,
                 now: now.millisecondsSince1970)
    }
}

/// An incident's or a task's standing against its deadline.
public enum SLAState: String, Sendable, Hashable, CaseIterable {
    case onTrack = "on_track"
    /// Three quarters of the time is gone.
    case atRisk = "at_risk"
    case breached
    /// Closed in time, never breached.
    case met

    /// The share of the time after which an open incident is at risk.
    public static let atRiskShare = 0.75

    /// The state at `now` of an incident's SLA, from its times in milliseconds since 1970 (as the
    /// stores keep them, so that a report reads them without making dates); nil without an SLA.
    /// A breach noted stays: lowering the severity afterwards moves the due time later, and an
    /// incident closed by the new one was still late by the one it had.
    init?(created: Int64, closed: Int64?, due: Int64?, breached: Int64?, now: Int64) {
        guard let due else { return nil }
        if breached != nil {
            self = .breached
        } else if let closed {
            self = closed <= due ? .met : .breached
        } else if now >= due {
            self = .breached
        } else {
            self = Double(now - created) >= Double(due - created) * Self.atRiskShare ? .atRisk : .onTrack
        }
    }
}
