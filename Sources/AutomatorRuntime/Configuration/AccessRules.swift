/// Who may do what, as a server decides it now: `chat.roles` and the `actions` section, which
/// serve's SIGHUP replaces together. The chat and the actions of one server share one, so that a
/// question answered during a reload is never decided by the new roles beside the old protected
/// networks: each decision reads `current` once.
///
/// ```swift
/// let rules = AccessRules(roles: file.chat.roles, actions: file.actions)
/// let chat = ChatService(store: store, adapters: adapters, scripts: scripts, rules: rules)
/// let actions = ActionService(integrations: integrations, store: store, rules: rules, logger: logger)
/// rules.replace(AccessRules.Rules(roles: new.chat.roles, actions: new.actions))  // on SIGHUP
/// ```
public final class AccessRules: Sendable {
    public struct Rules: Sendable, Hashable {
        /// Role → the user ids or names that hold it (`chat.roles`).
        public var roles: [String: [String]]
        public var actions: ActionConfiguration

        public init(roles: [String: [String]] = [:], actions: ActionConfiguration = ActionConfiguration()) {
            self.roles = roles
            self.actions = actions
        }
    }

    /// Read by every chat message and answer: a `Locked`, as the chat's roles were (see its note).
    private let rules: Locked<Rules>

    public init(roles: [String: [String]] = [:], actions: ActionConfiguration = ActionConfiguration()) {
        rules = Locked(Rules(roles: roles, actions: actions))
    }

    /// The rules in use, both parts from the same configuration.
    public var current: Rules { rules.withLock { $0 } }

    /// Puts `new` in use, whole: the next command, answer, approval or plan is decided by it; a
    /// question already asked keeps the roles it named, an approval the channel and timeout it
    /// was asked with.
    public func replace(_ new: Rules) { rules.withLock { $0 = new } }
}
