import Foundation

/// Checks what an action is given against its declaration and the configuration, before
/// anything is sent: each parameter's type (a script's value of it, text read as it) and syntax,
/// no wildcard or control character in an account, the required ones, none unknown, no
/// protected network or account, no network wider than a /8 (IPv4) or a /32 (IPv6). An IPv4
/// address written as IPv6 (`::ffff:10.0.0.1`) is checked as the IPv4 address it is.
struct ActionParameters {
    let declaration: ActionDeclaration
    let policy: ActionConfiguration

    /// Networks wider than these are refused whatever the configuration: blocking or containing
    /// a sixteenth of the Internet is never what an analyst meant.
    static let widestIPv4 = 8
    static let widestIPv6 = 32

    /// The parameters, each of its declared type.
    ///
    /// - Parameter given: values as `JSONSerialization` reads them, or text from the CLI and chat.
    /// - Throws: `ActionError` (`.invalid` for a mistake, `.refused` for what is protected),
    ///   naming the parameter.
    func check(_ given: [String: Any]) throws(ActionError) -> [String: ActionValue] {
        var values: [String: ActionValue] = [:]
        let known = Set(declaration.parameters.map(\.name))
        let takes = "it takes " + (known.isEmpty ? "none" : known.sorted().joined(separator: ", "))
        if let unknown = given.keys.sorted().first(where: { !known.contains($0) }) {
            throw ActionError(.invalid, "\(declaration.name) has no parameter \"\(unknown)\": \(takes)")
        }
        for parameter in declaration.parameters {
            guard let value = given[parameter.name] else {
                if parameter.required {
                    throw ActionError(.invalid, "\(declaration.name) needs \(parameter.name) (\(parameter.kind.rawValue)): \(takes)")
                }
                continue
            }
            values[parameter.name] = try check(value, as: parameter)
        }
        return values
    }

    private func check(_ value: Any, as parameter: ActionParameter) throws(ActionError) -> ActionValue {
        let given = Given(value)
        func invalid(_ expected: String) -> ActionError {
            ActionError(.invalid, "\(declaration.name): \(parameter.name) must be \(expected), got \(given.shown)")
        }
        // Text from the CLI and chat is read as the declared type; a script's value must be of it:
        // 42 for an account was sent as "42", true as "1", json.null as "".
        switch (parameter.kind, given) {
        case (.string, .text(let text)):
            guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && !"\n\r\t".unicodeScalars.contains($0) })
            else { throw invalid("text without control characters") }
            return .string(text)
        case (.string, _):
            throw invalid("text")
        case (.integer, .text(let text)):
            guard let integer = Int64(text) else { throw invalid("a whole number") }
            return .integer(integer)
        case (.integer, .number(let number)):
            guard let integer = Int64(exactly: number) else { throw invalid("a whole number") }
            return .integer(integer)
        case (.integer, _):
            throw invalid("a whole number")
        case (.number, .text(let text)):
            guard let number = Double(text), number.isFinite else { throw invalid("a number") }
            return .number(number)
        case (.number, .number(let number)):
            guard number.isFinite else { throw invalid("a number") }
            return .number(number)
        case (.number, _):
            throw invalid("a number")
        case (.boolean, .boolean(let flag)):
            return .boolean(flag)
        case (.boolean, .text("true")):
            return .boolean(true)
        case (.boolean, .text("false")):
            return .boolean(false)
        case (.boolean, _):
            throw invalid("true or false")
        case (.ip, .text(let text)), (.cidr, .text(let text)):
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard let key = try? IndicatorKey.parse(trimmed, as: .ip) else {
                throw invalid(parameter.kind == .ip ? "an IP address (198.51.100.7, 2001:db8::1)"
                                                    : "an address or network (198.51.100.0/24, 2001:db8::/48)")
            }
            if parameter.kind == .ip, !key.isSingleAddress { throw invalid("one IP address, not a network") }
            try refuseProtected(key, text: trimmed, parameter: parameter)
            return .string(trimmed)
        case (.account, .text(let text)):
            let account = text.trimmingCharacters(in: .whitespaces)
            // A wildcard is a pattern to a directory: disabling "*" is everyone.
            guard !account.isEmpty, !account.unicodeScalars.contains(where: Self.unfitForAName) else {
                throw invalid("one account, without wildcards (*, ?, %) or control characters")
            }
            let name = AccountName(account)
            if let protected = policy.protectedAccounts.first(where: { name.mayBe(AccountName($0)) }) {
                throw ActionError(.refused, "\(declaration.name): \(account) is a protected account (\(protected) in "
                    + "actions.protected.accounts of the configuration): no action may touch it")
            }
            return .string(account)
        case (.host, .text(let text)):
            let host = text.trimmingCharacters(in: .whitespaces)
            guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || "-._:".contains($0) }) else {
                throw invalid("a host name or device id")
            }
            return .string(host)
        case (.ip, _), (.cidr, _):
            throw invalid(parameter.kind == .ip ? "an IP address as text" : "an address or network as text")
        case (.account, _):
            throw invalid("an account as text")
        case (.host, _):
            throw invalid("a host name or device id as text")
        }
    }

    private static func unfitForAName(_ scalar: Unicode.Scalar) -> Bool {
        "*?%".unicodeScalars.contains(scalar) || scalar.properties.generalCategory == .control
    }

    /// A parameter's value as given: text (the CLI, chat, or a script's string), or what a
    /// script's JSON holds.
    private enum Given {
        case text(String)
        case number(Double)
        case boolean(Bool)
        case other(String)

        init(_ value: Any) {
            if let text = value as? String {
                self = .text(text)
            } else if let number = value as? NSNumber {
                // JSONSerialization reads true as an NSNumber, told apart by its type (a C char).
                self = String(cString: number.objCType) == "c" ? .boolean(number.boolValue) : .number(number.doubleValue)
            } else if value is NSNull {
                self = .other("null")
            } else if value is [Any] {
                self = .other("a list")
            } else {
                self = .other("a table")
            }
        }

        /// The value as the error quotes it: text quoted and escaped, else its value and kind.
        var shown: String {
            switch self {
            case .text(let text): JSONText.string(String(text.prefix(80)))
            case .number(let number):
                (number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)) + " (a number)"
            case .boolean(let flag): "\(flag) (a boolean)"
            case .other(let kind): kind
            }
        }
    }

    private func refuseProtected(_ key: IndicatorKey, text: String, parameter: ActionParameter) throws(ActionError) {
        if case .ipv4(_, let length) = key, Int(length) < Self.widestIPv4 {
            throw ActionError(.refused, "\(declaration.name): \(text) is wider than a /\(Self.widestIPv4): "
                + "no action may cover that much of the Internet; name the addresses or a narrower network")
        }
        if case .ipv6(_, let length) = key, Int(length) < Self.widestIPv6 {
            throw ActionError(.refused, "\(declaration.name): \(text) is wider than a /\(Self.widestIPv6): "
                + "no action may cover that much of the Internet; name the addresses or a narrower network")
        }
        if case .ipv6 = key, let v4 = key.ipv4Coverage, v4.prefixLength < Self.widestIPv4 {
            throw ActionError(.refused, "\(declaration.name): \(text) covers \(IPAddress.text(v4: v4.network))/"
                + "\(v4.prefixLength) written as IPv6, wider than a /\(Self.widestIPv4): no action may cover that much "
                + "of the Internet; name the addresses or a narrower network")
        }
        for network in policy.protectedNetworks {
            guard let protected = try? IndicatorKey.parse(network, as: .ip), key.overlaps(protected) else { continue }
            throw ActionError(.refused, "\(declaration.name): \(parameter.name) \(text) is in the protected network "
                + "\(network) (actions.protected.networks in the configuration): no action may touch it")
        }
    }
}

