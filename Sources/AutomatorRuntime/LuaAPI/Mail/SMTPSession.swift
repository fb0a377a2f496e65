import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// One SMTP conversation (RFC 5321) on SwiftNIO: the greeting, EHLO; STARTTLS and EHLO again
/// (RFC 3207) as `SMTPSecurity` says; AUTH PLAIN or LOGIN (RFC 4954) when a user name is set, only
/// over TLS; then MAIL FROM, RCPT TO for each recipient, DATA, QUIT. The conversation takes at most
/// a minute; a refusal fails with the server's reply, never with the password.
enum SMTPSession {
    static let timeout: TimeAmount = .seconds(60)

    static func deliver(_ message: SMTPMessage) async throws(HostError) {
        let server = "\(message.host):\(message.port)"
        let (replies, continuation) = AsyncThrowingStream<SMTPEvent, any Error>.makeStream()
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(30))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(SMTPReplyDecoder(continuation))
                    }
                }
                .connect(host: message.host, port: message.port).get()
        } catch {
            throw HostError("the SMTP server \(server) refused the connection or could not be reached: \(Self.reason(error))")
        }
        let deadline = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        var conversation = Conversation(channel: channel, server: server, replies: replies.makeAsyncIterator())
        try await conversation.run(message)
    }

    /// An error's gist: NIO's connection errors list every address tried.
    static func reason(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first { return "\(first.error)" }
        return "\(error)"
    }

    private struct Conversation {
        let channel: any Channel
        let server: String
        var replies: AsyncThrowingStream<SMTPEvent, any Error>.AsyncIterator
        var encrypted = false

        mutating func run(_ message: SMTPMessage) async throws(HostError) {
            let security = message.security
            try await step(nil, expect: 220)
            var greeting = try await step("EHLO automator", expect: 250)
            let offersTLS = greeting.keywords.contains("STARTTLS")
            let useTLS = switch security.startTLS {
            case .required: true
            case .opportunistic: offersTLS
            case .off: false
            }
            if useTLS {
                guard offersTLS else {
                    throw HostError("the SMTP server \(server) does not offer STARTTLS, and starttls is required: nothing "
                        + "was sent. Turn on TLS at the relay, or, for a relay on a network you trust, set starttls to "
                        + "opportunistic or off in the integration's configuration")
                }
                try await step("STARTTLS", expect: 220)
                try await startTLS(security)
                greeting = try await step("EHLO automator", expect: 250)
            }
            if let username = security.username {
                try await authenticate(username, security.password ?? "", offered: greeting.authMechanisms)
            }
            try await step("MAIL FROM:<\(message.from)>", expect: 250)
            for recipient in message.to { try await step("RCPT TO:<\(recipient)>", expect: 250) }
            try await step("DATA", expect: 354)
            try await send(message.data)
            try await step(nil, expect: 250)
            _ = try? await step("QUIT", expect: 221)
        }

        private mutating func startTLS(_ security: SMTPSecurity) async throws(HostError) {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let caFile = security.caFile {
                guard FileManager.default.isReadableFile(atPath: caFile) else {
                    throw HostError("ca_file \(caFile) cannot be read: give the PEM file of the CA that signed the relay's "
                        + "certificate, or leave ca_file out to use the system's trust store")
                }
                configuration.trustRoots = .file(caFile)
            }
            let channel = channel
            let host = String(server.prefix(upTo: server.lastIndex(of: ":") ?? server.endIndex))
            // An address is checked against the certificate's IP names; a name also goes in SNI.
            let name = (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
            do {
                let context = try NIOSSLContext(configuration: configuration)
                try await channel.eventLoop.submit {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: name),
                                                                   position: .first)
                }.get()
            } catch {
                throw HostError("TLS with the SMTP server \(server) could not start: \(error)")
            }
            encrypted = true
            guard case .secured = try await next() else {
                throw HostError("the SMTP server \(server) spoke before TLS was set up: not an SMTP server?")
            }
        }

        /// AUTH PLAIN if the server offers it, else LOGIN; only over TLS.
        private mutating func authenticate(_ username: String, _ password: String, offered: Set<String>)
            async throws(HostError)
        {
            guard encrypted else {
                throw HostError("the SMTP password is not sent to \(server) without TLS: nothing was sent. Use a relay "
                    + "that offers STARTTLS, with starttls set to required")
            }
            func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
            if offered.contains("PLAIN") {
                try await step("AUTH PLAIN " + base64("\0\(username)\0\(password)"), shown: "AUTH PLAIN", expect: 235,
                               refusal: Self.refusedLogin)
            } else if offered.contains("LOGIN") {
                try await step("AUTH LOGIN", expect: 334)
                try await step(base64(username), shown: "the user name", expect: 334, refusal: Self.refusedLogin)
                try await step(base64(password), shown: "the password", expect: 235, refusal: Self.refusedLogin)
            } else {
                throw HostError("the SMTP server \(server) offers no login this client speaks (AUTH PLAIN or LOGIN)"
                    + (offered.isEmpty ? ", or none at all: leave username out" : ": it offers " + offered.sorted().joined(separator: ", ")))
            }
        }

        static let refusedLogin = "the user name or the password was refused: check username and the password's secret "
            + "in the integration's configuration"

        /// Sends `command` (nil: only reads, as for the greeting) and returns the reply, which must
        /// have `code`. `shown` stands for the command in errors (a login's own words never appear).
        @discardableResult
        private mutating func step(_ command: String?, shown: String? = nil, expect code: Int, refusal: String? = nil)
            async throws(HostError) -> SMTPReply
        {
            if let command { try await send(command + "\r\n") }
            guard case .reply(let reply) = try await next() else {
                throw HostError("the SMTP server \(server) did not answer \((shown ?? command).map { "'\($0.prefix(40))'" } ?? "")")
            }
            guard reply.code == code else {
                let said = (shown ?? command).map { "'\($0.prefix(40))'" } ?? "the connection"
                throw HostError("the SMTP server \(server) answered \(said) with \(reply.code) \(reply.text)"
                    + (refusal.map { ": " + $0 } ?? ""))
            }
            return reply
        }

        private mutating func next() async throws(HostError) -> SMTPEvent {
            let event: SMTPEvent?
            do { event = try await replies.next() } catch { throw failure(error) }
            guard let event else { throw HostError("the SMTP server \(server) closed the connection or did not answer in time") }
            return event
        }

        private func send(_ text: String) async throws(HostError) {
            do { try await channel.writeAndFlush(ByteBuffer(string: text)) } catch { throw failure(error) }
        }

        private func failure(_ error: any Error) -> HostError {
            HostError(encrypted
                ? "TLS with the SMTP server \(server) failed: \(error). If the relay's certificate is signed by a CA of "
                    + "your own, set ca_file to its PEM file"
                : "the SMTP connection with \(server) broke: \(error)")
        }
    }
}

