import Foundation

/// Actions a person asks for outside a playbook: `automator action run`, and `POST /api/v1/actions`
/// for the CLI beside a server (and other API clients).
extension ActionService {
    /// Checks and runs an action for `actor`, who approves it themselves when `approving`.
    ///
    /// - Parameters:
    ///   - parameters: values as `JSONSerialization` reads them, or text (`--param ip=…`).
    ///   - ttl: how long it lasts before its undo runs by itself (`24h`), in place of the declaration's.
    ///   - actor: who asks, as the journal names them (`cli:alice`, `api:bob`); the idempotency
    ///     key starts with its kind (`cli-…`).
    ///   - approvers: `chat.roles.approver`, who may approve (nil or empty: no one yet).
    ///   - byOperator: whether `actor` holds the data folder or the server's shared token, and so
    ///     approves when no one has the role approver (`UnassignedRole`); false for a personal token.
    /// - Throws: `ActionError`: what `plan` and `perform` throw, and `.notApproved` when `actor`
    ///   approves and is no approver (journaled on the incident, kind `refused`).
    public func run(_ name: String, parameters: [String: Any], ttl: String? = nil, incident: IncidentID?, by actor: String,
                    approving: Bool, approvers: [String]?, byOperator: Bool, dryRun: Bool) async throws(ActionError)
        -> ActionRecord
    {
        let key = actor.prefix { $0 != ":" } + "-" + UUID().uuidString.lowercased()
        let plan: ActionPlan
        do { plan = try self.plan(name, parameters: parameters, ttl: ttl, dryRun: dryRun) } catch {
            // Kept before the refusal is told: a CLI exits as soon as it has printed it.
            if !dryRun, let refusal = refusal(name, parameters: Self.asked(parameters), key: key, incident: incident,
                                              requestedBy: actor, error)
            {
                try? await store.write(refusal)
            }
            throw error
        }
        // A dry run sends nothing, so it needs no approval, nor an approver's role to say --approve.
        let approving = approving && !dryRun
        if approving {
            do throws(ActionError) {
                try Self.requireApprover(actor, approvers: approvers, byOperator: byOperator)
            } catch {
                // Journaled on its incident, as chat journals an answer or a command refused for a
                // role: an attempt to approve one's own action leaves a trace. Kept before the
                // refusal is told, as above. Not an action's record: its checks passed, nothing
                // was refused to send.
                if let incident {
                    try? await store.write(.appendJournal([JournalEntry(
                        incident: incident, actor: actor, kind: .refused,
                        text: "approve \(plan.summary), for the role approver")]))
                }
                throw error
            }
        }
        return try await perform(plan, key: key, incident: incident, requestedBy: actor,
                                 approvedBy: approving ? actor : nil, dryRun: dryRun)
    }

    /// Parameters as asked, as JSON: what a refusal's record keeps.
    private static func asked(_ parameters: [String: Any]) -> String {
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        guard JSONSerialization.isValidJSONObject(parameters),
              let data = try? JSONSerialization.data(withJSONObject: parameters, options: options)
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Refuses an approval from someone `approvers` does not name, by their name (`alice`) or as
    /// the journal names them (`cli:alice`); when it names no one, from anyone but the operator
    /// (`byOperator`, `UnassignedRole`).
    static func requireApprover(_ actor: String, approvers: [String]?, byOperator: Bool) throws(ActionError) {
        let approvers = approvers ?? []
        guard !approvers.isEmpty else {
            if byOperator { return }
            throw ActionError(.notApproved, UnassignedRole.refusal(["approver"], meanwhile: "an operator approves "
                + "with automator action run --approve on the server's data folder, or with its shared token"))
        }
        let name = actor.split(separator: ":", maxSplits: 1).dropFirst().first.map(String.init)
        guard !approvers.contains(actor), name.map({ !approvers.contains($0) }) ?? true else { return }
        throw ActionError(.notApproved, "\(name ?? "you") may not approve actions: chat.roles.approver in the "
            + "configuration names who may")
    }
}