extension IndicatorKey {
    var isSingleAddress: Bool {
        switch self {
        case .ipv4(_, let length): length == 32
        case .ipv6(_, let length): length == 128
        default: false
        }
    }

    /// Whether two addresses or networks share an address, also when one is written as IPv6 and
    /// the other as IPv4 (`::ffff:10.0.0.1`, `64:ff9b::10.0.0.1` are 10.0.0.1: `IPAddress.v4Embeddings`).
    func overlaps(_ other: IndicatorKey) -> Bool {
        if case .ipv6(let a, let aLength) = self, case .ipv6(let b, let bLength) = other {
            let length = Int(min(aLength, bLength))
            if length == 0 || a >> (128 - length) == b >> (128 - length) { return true }
        }
        guard let a = ipv4Coverage, let b = other.ipv4Coverage else { return false }
        let length = min(a.prefixLength, b.prefixLength)
        return length == 0 || a.network >> (32 - length) == b.network >> (32 - length)
    }

    /// The IPv4 addresses this key covers, as one network: an IPv4 key itself, an IPv6 one under
    /// an IPv4 embedding the network it is written for, and all of IPv4 for an IPv6 network wider
    /// than /96 that holds an embedding (`::/32` holds `::ffff:0:0/96`); nil when it covers none.
    var ipv4Coverage: (network: UInt32, prefixLength: Int)? {
        switch self {
        case .ipv4(let network, let length):
            return (network, Int(length))
        case .ipv6(let network, let length) where length < 96:
            let holdsEmbedding = IPAddress.v4Embeddings.contains { length == 0 || $0 >> (128 - length) == network >> (128 - length) }
            return holdsEmbedding ? (0, 0) : nil
        case .ipv6(let network, let length):
            return IPAddress.embeddedV4(network, prefixLength: Int(length))
        default:
            return nil
        }
    }
}