/// What the connection gives the conversation: a reply, or the news that TLS is set up.
enum SMTPEvent: Sendable {
    case reply(SMTPReply)
    case secured
}

/// A server's reply: its code and its lines' text.
struct SMTPReply: Sendable {
    var code: Int
    var lines: [String]

    var text: String { lines.joined(separator: " ") }
    /// EHLO's extensions (`STARTTLS`, `AUTH PLAIN LOGIN`), upper case, without the greeting line.
    var keywords: Set<String> { Set(lines.dropFirst().map { $0.uppercased() }) }
    /// The mechanisms EHLO's `AUTH` line names.
    var authMechanisms: Set<String> {
        Set(keywords.filter { $0.hasPrefix("AUTH ") || $0.hasPrefix("AUTH=") }.flatMap { $0.dropFirst(5).split(separator: " ").map(String.init) })
    }
}

/// Turns the server's lines into replies (`250-…` goes on, `250 …` ends one), in order, and tells
/// when TLS is set up; a failure of the connection (a TLS handshake refused) ends them with its error.
private final class SMTPReplyDecoder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let continuation: AsyncThrowingStream<SMTPEvent, any Error>.Continuation
    private var buffer: [UInt8] = []
    private var lines: [String] = []

    init(_ continuation: AsyncThrowingStream<SMTPEvent, any Error>.Continuation) { self.continuation = continuation }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        buffer += unwrapInboundIn(data).readableBytesView
        while let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: buffer[..<end], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            buffer.removeSubrange(...end)
            lines.append(String(line.dropFirst(4)))
            let bytes = Array(line.utf8)
            if bytes.count < 4 || bytes[3] != UInt8(ascii: "-") {
                continuation.yield(.reply(SMTPReply(code: Int(line.prefix(3)) ?? 0, lines: lines)))
                lines = []
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { continuation.yield(.secured) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }
}
