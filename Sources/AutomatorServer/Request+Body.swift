import Hummingbird

extension Request {
    /// What the endpoints that take a small JSON object (a token's name, an action, an answer, a
    /// command) read of a body.
    static let smallBodyLimit = 64 << 10

    /// The body, at most `limit` bytes.
    ///
    /// - Parameter tooLarge: the 413's message past the limit: what to send instead.
    /// - Throws: a 413 with `tooLarge`; Hummingbird's own has no body, where every error of the API
    ///   says what to do.
    func collectBody(upTo limit: Int, tooLarge: @autoclosure () -> String) async throws -> ByteBuffer {
        do { return try await body.collect(upTo: limit) } catch let error as any HTTPResponseError
            where error.status == .contentTooLarge
        {
            throw APIError(status: .contentTooLarge, message: tooLarge())
        }
    }

    /// The body of an endpoint that takes a small JSON object, such as `example`, at most
    /// `smallBodyLimit` bytes.
    func smallBody(example: String) async throws -> ByteBuffer {
        try await collectBody(upTo: Self.smallBodyLimit, tooLarge: "the request body is over the limit of "
            + "\(Self.smallBodyLimit >> 10) KiB: send a small JSON object, such as \(example)")
    }
}
