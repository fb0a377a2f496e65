import Hummingbird

/// A request's context on the server: Hummingbird's, and who sent the request.
struct APIRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Set by `BearerAuthentication`; nil on the routes it does not guard (`/healthz`, Slack's),
    /// which name no one.
    var caller: Caller?

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
    }

    /// Who sent the request, for the routes behind `BearerAuthentication`.
    var authenticated: Caller {
        guard let caller else { preconditionFailure("a route that names its caller is behind BearerAuthentication") }
        return caller
    }
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
