@testable import AutomatorServer
import Hummingbird
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@Suite("Idle connections: closed after the timeout, unless a request read whole is being answered")
struct IdleConnectionTests {
    /// A connection with the handler, on a loop whose clock the test moves.
    static func connection() throws -> (EmbeddedChannel, EmbeddedEventLoop) {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(handler: IdleConnectionHandler(timeout: .seconds(75)), loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        return (channel, loop)
    }

    static let runs = HTTPRequestPart.head(HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/api/v1/runs"))

    @Test("A connection that sends nothing, or stops in the middle of a request (a slowloris), is closed after the timeout")
    func silent() throws {
        let (silent, loop) = try Self.connection()
        loop.advanceTime(by: .seconds(74))
        #expect(silent.isActive)
        loop.advanceTime(by: .seconds(1))
        #expect(!silent.isActive)

        let (stalled, clock) = try Self.connection()
        clock.advanceTime(by: .seconds(70))
        try stalled.writeInbound(Self.runs)
        clock.advanceTime(by: .seconds(74))
        #expect(stalled.isActive, "its head came 74 s ago")
        clock.advanceTime(by: .seconds(1))
        #expect(!stalled.isActive, "its body never came")
    }

    @Test("A request read whole is answered however long it takes; the timeout starts again at its answer")
    func answering() throws {
        let (channel, loop) = try Self.connection()
        try channel.writeInbound(Self.runs)
        try channel.writeInbound(HTTPRequestPart.end(nil))
        loop.advanceTime(by: .seconds(600))
        #expect(channel.isActive)
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .created)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        loop.advanceTime(by: .seconds(74))
        #expect(channel.isActive, "kept for the client's next request")
        loop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }
}
