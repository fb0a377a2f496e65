public import Foundation

/// A change to an incident: the properties set are changed, the others kept. Applied by the
/// store in one statement, so that two changes to different properties (a playbook raising the
/// severity, a person taking ownership) never undo each other.
public struct IncidentChange: Sendable, Hashable {
    public var id: IncidentID
    public var title: String?
    public var type: String?
    public var severity: Incident.Severity?
    /// Closing sets `closedAt` to `at` (give `closeReason`, and `resolution` if known); any other
    /// status clears the three.
    public var status: Incident.Status?
    public var closeReason: String?
    /// Given only with a close.
    public var resolution: Incident.Resolution?
    /// `.some(nil)` clears the owner.
    public var owner: String??
    public var labels: [String]?
    /// A JSON object merged into the custom fields (RFC 7386: `null` removes a field).
    public var fieldsPatch: String?
    public var details: String?
    /// The playbook chosen, and the run that executes it.
    public var playbook: String?
    public var runID: RunID?
    public var slaDueAt: Date?
    public var slaBreachedAt: Date?
    /// Counts one more alert (a duplicate linked to it).
    public var addsAlert = false
    public var at: Date

    public init(_ id: IncidentID, at: Date = Date()) {
        self.id = id
        self.at = at.roundedToMilliseconds
    }

    /// The properties it changes, for the journal: `severity=high, owner=alice`.
    public var summary: String {
        var parts: [String] = []
        if let title { parts.append("title=\(title)") }
        if let type { parts.append("type=\(type)") }
        if let severity { parts.append("severity=\(severity.rawValue)") }
        if let status { parts.append("status=\(status.rawValue)") }
        if let owner { parts.append("owner=\(owner ?? "none")") }
        if let labels { parts.append("labels=\(labels.joined(separator: ","))") }
        if let fieldsPatch { parts.append("fields+=\(fieldsPatch)") }
        if details != nil { parts.append("details") }
        return parts.joined(separator: ", ")
    }
}

extension IncidentChange {
    /// The change as one transaction, however it is asked for (the API, the CLI, a playbook's
    /// `inc:update` and `inc:close`): the change, its journal line by `actor`, the line of the SLA
    /// it moved (`SLAPolicy.move`), and when it closes the incident, its other runs asked to stop
    /// wherever they execute (`StoreWrite.askToKill`; asked before the tasks are cancelled, so that
    /// a worker is told of the kill first, and the run waiting on one of them ends killed, not
    /// failed by the cancelled task), and its open tasks cancelled (`StoreWrite.cancelOpenTasks`).
    ///
    /// - Parameter closer: the run that closes it (a playbook's `inc:close`), which goes on.
    func write(by actor: String, closer: RunID? = nil, movingSLA sla: String? = nil) -> StoreWrite {
        let closing = status == .closed
        var text = summary
        if closing {
            text = "closed" + (resolution.map { " as \($0.rawValue)" } ?? "") + ": \(closeReason ?? "")"
                + (text == "status=closed" ? "" : " (\(text))")
        }
        var entries = [JournalEntry(incident: id, at: at, actor: actor, kind: closing ? .closed : .update, text: text)]
        if let sla { entries.append(JournalEntry(incident: id, at: at, actor: "automator", kind: .sla, text: sla)) }
        var writes: [StoreWrite] = [.updateIncident(self), .appendJournal(entries)]
        if closing {
            writes.append(.askToKill(.incident(id, except: closer), reason: stopReason(by: actor)))
            writes.append(.cancelOpenTasks(.incidentClosed(id), by: actor, at: at))
        }
        return .all(writes)
    }

    /// `incident` as it is once this change is made (`IncidentClosedHook` hands it to the hook
    /// before the change commits): the custom fields as they were, a merge patch being the store's.
    func applied(to incident: Incident) -> Incident {
        var changed = incident
        if let title { changed.title = title }
        if let type { changed.type = type }
        if let severity { changed.severity = severity }
        if let owner { changed.owner = owner }
        if let labels { changed.labels = labels }
        if let details { changed.details = details }
        if let status {
            changed.status = status
            let closing = status == .closed
            changed.closedAt = closing ? at : nil
            changed.closeReason = closing ? closeReason : nil
            changed.resolution = closing ? resolution : nil
        }
        changed.updatedAt = at
        return changed
    }

