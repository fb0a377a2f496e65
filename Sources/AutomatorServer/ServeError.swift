/// Why `automator serve` could not start, and what to do about it.
///
/// `description` is one line for the log or the CLI's `error:` line; it never holds the API
/// token.
public struct ServeError: Error, CustomStringConvertible, Sendable {
    private enum Reason: Sendable {
        case dataFolderInUse(folder: String, occupant: DataFolderLock.Occupant)
        case lockFile(path: String, reason: String)
        case tokenFile(path: String, reason: String)
        case tokenFileEmpty(path: String)
        case tokenFileExposed(path: String, mode: String)
        case cannotListen(address: String, reason: String)
    }

    private let reason: Reason

    private init(_ reason: Reason) { self.reason = reason }

    public var description: String {
        switch reason {
        case .dataFolderInUse(let folder, .server(let holder)):
            "the data folder \(folder) is in use by another automator serve (pid \(holder.pid)"
                + (holder.url.map { ", listening on \($0)" } ?? "")
                + "): stop it first, or pass --data with another folder"
        case .dataFolderInUse(let folder, .process(let pid, let command)):
            "the data folder \(folder) is in use by another automator process (pid \(pid)"
                + (command.isEmpty ? "" : ": \(command)") + "): stop it first, or pass --data with another folder"
        case .dataFolderInUse(let folder, .unknown):
            "the data folder \(folder) is in use by another automator process: stop it first, or pass --data with "
                + "another folder"
        case .lockFile(let path, let reason):
            "could not lock \(path) (\(reason)): make the data folder writable by this user, or pass --data with "
                + "another folder"
        case .tokenFile(let path, let reason):
            "could not use the API token file \(path) (\(reason)): make it readable and writable by this user, or "
                + "set AUTOMATOR_API_TOKEN"
        case .tokenFileEmpty(let path):
            "the API token file \(path) is empty: delete it to have a new token made, or set AUTOMATOR_API_TOKEN"
        case .tokenFileExposed(let path, let mode):
            "the API token file \(path) can be read by other users (mode \(mode)): run `chmod 600 \(path)`, and "
                + "delete the file to have a new token made if someone may have read it"
        case .cannotListen(let address, let reason):
            "could not listen on \(address) (\(reason)): pass --http with an address of this machine and a free "
                + "port, such as --http 127.0.0.1:8081"
        }
    }
}

extension ServeError {
    static func dataFolderInUse(_ folder: String, by occupant: DataFolderLock.Occupant) -> ServeError {
        ServeError(.dataFolderInUse(folder: folder, occupant: occupant))
    }

    static func lockFile(_ path: String, reason: String) -> ServeError {
        ServeError(.lockFile(path: path, reason: reason))
    }

    static func tokenFile(_ path: String, reason: String) -> ServeError {
        ServeError(.tokenFile(path: path, reason: reason))
    }

    static func tokenFileEmpty(_ path: String) -> ServeError { ServeError(.tokenFileEmpty(path: path)) }

    static func tokenFileExposed(_ path: String, mode: String) -> ServeError {
        ServeError(.tokenFileExposed(path: path, mode: mode))
    }

    static func cannotListen(_ address: String, reason: String) -> ServeError {
        ServeError(.cannotListen(address: address, reason: reason))
    }
}
