import Hummingbird

/// Lets a request through only with `Authorization: Bearer TOKEN` and the server's token;
/// otherwise 401 with `WWW-Authenticate: Bearer`, before any route runs.
struct BearerAuthentication<Context: RequestContext>: RouterMiddleware {
    private let token: [UInt8]

    init(token: String) { self.token = Array(token.utf8) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let header = request.headers[.authorization], header.count > 7,
              header.prefix(7).lowercased() == "bearer ",
              Self.equalInConstantTime(Array(header.dropFirst(7).utf8), token)
        else {
            throw APIError(status: .unauthorized,
                           message: "this needs the API token: send Authorization: Bearer TOKEN, with the token from "
                               + "AUTOMATOR_API_TOKEN or the api-token file in the server's data folder",
                           headers: [.wwwAuthenticate: #"Bearer realm="automator""#])
        }
        return try await next(request, context)
    }

    /// Compares every byte whatever the first difference, so the time taken does not say how
    /// much of a guess was right (only whether its length was).
    static func equalInConstantTime(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        guard given.count == expected.count else { return false }
        var difference: UInt8 = 0
        for index in expected.indices { difference |= given[index] ^ expected[index] }
        return difference == 0
    }
}
