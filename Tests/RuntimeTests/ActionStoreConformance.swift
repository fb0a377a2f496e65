import AutomatorRuntime
import Foundation
import Testing

/// What every `ActionStore` must do for the action service, written against the protocol alone,
/// so that SQLite and PostgreSQL run the same checks.
struct ActionStoreConformance {
    enum Check: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case roundTrip, recordedOnce, queries, refusals, togetherOrNot

        var testDescription: String { rawValue }
    }

    let open: @Sendable () async throws -> any JournalStore

    func run(_ check: Check) async throws {
        let opened = try await open()
        let store = try #require(opened as? any ActionStore, "\(type(of: opened)) keeps no actions")
        try await store.write(.createIncident(IncidentStoreConformance.incident(1)))
        switch check {
        case .roundTrip: try await roundTrip(store)
        case .recordedOnce: try await recordedOnce(store)
        case .queries: try await queries(store)
        case .refusals: try await refusals(store)
        case .togetherOrNot: try await togetherOrNot(store)
        }
        await store.close()
    }

    static func action(_ key: String, incident: Int? = 1, at seconds: Int = 0, status: ActionRecord.Status = .sending)
        -> ActionRecord
    {
        ActionRecord(id: "ACT-" + key, key: "run-1/" + key, name: "firewall.block_ip",
                     parameters: #"{"ip":"198.51.100.7","reason":"C2 é"}"#, incident: incident.map(IncidentID.init),
                     requestedBy: "playbook run-1", approvedBy: key == "1" ? "slack:alice" : nil, status: status,
                     at: IncidentStoreConformance.time(seconds))
    }

    /// An action is read back as written, through `sending`, `done` with its expiry, and `undone`;
    /// its ttl as planned (to the millisecond), and none for one that stays.
    private func roundTrip(_ store: any ActionStore) async throws {
        var action = Self.action("1")
        action.ttl = 86400.25
        try await store.write(.recordAction(action))
        #expect(try await store.action(action.id) == action)
        #expect(try await store.action("ACT-none") == nil)
        let staying = Self.action("2")
        try await store.write(.recordAction(staying))
        #expect(try await store.action(staying.id)?.ttl == nil)
        let expiry = IncidentStoreConformance.time(86400)
        try await store.write(.finishAction(id: action.id, status: .done, result: #"{"rule":"r-1"}"#, expiresAt: expiry))
        action.status = .done
        action.result = #"{"rule":"r-1"}"#
        action.expiresAt = expiry
        #expect(try await store.action(action.id) == action)
        try await store.write(.undoAction(id: action.id, by: "automator", at: IncidentStoreConformance.time(90)))
        action.status = .undone
        action.undoneBy = "automator"
        action.undoneAt = IncidentStoreConformance.time(90)
        #expect(try await store.action(action.id) == action)
    }

    /// Recording an action again (a replayed send) keeps the first record.
    private func recordedOnce(_ store: any ActionStore) async throws {
        let first = Self.action("1")
        try await store.write(.recordAction(first))
        try await store.write(.finishAction(id: first.id, status: .failed, result: "the firewall answered 500", expiresAt: nil))
        var again = first
        again.requestedBy = "someone else"
        try await store.write(.recordAction(again))
        let kept = try #require(try await store.action(first.id))
        #expect(kept.requestedBy == "playbook run-1" && kept.status == .failed && kept.result == "the firewall answered 500")
    }

    /// Newest first, by incident, with a limit; the expiring ones soonest first, done ones only.
    private func queries(_ store: any ActionStore) async throws {
        try await store.write(.createIncident(IncidentStoreConformance.incident(2)))
        for (key, incident, at) in [("1", 1, 10), ("2", 2, 30), ("3", 1, 20), ("4", nil, 40)] as [(String, Int?, Int)] {
            try await store.write(.recordAction(Self.action(key, incident: incident, at: at)))
        }
        #expect(try await store.actions(on: nil, limit: 10).map(\.id) == ["ACT-4", "ACT-2", "ACT-3", "ACT-1"])
        #expect(try await store.actions(on: nil, limit: 2).map(\.id) == ["ACT-4", "ACT-2"])
        #expect(try await store.actions(on: IncidentID(1), limit: 10).map(\.id) == ["ACT-3", "ACT-1"])
        #expect(try await store.actions(on: IncidentID(3), limit: 10).isEmpty)
        for (key, hours) in [("1", 5), ("2", 1), ("3", 3)] {
            try await store.write(.finishAction(id: "ACT-" + key, status: .done, result: "{}",
                                                expiresAt: IncidentStoreConformance.time(hours * 3600)))
        }
        try await store.write(.finishAction(id: "ACT-4", status: .done, result: "{}", expiresAt: nil))
        try await store.write(.undoAction(id: "ACT-3", by: "cli:bob", at: IncidentStoreConformance.time(60)))
        #expect(try await store.expiringActions().map(\.id) == ["ACT-2", "ACT-1"], "done, with an expiry, soonest first")
    }

    /// Unknown incidents and actions, and undoing what is not done, are refused and change nothing.
    private func refusals(_ store: any ActionStore) async throws {
        func refusal(_ write: StoreWrite) async -> StoreError? {
            do { try await store.write(write) } catch { return error }
            return nil
        }
        let orphan = await refusal(.recordAction(Self.action("9", incident: 9)))
        #expect(orphan?.kind == .notFound && orphan?.description.contains("INC-9") == true, "\(String(describing: orphan))")
        #expect(try await store.action("ACT-9") == nil)
        #expect(await refusal(.finishAction(id: "ACT-9", status: .done, result: "{}", expiresAt: nil))?.kind == .notFound)
        #expect(await refusal(.undoAction(id: "ACT-9", by: "x", at: Date()))?.kind == .notFound)
        try await store.write(.recordAction(Self.action("1")))
        let early = await refusal(.undoAction(id: "ACT-1", by: "x", at: Date()))
        #expect(early?.kind == .conflict && early?.description.contains("sending") == true, "\(String(describing: early))")
        #expect(try await store.action("ACT-1")?.status == .sending)

        // Closed: nothing is sent on it any more (an approval that came late), a dry run is still
        // planned, and an action that takes the close to the incident's source is sent.
        var close = IncidentChange(IncidentID(1), at: IncidentStoreConformance.time(50))
        close.status = .closed
        close.closeReason = "contained by hand"
        try await store.write(.updateIncident(close))
        let late = await refusal(.recordAction(Self.action("2")))
        #expect(late?.kind == .conflict && late?.description.contains("INC-1 is closed") == true, "\(String(describing: late))")
        #expect(try await store.action("ACT-2") == nil)
        try await store.write(.recordAction(Self.action("3", status: .planned)))
        var writeBack = Self.action("4")
        writeBack.followsClose = true
        try await store.write(.recordAction(writeBack))
        #expect(try await store.action("ACT-4")?.status == .sending)
    }

    /// An action's record commits with its journal entry, or neither does.
    private func togetherOrNot(_ store: any ActionStore) async throws {
        let entry = JournalEntry(incident: IncidentID(1), actor: "playbook run-1", kind: .action, text: "ACT-1: ran")
        try await store.write(.all([.recordAction(Self.action("1")), .appendJournal([entry])]))
        #expect(try await store.journal(of: IncidentID(1)).map(\.text) == ["ACT-1: ran"])
        let orphan = JournalEntry(incident: IncidentID(7), actor: "x", kind: .action, text: "x")
        await #expect(throws: StoreError.self) {
            try await store.write(.all([.recordAction(Self.action("2")), .appendJournal([orphan])]))
        }
        #expect(try await store.action("ACT-2") == nil)
    }
}
