import Foundation

/// `smtp`: e-mail from integrations, to the relay their configuration names
/// (`smtp://relay.example.com:587`), and to no other host.
///
/// ```lua
/// local id = smtp.send{ server = config.server, from = "soc@example.com", to = { "oncall@example.com" },
///                       subject = "INC-7: host contained", text = "...", message_id = context.idempotency_key,
///                       starttls = "required", ca_file = config.ca_file,
///                       username = config.username, password = config.password }
/// ```
///
/// TLS by STARTTLS (`required` by default, `opportunistic`, or `off` for a relay on a network
/// you trust), the certificate checked against the system's trust store or `ca_file`; a login
/// (AUTH PLAIN or LOGIN) only over TLS. The password is the integration's secret: the script
/// holds its placeholder (`IntegrationSecrets`), which only this module replaces. Every call
/// suspends the run while the message is sent.
public struct SMTPModule: HostModule {
    public let name = "smtp"
    /// `host:port`, lower case.
    let allowedServers: Set<String>
    let secrets: IntegrationSecrets

    public init(allowedServers: [String], secrets: IntegrationSecrets = IntegrationSecrets()) {
        self.allowedServers = Set(allowedServers.map { $0.lowercased() })
        self.secrets = secrets
    }

    public func register(in table: inout ModuleTable) {
        let allowed = allowedServers
        let secrets = secrets
        let concealer = SecretConcealer(secrets.secrets)
        table.waitingFunction("send") { call in
            let message = try SMTPMessage(try call.value(1), secrets: secrets)
            guard allowed.contains("\(message.host):\(message.port)") else {
                throw HostError("\(message.host):\(message.port) is not an allowed SMTP server: name it in the "
                    + "integration's configuration as smtp://HOST:PORT")
            }
            return .task {
                do { try await SMTPSession.deliver(message) } catch let error as HostError {
                    throw HostError(concealer.conceal(error.message))
                }
                return [.string(LuaString(message.messageID))]
            }
        }
    }
}

/// How a message reaches its relay: TLS or not, whom the relay's certificate must be signed by,
/// and the login.
struct SMTPSecurity: Sendable {
    enum StartTLS: String, Sendable {
        /// STARTTLS or nothing is sent.
        case required
        /// STARTTLS when the relay offers it, plain text otherwise.
        case opportunistic
        /// Plain text: a relay on a network you trust.
        case off
    }

    var startTLS = StartTLS.required
    /// A PEM file of the CA(s) the relay's certificate must chain to; nil: the system's trust store.
    var caFile: String?
    var username: String?
    var password: String?
}

/// A plain-text message, checked: addresses and the subject cannot carry a line break (which
/// would add headers or recipients).
struct SMTPMessage: Sendable {
    var host: String
    var port: Int
    var from: String
    var to: [String]
    var subject: String
    var text: String
    var messageID: String
    var security = SMTPSecurity()

    /// - Parameter secrets: what the placeholders in the login stand for.
    init(_ value: LuaValue, secrets: IntegrationSecrets) throws(HostError) {
        guard case .table(let table) = value else { throw .argument(1, "a table expected, as in smtp.send{ server, from, to, subject, text }") }
        func string(_ name: String) throws(HostError) -> String {
            guard case .string(let text) = table[.string(LuaString(name))] else { throw .argument(1, "\(name) must be a string") }
            return text.description
        }
        guard let server = URLComponents(string: try string("server")), server.scheme == "smtp", let host = server.host else {
            throw .argument(1, "server must be smtp://HOST[:PORT]")
        }
        self.host = host.lowercased()
        port = server.port ?? 25
        from = try string("from")
        switch table["to"] {
        case .string(let one): to = [one.description]
        case .table(let list): to = list.array.compactMap { if case .string(let address) = $0 { address.description } else { nil } }
        default: throw .argument(1, "to must be an address or a list of addresses")
        }
        subject = try string("subject")
        text = try string("text")
        func optional(_ name: String) throws(HostError) -> String? {
            switch table[.string(LuaString(name))] {
            case .nil: nil
            case .string(let text) where !text.description.isEmpty: text.description
            case .string: nil
            default: throw .argument(1, "\(name) must be a string")
            }
        }
        if let mode = try optional("starttls") {
            guard let known = SMTPSecurity.StartTLS(rawValue: mode) else {
                throw .argument(1, "starttls must be required, opportunistic or off, not \(mode)")
            }
            security.startTLS = known
        }
        security.caFile = try optional("ca_file")
        security.username = try optional("username").map(secrets.reveal)
        security.password = try optional("password").map(secrets.reveal)
        let id = (try? string("message_id")) ?? UUID().uuidString
        // Letters, digits, - and _ as they are, anything else (the key's /) a dot: an id-left part.
        messageID = "<" + String(id.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) ? $0 : "." })
            + "@automator>"
        for field in [from, subject] + to where field.contains(where: \.isNewline) {
            throw .argument(1, "addresses and the subject must be one line")
        }
        guard !to.isEmpty, (to + [from]).allSatisfy({ $0.contains("@") && !$0.contains(">") && !$0.contains("<") }) else {
            throw .argument(1, "from and to must be e-mail addresses (name@example.com)")
        }
    }

    /// The message as DATA sends it: headers, a blank line, the text with CRLF line ends and
    /// dot-stuffing, ending with a line holding one dot. A lone CR in the text is a line end too:
    /// sent bare, `\r.\r` ends the message at a server that reads CR alone as a line end, and what
    /// follows (an alert's text: `MAIL FROM`, `RCPT TO`, `DATA`) is a second message sent in this
    /// session, under the SOC's login (SMTP smuggling).
    var data: String {
        let date = Self.dateFormat.string(from: Date())
        let subject = subject.allSatisfy(\.isASCII) ? subject
            : "=?utf-8?B?" + Data(subject.utf8).base64EncodedString() + "?="
        var lines = ["From: \(from)", "To: \(to.joined(separator: ", "))", "Subject: \(subject)", "Date: \(date)",
                     "Message-ID: \(messageID)", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                     "Content-Transfer-Encoding: 8bit", ""]
        let body = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
            lines.append(line.hasPrefix(".") ? "." + line : String(line))
        }
        return lines.joined(separator: "\r\n") + "\r\n.\r\n"
    }

    static let dateFormat: DateFormatter = {
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "UTC")
        format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return format
    }()
}
