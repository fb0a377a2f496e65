import Foundation

/// The password of a PostgreSQL location, found as libpq finds it: `PGPASSWORD`, else the first
/// matching line of the pgpass file (`PGPASSFILE`, else `~/.pgpass`). Never from the command line.
enum PostgresPassword {
    /// The password for `location`, or nil when none is given (trust or peer authentication).
    ///
    /// - Throws: `StoreError` when the pgpass file can be read by other users: libpq ignores such
    ///   a file, and saying so beats a failed login that does not say why.
    static func find(for location: PostgresLocation,
                     environment: [String: String] = ProcessInfo.processInfo.environment) throws(StoreError) -> String?
    {
        if let password = environment["PGPASSWORD"] { return password }
        let path = environment["PGPASSFILE"] ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.pgpass"
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let text = try? String(contentsOfFile: path, encoding: .utf8)
        else { return nil }
        if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw .storeAddress(location.description, reason: "the password file \(path) can be read by other users: "
                + "chmod 600 \(path)")
        }
        let host = location.socketFolder == nil ? location.host : "localhost"
        let wanted = [host, String(location.port), location.database, location.user]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let fields = Self.fields(of: line)
            guard fields.count == 5 else { continue }
            if zip(fields, wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }

    /// The `:`-separated fields of a pgpass line, with `\:` and `\\` unescaped.
    private static func fields(of line: Substring) -> [String] {
        var fields: [String] = [""]
        var escaped = false
        for character in line {
            if escaped {
                fields[fields.count - 1].append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == ":", fields.count < 5 {
                fields.append("")
            } else {
                fields[fields.count - 1].append(character)
            }
        }
        return fields
    }
}
