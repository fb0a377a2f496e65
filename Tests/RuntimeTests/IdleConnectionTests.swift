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

    @Test("A body that trickles in slower than 500 bytes a second is cut once the timeout has passed; a slow honest one is not")
    func trickle() throws {
        let (trickling, loop) = try Self.connection()
        try trickling.writeInbound(Self.runs)
        for _ in 0 ..< 2 {
            loop.advanceTime(by: .seconds(37))
            try trickling.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "{")))
        }
        #expect(trickling.isActive, "74 s into its request, two bytes in")
        loop.advanceTime(by: .seconds(1))
        #expect(!trickling.isActive, "a byte every 37 s never stalls for the idle timeout, but is far below the rate")

        let (slow, clock) = try Self.connection()
        try slow.writeInbound(Self.runs)
        for _ in 0 ..< 300 {
            clock.advanceTime(by: .seconds(2))
            try slow.writeInbound(HTTPRequestPart.body(ByteBuffer(repeating: 0x20, count: 1_000)))
        }
        #expect(slow.isActive, "600 s at 500 bytes a second")
        try slow.writeInbound(HTTPRequestPart.end(nil))
        clock.advanceTime(by: .seconds(600))
        #expect(slow.isActive, "read whole, waiting for its answer")
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
