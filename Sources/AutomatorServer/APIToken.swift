import AutomatorRuntime
import Foundation

/// The secret every `/api/` request carries as `Authorization: Bearer TOKEN`.
///
/// It is `$AUTOMATOR_API_TOKEN` when set; otherwise the server makes one on its first start
/// (32 random bytes, in hexadecimal) and keeps it in the data folder's `api-token` file, mode
/// 0600, where later starts and `automator runs` read it.
package enum APIToken {
    package static let environmentVariable = "AUTOMATOR_API_TOKEN"
    package static let fileName = "api-token"

    /// Where a server's token comes from.
    package enum Source {
        case environment
        /// The token file, made by this start when `created`.
        case file(path: String, created: Bool)
    }

    /// The server's token, made if there is none yet.
    ///
    /// - Throws: `ServeError` if the file cannot be read or written, is empty, or can be read
    ///   by other users.
    package static func forServer(folder: String, environment: [String: String]) throws(ServeError)
        -> (token: String, source: Source)
    {
        if let token = environment[environmentVariable], !token.isEmpty { return (token, .environment) }
        let path = self.path(in: folder)
        if let token = try made(at: path) { return (token, .file(path: path, created: true)) }
        return (try read(path), .file(path: path, created: false))
    }

    /// The token a client sends: `$AUTOMATOR_API_TOKEN`, else the data folder's file; nil if neither.
    package static func forClient(folder: String, environment: [String: String]) -> String? {
        if let token = environment[environmentVariable], !token.isEmpty { return token }
        return (try? String(contentsOfFile: path(in: folder), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    package static func path(in folder: String) -> String {
        URL(fileURLWithPath: folder).appendingPathComponent(fileName).path
    }

    /// Makes the file with a new token, unless it exists; returns the token it made.
    private static func made(at path: String) throws(ServeError) -> String? {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor < 0, errno == EEXIST { return nil }
        guard descriptor >= 0 else { throw .tokenFile(path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        let token = PersonalToken.newSecret()
        let line = Array((token + "\n").utf8)
        guard write(descriptor, line, line.count) == line.count, fsync(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw .tokenFile(path, reason: reason)
        }
        return token
    }

    private static func read(_ path: String) throws(ServeError) -> String {
        let mode: Int
        do {
            mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? 0
        } catch {
            throw .tokenFile(path, reason: "\(error.localizedDescription)")
        }
        guard mode & 0o077 == 0 else { throw .tokenFileExposed(path, mode: String(mode & 0o777, radix: 8)) }
        let contents: String
        do { contents = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .tokenFile(path, reason: "\(error.localizedDescription)")
        }
        let token = contents.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw .tokenFileEmpty(path) }
        return token
    }
}
