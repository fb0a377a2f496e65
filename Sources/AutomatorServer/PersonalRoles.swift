import AutomatorRuntime
import Foundation
import Hummingbird
import Logging

/// The roles of `chat.roles` a personal token's holder needs, through the API, for what reaches
/// past reading and triage: an action (`responder`, as `!action` in chat) and Lua sent with the
/// request (`author`: code that may do all a playbook does, actions included).
///
/// The rest is open to any personal token: the operator gave it to a person or an integration,
/// which stands where chat's `analyst` role does (chat asks it because anyone in the workspace
/// can write to the bot). So a token reads, creates and triages incidents, notes, completes tasks,
/// ingests alerts and starts the scripts folder's playbooks, as an alert does. Approvals and
/// war-room commands check their own roles where they are decided; the shared token is the
/// operator's and needs none. A role no one is named for admits no personal token, as in chat.
struct PersonalRoles: Sendable {
    static let responder = "responder"
    static let author = "author"

    /// Where `chat.roles` are kept as they are now (they change on SIGHUP).
    let chat: ChatService
    /// Where a refusal about an incident is journaled.
    let journal: any Store
    let logger: Logger

    /// Refuses a personal token whose holder `role` does not name (by name, or as `api:NAME`),
    /// with 403 naming the role and its key; logs the refusal, and journals it on `incident`.
    ///
    /// - Parameters:
    ///   - what: what was asked, as a phrase: "running an action".
    ///   - instead: what the holder may do instead, said after the refusal.
    func require(_ role: String, to what: String, instead: String? = nil, _ context: APIRequestContext,
                 on incident: IncidentID? = nil) async throws(APIError)
    {
        guard let holder = context.authenticated.person else { return }
        let members = chat.roles[role] ?? []
        let actor = "api:" + holder
        if members.contains(holder) || members.contains(actor) { return }
        logger.notice("api: \(what) refused to \(actor), who has no role \(role)")
        if let incident {
            let entry = JournalEntry(incident: incident, actor: actor, kind: .refused, text: "\(what), for the role \(role)")
            do { try await journal.write(.appendJournal([entry])) } catch {
                logger.error("api: the refusal of \(what) to \(actor) could not be journaled on \(incident): \(error)")
            }
        }
        throw APIError(status: .forbidden, message: "\(what) is for people with the role \(role)"
            + (members.isEmpty ? ", and no one has it yet" : ", which \(holder) has not")
            + ": chat.roles.\(role) in the server's configuration (--config) names them" + (instead.map { "; \($0)" } ?? ""))
    }

    /// `chat.roles.approver`: who may approve; while it names no one, only the operator (`UnassignedRole`).
    var approvers: [String]? { chat.roles["approver"] }
}
