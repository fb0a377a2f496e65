public import AutomatorRuntime

/// The modules a data folder's runs get beside the standard ones: its incidents, evidence, chat
/// and actions. `automator serve` and the bot in the terminal (`automator chat`, the REPL's `!`
/// lines) give the same, so a command works in the terminal as it does in Slack.
public enum FolderModules {
    public static func make(ledger: IncidentLedger, evidence: EvidenceService, chat: ChatService,
                            reputation: ReputationService, actions: ActionService) -> [any HostModule]
    {
        [IncidentsModule(ledger: ledger), EvidenceModule(service: evidence),
         ChatModule(service: chat, reputation: reputation, evidence: evidence), ActionsModule(service: actions)]
    }
}
