import AutomatorRuntime
import Foundation

/// What differs between the configuration a server runs with and its file read again on SIGHUP,
/// sorted into what a running server takes and what waits for the next start, each said as the
/// log says it (`chat.roles (approver: +dave, -bob)`). Never a value that may be a secret: an
/// integration's settings are named, not shown.
///
/// Taken at once: who holds which role, the actions' approvals and protected networks and
/// accounts, the cache's durations, the integrations' settings, the daily report, the task notices, the list of
/// feeds; each is read where it is used. At the next start: the chat networks (their
/// connections are made with them), the store, the log's level and format (the logger is copied
/// into every service at the start).
///
/// ```swift
/// let changes = ConfigurationChanges(from: running, to: try ConfigurationFile(file: path))
/// changes.running  // running, with what changes now taken from the file
/// ```
struct ConfigurationChanges {
    /// What is put in use now.
    private(set) var applied: [String] = []
    /// What changed but is used as it was until the next start.
    private(set) var atNextStart: [String] = []
    /// The configuration in use after the change: the new file's reloadable parts, the rest as before.
    private(set) var running: ConfigurationFile

    init(from old: ConfigurationFile, to new: ConfigurationFile) {
        running = old
        if let roles = Self.roles(old.chat.roles, new.chat.roles) {
            applied.append("chat.roles (\(roles))")
            running.chat.roles = new.chat.roles
        }
        if old.actions != new.actions {
            let (before, after) = (old.actions, new.actions)
            if (before.approvalRisk, before.approvalChannel, before.approvalTimeout)
                != (after.approvalRisk, after.approvalChannel, after.approvalTimeout)
            {
                applied.append("actions.approval")
            }
            for (key, was, now) in [("networks", before.protectedNetworks, after.protectedNetworks),
                                    ("accounts", before.protectedAccounts, after.protectedAccounts)]
            where was != now {
                applied.append("actions.protected.\(key) (\(Self.members(was, now)))")
            }
            running.actions = new.actions
        }
        if old.intel.cacheTTL != new.intel.cacheTTL {
            applied.append("cache")
            running.intel.cacheTTL = new.intel.cacheTTL
        }
        let integrations = Set(old.intel.integrations.keys).union(new.intel.integrations.keys)
        for name in integrations.sorted() where old.intel.integrations[name] != new.intel.integrations[name] {
            applied.append("integrations.\(name)")
        }
        running.intel.integrations = new.intel.integrations
        if old.intel.feeds != new.intel.feeds {
            applied.append("feeds (the previous list answers until the new one is loaded)")
            running.intel.feeds = new.intel.feeds
        }
        if old.chat.report != new.chat.report {
            applied.append("chat.report")
            running.chat.report = new.chat.report
        }
        if old.chat.tasks != new.chat.tasks {
            applied.append("chat.tasks")
            running.chat.tasks = new.chat.tasks
        }
        atNextStart = [("chat.slack", old.chat.slack != new.chat.slack), ("chat.matrix", old.chat.matrix != new.chat.matrix),
                       ("store", old.store != new.store), ("log", old.log != new.log)]
            .filter(\.1).map(\.0)
    }

    /// The line of the log: `chat.roles (approver: +dave), cache changed; waiting for a restart
    /// (SIGTERM, then start serve): chat.slack`.
    func summary(of file: String) -> String {
        let now = applied.isEmpty ? "\(file) read again, nothing to change now" : applied.joined(separator: ", ") + " changed"
        guard !atNextStart.isEmpty else { return now }
        return now + "; waiting for a restart (SIGTERM, then start serve): " + atNextStart.joined(separator: ", ")
    }

    /// `approver: +dave, -bob; author: unset`, or nil when no role changed. `approver` unset
    /// leaves approvals to the operators (`UnassignedRole`), which the log says in so many words:
    /// a SOC that meant to rename the role finds out from the log, not from a run that waits.
    private static func roles(_ old: [String: [String]], _ new: [String: [String]]) -> String? {
        let changed = Set(old.keys).union(new.keys).sorted().compactMap { role -> String? in
            switch (old[role], new[role]) {
            case let (was, now) where was == now: nil
            case (_, nil): role == "approver" ? "approver: unset, so only an operator approves" : "\(role): unset"
            case let (was, now?): "\(role): " + (was == nil && now.isEmpty ? "set, empty" : members(was ?? [], now))
            }
        }
        return changed.isEmpty ? nil : changed.joined(separator: "; ")
    }

    /// `+dave, -bob`: who is in `new` and not in `old`, then who left.
    private static func members(_ old: [String], _ new: [String]) -> String {
        let change = new.filter { !old.contains($0) }.map { "+" + $0 } + old.filter { !new.contains($0) }.map { "-" + $0 }
        return change.isEmpty ? "reordered" : change.joined(separator: ", ")
    }
}
