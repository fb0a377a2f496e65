public import Foundation

/// An action checked and ready: its declaration, its parameters as checked, how long it lasts, and
/// whether it waits for a person's approval.
public struct ActionPlan: Sendable, Hashable {
    public enum Approval: String, Sendable, Hashable {
        /// Below the configured risk.
        case notNeeded = "not needed"
        /// The playbook approved this action in its declaration (`approvals = { ... }`).
        case standing
        /// An approver must say yes first.
        case required
    }

    public var declaration: ActionDeclaration
    public var parameters: [String: ActionValue]
    public var approval: Approval
    /// How long it lasts before its undo runs by itself: the call's ttl when it gave one (longer or
    /// shorter than the declaration's), else the declaration's; nil for an action that stays.
    public var ttl: TimeInterval?

    /// Said under its approval's question, for an action that lifts by itself: what the approver
    /// agrees to includes how long it lasts.
    public var approvalNote: String? {
        ttl.map { "If approved, its undo runs by itself \(DurationText.text($0)) after it is sent." }
    }

    /// The parameters as sent and stored.
    public var parametersJSON: String { ActionValue.json(parameters) }

    /// `checkpoint.block_ip ip=198.51.100.7 reason=phishing`, for people.
    public var summary: String {
        ([declaration.name] + parameters.keys.sorted().map { "\($0)=\(parameters[$0]!.text)" }).joined(separator: " ")
    }
}
