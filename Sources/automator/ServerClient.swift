import ArgumentParser
import AsyncHTTPClient
import AutomatorRuntime
import AutomatorServer
import Foundation
import NIOCore
import NIOHTTP1

/// How a command reaches a data folder: through the API of the `automator serve` that holds it,
/// or directly, holding the folder's shared lock meanwhile so that no server starts on it.
enum FolderAccess {
    case server(ServerClient)
    case direct(DataFolderLock?)

    /// `--data`'s default.
    static let defaultFolder = "./automator-data"

    /// Refuses a data folder that is not there. The rule: a command makes its data folder only
    /// when starting one is what it is for (`serve`, `incident create`, and the terminal's bot,
    /// `chat` and the REPL's `!` lines, on the default folder, so that a first chat on a new
    /// machine works). Every other command, and the bot with `--data` naming a folder, reads or
    /// investigates what is there: a folder that is not there is a typo, which would otherwise
    /// show an empty folder made by mistake.
    static func requireFolder(_ folder: String) throws {
        guard exists(folder) else {
            throw ValidationError("there is no data folder \(folder): pass --data with the folder automator serve uses")
        }
    }

    /// Whether `folder` is there. A command that only reads the scripts (`action list`, `playbook
    /// list`) needs no data folder: with none, no server holds it and no run of it waits, so it
    /// reads the files rather than refuse.
    static func exists(_ folder: String) -> Bool {
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue
    }

    static func open(_ folder: String) throws(CommandFailure) -> FolderAccess {
        switch DataFolderLock.occupancy(of: folder) {
        case .server(let holder):
            guard let holder, let url = holder.url else {
                throw CommandFailure("the automator serve on \(folder) is starting: try again in a moment")
            }
            let environment = ProcessInfo.processInfo.environment
            guard let token = APIToken.forClient(folder: folder, environment: environment) else {
                throw CommandFailure("no API token for the server at \(url) (pid \(holder.pid)): set "
                    + "\(APIToken.environmentVariable) to the token it was started with")
            }
            return .server(ServerClient(url: url, token: token, folder: folder))
        case .nobody(let lock):
            return .direct(lock)
        }
    }
}

/// The API of the `automator serve` that holds a data folder, for the commands that work on one.
struct ServerClient {
    let url: String
    let token: String
    /// The data folder, to say which server failed.
    let folder: String

    /// A 200 or 201 answer: its body, and the server's version if it says it.
    struct Answer {
        var body: String
        var version: String?

        /// `automator 0.1.0`, or what a server too old to say its version is.
        var server: String { version.map { "automator " + $0 } ?? "an automator too old to say its version" }
    }

    /// The body of a 200 or 201 answer to `METHOD PATH`, sending `body` as JSON. A 404 about
    /// `run` says there is no such run.
    func call(_ method: String, _ path: String, body: String? = nil, run: RunID? = nil) async throws(CommandFailure)
        -> String
    {
        try await answer(method, path, body: body.map { ByteBuffer(string: $0) }, run: run).body
    }

    /// `call` with `bytes` sent as they are: a file's lines, which the server checks line by line.
    /// Made a `String` first, a line's invalid UTF-8 was replaced, and imported, where the same file
    /// on a folder has the line refused.
    func call(_ method: String, _ path: String, bytes: [UInt8]) async throws(CommandFailure) -> String {
        try await answer(method, path, body: ByteBuffer(bytes: bytes)).body
    }

    /// `call`'s answer with the server's version, for a command that reads what a newer or older
    /// server may shape differently.
    func answer(_ method: String, _ path: String, body: ByteBuffer? = nil, run: RunID? = nil)
        async throws(CommandFailure) -> Answer
    {
        var request = HTTPClientRequest(url: url + path)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        // The journal names the person as without a server (`cli:alice`), not as an API client.
        request.headers.add(name: "X-Automator-Actor", value: IncidentBackend.actor)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
        }
        let status: UInt
        let data: Data
        let version: String?
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            status = response.status.code
            version = AutomatorVersion.version(inServerHeader: response.headers.first(name: "Server"))
            data = Data(Array(buffer: try await response.body.collect(upTo: 64 << 20)))
        } catch {
            let why = HTTPFailure.describe(error, timeout: .seconds(30))
            throw CommandFailure("the automator serve holding \(folder) did not answer at \(url) (\(why)): check that "
                + "it is running, or that \(folder)/serve.lock names its address")
        }
        let text = String(decoding: data, as: UTF8.self)
        switch status {
        case 200, 201: return Answer(body: text, version: version)
        case 401:
            throw CommandFailure("the server at \(url) refused the API token: set \(APIToken.environmentVariable) to the "
                + "token it uses")
        default:
            if status == 404, let run { throw CommandFailure("\(RunServiceError.notFound(run))") }
            // The API's messages are written for people, and say what to do.
            if let message = try? JSONDecoder().decode(ErrorBody.self, from: data) { throw CommandFailure(message.error) }
            throw CommandFailure("the server at \(url) answered \(status): \(text)")
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
