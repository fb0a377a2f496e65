import AutomatorRuntime
import Hummingbird

/// A request the API refuses: `{"error": "..."}` with its status, the message saying what to do.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String
    var headers: HTTPFields = [:]

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Response.json(#"{"error":\#(JSONText.string(message))}"#, status: status)
        response.headers.append(contentsOf: headers)
        return response
    }

    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, message: message) }

    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, message: message) }

    /// A failure of the store (a full disk, a read-only file): the server stays up, and the
    /// request can be tried again once the cause is fixed.
    static func store(_ error: StoreError) -> APIError { APIError(status: .serviceUnavailable, message: "\(error)") }
}

extension Response {
    /// A response with a JSON body.
    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
