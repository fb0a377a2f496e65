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
    /// Accounts that an `account` parameter may not name, compared as `AccountName`s (without
    /// case, a `DOMAIN\` prefix or a trailing dot; a bare name at any domain).
    public var protectedAccounts: [String] = []

    public init() {}

    /// Reads the `actions` section of `path` (the other sections are read by their own types).
    ///
    /// - Throws: `ConfigurationError` naming the file, the line and the key of every bad value.
    public init(file path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError)
    {
        self = try ConfigurationReader.read(path, environment: environment, Self.init(reading:with:)) ?? Self()
    }

    /// Reads the `actions` section of `root`, reporting its bad values to `reader`.
    init(reading root: ConfigurationMapping, with reader: ConfigurationReader) {
        guard let section = root["actions"], let fields = reader.mapping(section) else { return }
        reader.only(["approval", "protected"], in: fields)
        if let node = fields["approval"], let approval = reader.mapping(node) {
            reader.only(["risk", "channel", "timeout"], in: approval)
            if let risk = approval["risk"], let text = reader.string(risk) {
                if text == "none" || ActionRisk(rawValue: text) != nil {
                    approvalRisk = ActionRisk(rawValue: text)
                } else {
                    reader.report(risk, "low, medium, high, critical or none expected")
                }
            }
            if let channel = approval["channel"] { approvalChannel = reader.string(channel) }
            if let timeout = approval["timeout"], let seconds = reader.duration(timeout) { approvalTimeout = seconds }
        }
        if let node = fields["protected"], let protected = reader.mapping(node) {
            reader.only(["networks", "accounts"], in: protected)
            if let networks = protected["networks"] {
                for item in reader.sequence(networks) ?? [] {
                    guard let text = reader.string(item) else { continue }
                    guard (try? IndicatorKey.parse(text, as: .ip)) != nil else {
                        reader.report(item, "an address or network such as 10.0.0.0/8 expected")
                        continue
                    }
                    protectedNetworks.append(text)
                }
            }
            if let accounts = protected["accounts"] { protectedAccounts = reader.strings(accounts) ?? [] }
        }
    }
}
