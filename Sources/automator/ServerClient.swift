import AutomatorRuntime
import AutomatorServer
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The API of the `automator serve` that holds a data folder, for `automator runs`.
struct ServerClient {
    let url: String
    let token: String
    /// The data folder, to say which server failed.
    let folder: String

    /// The body of a 200 answer to `METHOD PATH`. A 404 about `run` says there is no such run.
    func call(_ method: String, _ path: String, run: RunID? = nil) async throws(RunsFailure) -> String {
        guard let endpoint = URL(string: url + path) else {
            throw RunsFailure("the address \(url + path) in \(folder)/serve.lock is not valid: restart automator serve")
        }
        var request = URLRequest(url: endpoint)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let data: Data
        let response: URLResponse
        do { (data, response) = try await URLSession.shared.data(for: request) } catch {
            throw RunsFailure("the automator serve holding \(folder) did not answer at \(url) "
                + "(\(error.localizedDescription)): check that it is running")
        }
        let body = String(decoding: data, as: UTF8.self)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        switch status {
        case 200: return body
        case 401:
            throw RunsFailure("the server at \(url) refused the API token: set \(APIToken.environmentVariable) to the "
                + "token it uses")
        default:
            if status == 404, let run { throw RunsFailure("\(RunServiceError.notFound(run))") }
            // The API's messages are written for people, and say what to do.
            if let message = try? JSONDecoder().decode(ErrorBody.self, from: data) { throw RunsFailure(message.error) }
            throw RunsFailure("the server at \(url) answered \(status): \(body)")
        }
    }

    /// `text` escaped for one segment of a path.
    static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(["-", "_"])) ?? text
    }

    private struct ErrorBody: Decodable {
        var error: String
    }
}
