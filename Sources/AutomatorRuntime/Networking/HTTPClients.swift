public import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// HTTP clients of one configuration, one a proxy (AsyncHTTPClient takes one proxy a client):
/// `client(for:)` gives the one a URL goes through, by `OutboundProxy`. Made once for the
/// process, never shut down.
///
/// Each keeps up to 64 connections a host (`connectionsPerHost`), whatever the configuration says.
/// AsyncHTTPClient's default of 8 starves: a few slow calls to a host (an integration's
/// timeouts, Slack's file downloads) held every other call to it in the pool's queue. And a
/// queued request costs CPU besides its wait: 140 µs a request on loopback from 32 callers with
/// 8 connections, 75 µs with 32 (`HTTPClientBenchmark`), which the bot pays for each answer it
/// posts (docs/BENCHMARKS.md, "Chat").
public final class HTTPClients: Sendable {
    /// Connections kept per host, and how long an idle one stays open.
    static let connectionsPerHost = 64
    static let idleTimeout = TimeAmount.seconds(60)

    private let configuration: HTTPClient.Configuration
    private let proxy: OutboundProxy
    private let direct: HTTPClient
    private let proxied = Locked<[OutboundProxy.Server: HTTPClient]>([:])

    /// The default configuration: what Matrix uses.
    public static let shared = HTTPClients(configuration: HTTPClient.Configuration())

    public init(configuration: HTTPClient.Configuration, proxy: OutboundProxy = .environment) {
        var configuration = configuration
        // The pool's other settings are the configuration's (retryConnectionEstablishment: the http
        // module's requests, Matrix's long poll).
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = Self.connectionsPerHost
        configuration.connectionPool.idleTimeout = Self.idleTimeout
        self.configuration = configuration
        self.proxy = proxy
        direct = Self.make(configuration)
    }

    /// The client `url` goes through. Without a proxy (most machines) the URL is not even read:
    /// this is on every request's path.
    public func client(for url: String) -> HTTPClient {
        guard proxy.https != nil || proxy.http != nil, let parsed = URL(string: url), let scheme = parsed.scheme, let host = parsed.host,
              let server = proxy.server(scheme: scheme, host: host)
        else { return direct }
        return proxied.withLock { clients in
            if let client = clients[server] { return client }
            var configuration = self.configuration
            configuration.proxy = .server(host: server.host, port: server.port,
                                          authorization: server.username.map { .basic(username: $0, password: server.password ?? "") })
            let client = Self.make(configuration)
            clients[server] = client
            return client
        }
    }

    /// For clients made for a while (a test's): the shared ones live as long as the process.
    public func shutdown() async throws {
        try await direct.shutdown()
        for client in proxied.withLock({ Array($0.values) }) { try await client.shutdown() }
    }

    private static func make(_ configuration: HTTPClient.Configuration) -> HTTPClient {
        HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration,
                   backgroundActivityLogger: Logger(label: "automator.http") { _ in SwiftLogNoOpLogHandler() })
    }
}
