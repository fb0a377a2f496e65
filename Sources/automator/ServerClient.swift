import AsyncHTTPClient
import AutomatorRuntime
import AutomatorServer
import Foundation
import NIOCore
import NIOHTTP1

/// The API of the `automator serve` that holds a data folder, for `automator runs`.
struct ServerClient {
    let url: String
    let token: String
    /// The data folder, to say which server failed.
    let folder: String

    /// The body of a 200 answer to `METHOD PATH`. A 404 about `run` says there is no such run.
    func call(_ method: String, _ path: String, run: RunID? = nil) async throws(RunsFailure) -> String {
        var request = HTTPClientRequest(url: url + path)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let status: UInt
        let data: Data
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            status = response.status.code
            data = Data(Array(buffer: try await response.body.collect(upTo: 64 << 20)))
        } catch {
            throw RunsFailure("the automator serve holding \(folder) did not answer at \(url) (\(error)): check that "
                + "it is running, or that \(folder)/serve.lock names its address")
        }
        let body = String(decoding: data, as: UTF8.self)
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
