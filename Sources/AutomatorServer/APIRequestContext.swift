import Hummingbird
import NIOCore

/// A request's context on the server: Hummingbird's, and who sent the request.
struct APIRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The connection's peer, for the log's line on a refused request.
    let remoteAddress: SocketAddress?
    /// Set by `BearerAuthentication`; nil on the routes it does not guard (`/healthz`, Slack's),
    /// which name no one.
    var caller: Caller?

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Who sent the request, for the routes behind `BearerAuthentication`.
    var authenticated: Caller {
        guard let caller else { preconditionFailure("a route that names its caller is behind BearerAuthentication") }
        return caller
    }
}

extension RemoteAddressRequestContext {
    /// The peer as the log names it: `10.0.0.7:51522`.
    var peer: String? { remoteAddress?.peer }
}

extension SocketAddress {
    /// As the log names a peer: `10.0.0.7:51522`.
    var peer: String { "\(ipAddress ?? "?"):\(port ?? 0)" }
}

/// Who holds the token a request carries.
enum Caller: Sendable, Hashable {
    /// The server's shared token: an operator, as powerful as access to the data folder. May name
    /// anyone in `"by"`, and the CLI's person in `X-Automator-Actor`; manages personal tokens.
    case `operator`
    /// A personal token (`automator token add NAME`): this person or integration, and no one else.
    case person(String)

    /// The personal token's name; nil for the operator.
    var person: String? {
        if case .person(let name) = self { return name }
        return nil
    }
}
