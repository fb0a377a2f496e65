public import Foundation
import Yams

/// The `actions` section of the configuration file: which actions wait for a person, and what
/// no action may ever touch.
///
/// ```yaml
/// actions:
///   approval:
///     risk: high                 # actions at or above it wait for an approver (chat.roles.approver)
///     channel: "#soc"            # where the question is asked
///     timeout: 1h                # unanswered by then: not approved
///   protected:
///     networks: [10.0.0.0/8, 192.168.0.0/16, 203.0.113.0/24]   # never blocked, never contained
///     accounts: [admin@example.com, breakglass]                 # never disabled
/// ```
public struct ActionConfiguration: Sendable, Hashable {
    /// Actions at or above this risk need an approval; nil: none does.
    public var approvalRisk: ActionRisk? = .high
    public var approvalChannel: String?
    public var approvalTimeout: TimeInterval = 3600
    /// Addresses and networks (`10.0.0.0/8`) that an `ip` or `cidr` parameter may not touch.
    public var protectedNetworks: [String] = []
    /// Accounts that an `account` parameter may not name, compared without case.
    public var protectedAccounts: [String] = []

    public init() {}

    /// Reads the `actions` section of `path` (the other sections are read by their own types).
    ///
    /// - Throws: `ConfigurationError` naming the file, the line and the key.
    public init(file path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError)
    {
        guard let (reader, root) = try ConfigurationReader.root(of: path, environment: environment),
              let section = root["actions"]
        else { return }
        let fields = try reader.mapping(section, key: "actions")
        try reader.only(["approval", "protected"], in: fields, key: "actions")
        if let node = fields["approval"] {
            let approval = try reader.mapping(node, key: "actions.approval")
            try reader.only(["risk", "channel", "timeout"], in: approval, key: "actions.approval")
            if let risk = approval["risk"] {
                let text = try reader.string(risk, key: "actions.approval.risk")
                guard text == "none" || ActionRisk(rawValue: text) != nil else {
                    throw reader.error(risk, "actions.approval.risk", "low, medium, high, critical or none expected")
                }
                approvalRisk = ActionRisk(rawValue: text)
            }
            if let channel = approval["channel"] {
                approvalChannel = try reader.string(channel, key: "actions.approval.channel")
            }
            if let timeout = approval["timeout"] {
                guard let seconds = DurationText.seconds(try reader.string(timeout, key: "actions.approval.timeout")),
                      seconds > 0
                else { throw reader.error(timeout, "actions.approval.timeout", DurationText.expected) }
                approvalTimeout = seconds
            }
        }
        if let node = fields["protected"] {
            let protected = try reader.mapping(node, key: "actions.protected")
            try reader.only(["networks", "accounts"], in: protected, key: "actions.protected")
            if let networks = protected["networks"] {
                for item in try reader.sequence(networks, key: "actions.protected.networks") {
                    let text = try reader.string(item, key: "actions.protected.networks")
                    guard (try? IndicatorKey.parse(text, as: .ip)) != nil else {
                        throw reader.error(item, "actions.protected.networks", "an address or network such as 10.0.0.0/8 expected")
                    }
                    protectedNetworks.append(text)
                }
            }
            if let accounts = protected["accounts"] {
                protectedAccounts = try reader.sequence(accounts, key: "actions.protected.accounts").map {
                    item throws(ConfigurationError) in try reader.string(item, key: "actions.protected.accounts")
                }
            }
        }
    }
}
