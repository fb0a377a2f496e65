import Foundation

extension Report {
    /// A section added to the report after its first version. A server older than a section does
    /// not send it: during a rolling upgrade the CLI on a laptop is often newer than the worker
    /// that answers, and the rest of the report is still worth reading.
    public enum Section: String, Sendable, Hashable, CaseIterable {
        /// `actions`, `approvers`, `approval` and `in_force`.
        case actions
        /// `open_at_start` and `open_at_end`.
        case backlog
        /// `sla_by_severity` and `breached_incidents`.
        case breaches
        /// `resolutions`.
        case resolutions

        /// As the report's readers see it: `response actions`.
        public var title: String {
            switch self {
            case .actions: "response actions"
            case .backlog: "backlog (incidents open at the start and at the end)"
            case .breaches: "SLA by severity and breached incidents"
            case .resolutions: "closed incidents by resolution"
            }
        }
    }
}

/// The sections of the first report are required; a later section's keys may be missing, and
/// the report then says so (`absent`) instead of failing or showing zeros that were never counted.
/// An absent section is not written back either, so `--format json` passes on what the server sent.
/// A report without `timezone` is one of UTC days, as every report was before it.
extension Report: Codable {
    /// `schema_version` in the JSON, for the BI tools and scripts that read it: raised when a
    /// field is renamed, removed or changes its meaning or unit, not when one is added.
    public static let schemaVersion = 1

    private enum CodingKeys: String, CodingKey {
        case schemaVersion, window, timezone, generatedAt, days, types, severities, statuses, sla, acknowledge, resolve,
             verdicts, indicators, playbooks, owners, actions, approvers, approval, inForce, openAtStart, openAtEnd,
             slaBySeverity, breachedIncidents, resolutions
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(window: try container.decode(ReportWindow.self, forKey: .window),
                  generatedAt: try container.decode(Date.self, forKey: .generatedAt),
                  days: try container.decode([Day].self, forKey: .days),
                  types: try container.decode([Breakdown].self, forKey: .types),
                  severities: try container.decode([Breakdown].self, forKey: .severities),
                  statuses: try container.decode([Tally].self, forKey: .statuses),
                  sla: try container.decode([SLATally].self, forKey: .sla),
                  acknowledge: try container.decode(Timing.self, forKey: .acknowledge),
                  resolve: try container.decode(Timing.self, forKey: .resolve),
                  verdicts: try container.decode([Tally].self, forKey: .verdicts),
                  indicators: try container.decode([TopIndicator].self, forKey: .indicators),
                  playbooks: try container.decode([PlaybookOutcome].self, forKey: .playbooks),
                  owners: try container.decode([OwnerTasks].self, forKey: .owners))
        if container.contains(.actions) {
            actions = try container.decode([ActionOutcome].self, forKey: .actions)
            approvers = try container.decode([Tally].self, forKey: .approvers)
            approval = try container.decode(Timing.self, forKey: .approval)
            inForce = try container.decode([ActionsInForce].self, forKey: .inForce)
        } else {
            absent.insert(.actions)
        }
        if container.contains(.openAtStart) {
            openAtStart = try container.decode(Int.self, forKey: .openAtStart)
            openAtEnd = try container.decode(Int.self, forKey: .openAtEnd)
        } else {
            absent.insert(.backlog)
        }
        if container.contains(.slaBySeverity) {
            slaBySeverity = try container.decode([SeveritySLA].self, forKey: .slaBySeverity)
            breached = try container.decode([BreachedIncident].self, forKey: .breachedIncidents)
        } else {
            absent.insert(.breaches)
        }
        if container.contains(.resolutions) {
            resolutions = try container.decode([Resolutions].self, forKey: .resolutions)
        } else {
            absent.insert(.resolutions)
        }
        if let name = try container.decodeIfPresent(String.self, forKey: .timezone) {
            guard let zone = try? ReportWindow.timeZone(named: name) else {
                throw DecodingError.dataCorruptedError(forKey: .timezone, in: container,
                                                       debugDescription: "no time zone '\(name)' in this system's tz database")
            }
            window.timeZone = zone
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schemaVersion, forKey: .schemaVersion)
        try container.encode(window, forKey: .window)
        try container.encode(window.timeZoneName, forKey: .timezone)
        try container.encode(generatedAt, forKey: .generatedAt)
        try container.encode(days, forKey: .days)
        try container.encode(types, forKey: .types)
        try container.encode(severities, forKey: .severities)
        try container.encode(statuses, forKey: .statuses)
        try container.encode(sla, forKey: .sla)
        try container.encode(acknowledge, forKey: .acknowledge)
        try container.encode(resolve, forKey: .resolve)
        try container.encode(verdicts, forKey: .verdicts)
        try container.encode(indicators, forKey: .indicators)
        try container.encode(playbooks, forKey: .playbooks)
        try container.encode(owners, forKey: .owners)
        if !absent.contains(.actions) {
            try container.encode(actions, forKey: .actions)
            try container.encode(approvers, forKey: .approvers)
            try container.encode(approval, forKey: .approval)
            try container.encode(inForce, forKey: .inForce)
        }
        if !absent.contains(.backlog) {
            try container.encode(openAtStart, forKey: .openAtStart)
            try container.encode(openAtEnd, forKey: .openAtEnd)
        }
        if !absent.contains(.breaches) {
            try container.encode(slaBySeverity, forKey: .slaBySeverity)
            try container.encode(breached, forKey: .breachedIncidents)
        }
        if !absent.contains(.resolutions) { try container.encode(resolutions, forKey: .resolutions) }
    }
}
