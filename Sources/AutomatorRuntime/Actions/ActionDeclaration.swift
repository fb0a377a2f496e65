public import Foundation

/// One action an integration declares (`actions = { block_ip = { ... } }`): what it takes, how
/// much harm it can do, and what reverses it.
public struct ActionDeclaration: Sendable, Hashable {
    /// `checkpoint.block_ip`: the integration file's name, a dot, the action's name.
    public var name: String
    public var integration: String
    public var action: String
    public var description: String
    public var risk: ActionRisk
    public var parameters: [ActionParameter]
    /// The action of the same integration that reverses this one, given the same parameters.
    public var undo: String?
    /// How long the action lasts before its undo runs by itself.
    public var ttl: TimeInterval?
    /// It may run on a closed incident (`on_closed = true`): it takes the close to the tool the
    /// incident came from (closing the Sentinel incident), which is no acting on the case.
    public var onClosed = false
}

/// How much harm an action can do when it is wrong; at or above the configured level, it waits
/// for a person's approval.
public enum ActionRisk: String, Sendable, Hashable, Comparable, CaseIterable {
    case low, medium, high, critical

    private var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (lhs: ActionRisk, rhs: ActionRisk) -> Bool { lhs.rank < rhs.rank }
}

/// A parameter of an action, checked before anything is sent.
public struct ActionParameter: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Any text.
        case string
        case integer, number, boolean
        /// An IPv4 or IPv6 address.
        case ip
        /// An address or a network (`198.51.100.0/24`).
        case cidr
        /// A user account (a name, an e-mail address, an id): refused when protected.
        case account
        /// A host name or a device id.
        case host
    }

    public var name: String
    public var kind: Kind
    public var required: Bool
    public var description: String
}

extension ActionDeclaration {
    /// The action called `name` in `catalog`; else an error that names the action a typo meant and
    /// lists the actions, or says why an integration is not in use (`leftOut`). The actions of
    /// integrations not set up (`off`) are meant too, so `checkpont.block_ip` is told of
    /// `checkpoint.block_ip` and of the settings Check Point needs, not only that none is in use.
    static func named(_ name: String, in catalog: [ActionDeclaration], off: [ActionDeclaration] = [],
                      leftOut: [Integrations.Problem] = []) throws(ActionError) -> ActionDeclaration
    {
        if let declaration = catalog.first(where: { $0.name == name }) { return declaration }
        func problem(of integration: String) -> String? {
            leftOut.first(where: { $0.path == "integrations/\(integration).lua" })?.message
        }
        let integration = String(name.prefix { $0 != "." })
        if off.contains(where: { $0.name == name }) || !off.contains(where: { $0.integration == integration }),
           let problem = problem(of: integration)
        {
            throw ActionError(.invalid, "\(name) cannot run: the integration \(integration) is not in use: \(problem)")
        }
        let names = catalog.map(\.name)
        if let meant = Typo.meant(by: name, among: names + off.map(\.name)),
           let declared = off.first(where: { $0.name == meant }), let problem = problem(of: declared.integration)
        {
            throw ActionError(.invalid, "there is no action \(name) (did you mean \(meant)?): the integration "
                + "\(declared.integration) is not in use: \(problem)")
        }
        let meant = Typo.meant(by: name, among: names).map { " (did you mean \($0)?)" } ?? ""
        let theirs = off.filter { $0.integration == integration }.map(\.name)
        if !theirs.isEmpty, let problem = problem(of: integration) {
            throw ActionError(.invalid, "there is no action \(name)\(meant): the actions of \(integration) are "
                + theirs.joined(separator: ", ") + ", and it is not in use: \(problem)")
        }
        let notSetUp = Set(off.map(\.integration)).sorted()
        throw ActionError(.invalid, "there is no action \(name)\(meant): "
            + (!names.isEmpty ? "the actions are " + names.joined(separator: ", ")
                : notSetUp.isEmpty ? "no integration in use in scripts/integrations declares actions"
                : "no integration in use declares actions, and those that do are not set up: "
                    + notSetUp.joined(separator: ", ") + " (automator check --config FILE names what each needs)"))
    }

    /// How long a call's action lasts before its undo runs by itself: the call's ttl when it asks
    /// for one, longer or shorter than the declaration's (the responder knows the case; the
    /// declaration is a default), else the declaration's; nil for an action that stays.
    ///
    /// - Throws: `.invalid` for a ttl that is not a positive duration, or on an action with no undo.
    func lifetime(asked ttl: String?) throws(ActionError) -> TimeInterval? {
        guard let ttl else { return self.ttl }
        guard let seconds = DurationText.seconds(ttl), seconds > 0 else {
            throw ActionError(.invalid, "\(name): ttl must be \(DurationText.expected), and more than 0, got \"\(ttl)\"")
        }
        guard undo != nil else {
            throw ActionError(.invalid, "\(name) has no undo, so it cannot lift by itself: leave out the ttl (and undo it "
                + "by hand), or declare an undo for it in its integration")
        }
        return seconds
    }

    /// Reads the actions of an integration's declaration, as the catalog's inspector gives them
    /// (JSON already checked by `integration { }`).
    static func all(in info: [String: Any], integration: String) -> [String: ActionDeclaration] {
        var actions: [String: ActionDeclaration] = [:]
        for (action, spec) in info["actions"] as? [String: [String: Any]] ?? [:] {
            let parameters = (spec["params"] as? [String: [String: Any]] ?? [:]).map { name, parameter in
                ActionParameter(name: name, kind: (parameter["type"] as? String).flatMap(ActionParameter.Kind.init) ?? .string,
                                required: parameter["required"] as? Bool ?? false,
                                description: parameter["description"] as? String ?? "")
            }.sorted { $0.name < $1.name }
            actions[action] = ActionDeclaration(
                name: integration + "." + action, integration: integration, action: action,
                description: spec["description"] as? String ?? "",
                risk: (spec["risk"] as? String).flatMap(ActionRisk.init) ?? .high, parameters: parameters,
                undo: spec["undo"] as? String, ttl: (spec["ttl"] as? String).flatMap { DurationText.seconds($0) },
                onClosed: spec["on_closed"] as? Bool ?? false)
        }
        return actions
    }
}