    /// What the runs of the incident it closes end `killed` with: who closed it, and when.
    func stopReason(by actor: String) -> String { Self.stopReason(closing: id, by: actor, at: at) }

    /// What a closed incident's runs end `killed` with: `INC-7 was closed by cli:alice at
    /// 2026-11-30T03:12:04.120Z`, so that the run's end says whose close stopped it.
    static func stopReason(closing id: IncidentID, by actor: String, at: Date) -> String {
        "\(id) was closed by \(actor) at \(JSONText.time(at).dropFirst().dropLast())"
    }
}

extension IncidentChange {
    /// What a person may change, as `PATCH /api/v1/incidents/ID` takes it: `{"owner": "alice"}`
    /// (`null` to clear it), `"severity"`, `"status"` (`"closed"` with a `"reason"` and, if known,
    /// a `"resolution"`), `"labels"`; `"by"`, who asks, is the caller's to read.
    public static let personFields = ["owner", "severity", "status", "reason", "resolution", "labels", "by"]

    /// `name` as a resolution, or the error that lists them.
    public static func resolution(named name: String) throws(IncidentError) -> Incident.Resolution {
        guard let resolution = Incident.Resolution(named: name) else {
            throw .invalid("resolution", "one of \(Incident.Resolution.names) expected, got \(JSONText.string(name))")
        }
        return resolution
    }

    /// The change `json` asks for `id`, and who asks (`"by"`), when it says.
    ///
    /// - Throws: `.invalid` naming the field for a wrong value or an unknown field.
    public static func asked(_ id: IncidentID, json: [UInt8]) throws(IncidentError) -> (change: IncidentChange, by: String?) {
        var change = IncidentChange(id)
        let by = try change.read(json)
        return (change, by)
    }

    /// Sets what `json` asks for; returns its `"by"`.
    private mutating func read(_ json: [UInt8]) throws(IncidentError) -> String? {
        let example = #"{"owner": "alice", "severity": "high"} or {"status": "closed", "reason": "false positive"}"#
        guard let object = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] else {
            throw IncidentError(.invalid, "send a JSON object, such as \(example)")
        }
        if let unknown = object.keys.sorted().first(where: { !Self.personFields.contains($0) }) {
            throw .invalid(unknown, "unknown field: a change takes " + Self.personFields.joined(separator: ", "))
        }
        func text(_ name: String) throws(IncidentError) -> String? {
            guard let value = object[name] else { return nil }
            guard let string = value as? String, !string.isEmpty, string.utf8.count <= 1000 else {
                throw .invalid(name, "a non-empty string expected, as in \(example)")
            }
            return string
        }
        if object["owner"] is NSNull {
            owner = .some(nil)
        } else if let name = try text("owner") {
            owner = .some(name)
        }
        if let name = try text("severity") {
            guard let severity = Incident.Severity(named: name) else {
                throw .invalid("severity", "one of \(Incident.Severity.names)")
            }
            self.severity = severity
        }
        if let name = try text("status") {
            guard let status = Incident.Status(named: name) else {
                throw .invalid("status", "one of \(Incident.Status.names)")
            }
            self.status = status
        }
        closeReason = try text("reason")
        if closeReason != nil, status != .closed { throw .invalid("reason", "given only with \"status\": \"closed\"") }
        if let name = try text("resolution") {
            guard status == .closed else { throw .invalid("resolution", "given only with \"status\": \"closed\"") }
            resolution = try Self.resolution(named: name)
        }
        if let labels = object["labels"] {
            guard let strings = labels as? [String] else { throw .invalid("labels", "an array of strings expected") }
            self.labels = strings
        }
        let by = try text("by")
        // A newline in it made a line of its own in `journal show` and `audit`: another actor's entry.
        if let by, by.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw .invalid("by", "a name on one line, without control characters")
        }
        return by
    }
}
