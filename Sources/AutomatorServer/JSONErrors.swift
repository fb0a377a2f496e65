import Hummingbird
import Logging

/// Every error as `{"error": "..."}`: Hummingbird's own (a path no route has) and anything
/// unexpected (500), besides the routes' `APIError`s.
struct JSONErrors<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            throw APIError.notFound("no endpoint \(request.method) \(request.uri.path): automator serve --help "
                + "lists the API's")
        } catch let error as HTTPError {
            throw APIError(status: error.status, message: error.body ?? error.status.reasonPhrase)
        } catch let error where !(error is any HTTPResponseError) {
            context.logger.error("request failed: \(error)")
            throw APIError(status: .internalServerError, message: "the server failed (\(error)): see its log")
        }
    }
}
