import Foundation
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL store is: `postgres://USER@HOST:PORT/DATABASE?sslmode=MODE`, as libpq and
/// `psql` write it, so that the address an administrator already has works as it is.
///
/// The password is never part of it (a command line is visible to every user of the machine, in
/// `ps`): it comes from `PGPASSWORD` or a pgpass file (`PostgresPassword`). `host=/folder` in the
/// query connects through the server's Unix socket in that folder instead of TCP.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    /// libpq's `sslmode`, the same names and meanings; `prefer` by default, as libpq.
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS if the server offers it, without checking its certificate.
        case prefer
        /// TLS or no connection, without checking the certificate.
        case require
        /// TLS, the certificate signed by a trusted authority (`sslrootcert`, else the system's).
        case verifyCA = "verify-ca"
        /// As `verify-ca`, and the certificate names the host.
        case verifyFull = "verify-full"
    }

    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    /// The folder of the server's Unix socket (`?host=/run/postgresql`), used instead of TCP.
    public var socketFolder: String?
    public var tls: TLSMode
    /// The authorities trusted by `verify-ca` and `verify-full` (PEM); the system's when nil.
    public var rootCertificate: String?

    /// Whether `text` names a PostgreSQL store rather than a data folder.
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Reads `postgres://USER@HOST:PORT/DATABASE?sslmode=MODE&sslrootcert=FILE&host=/SOCKET/FOLDER`.
    ///
    /// - Throws: `StoreError` (`.unavailable`) naming what is wrong: not such an address, a
    ///   password in it, no user, a port out of range, an unknown `sslmode` or parameter.
    public init(url: String) throws(StoreError) {
        func refuse(_ reason: String) -> StoreError { .storeAddress(Self.redacted(url), reason: reason) }
        guard Self.isPostgres(url), let components = URLComponents(string: url) else {
            throw refuse("it is not a postgres://USER@HOST:PORT/DATABASE address")
        }
        guard components.password == nil else {
            throw refuse("it holds a password, which every user of this machine could read on the command line: "
                + "put the password in PGPASSWORD or a pgpass file (~/.pgpass) instead")
        }
        guard let user = components.user?.removingPercentEncoding, !user.isEmpty else {
            throw refuse("it names no user (postgres://USER@HOST/DATABASE)")
        }
        self.user = user
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        // NIO takes the port modulo 65,536: 99999 would reach 34463, another server's maybe.
        guard (1...65535).contains(components.port ?? 5432) else {
            throw refuse("its port \(components.port ?? 0) is out of range: a port is 1 to 65535 (PostgreSQL's is 5432)")
        }
        port = components.port ?? 5432
        let path = components.percentEncodedPath.dropFirst()
        database = path.isEmpty ? user : String(path).removingPercentEncoding ?? String(path)
        tls = .prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw refuse("sslmode must be one of " + TLSMode.allCases.map(\.rawValue).joined(separator: ", "))
                }
                tls = mode
            case "sslrootcert": rootCertificate = item.value
            case "host":
                guard let folder = item.value, folder.hasPrefix("/") else {
                    throw refuse("host= in the query is the folder of the server's socket, an absolute path")
                }
                socketFolder = folder
            default:
                throw refuse("unknown parameter \(item.name) (known: sslmode, sslrootcert, host)")
            }
        }
    }

    /// The address without a password, as logs and errors show it.
    /// With its parameters, so that an address shown (the next step `store copy` prints, a
    /// moved folder's error) connects as the one given: without its `sslmode`, a pasted
    /// `verify-full` address would connect with `prefer`, unverified.
    public var description: String {
        var parameters: [String] = []
        if let socketFolder { parameters.append("host=\(socketFolder)") }
        if tls != .prefer { parameters.append("sslmode=\(tls.rawValue)") }
        if let rootCertificate { parameters.append("sslrootcert=\(rootCertificate)") }
        return "postgres://\(user)@\(host):\(port)/\(database)" + (parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&"))
    }

    /// The pool's settings, with the password found for this location.
    /// The pool's settings; `application` names the connections in `pg_stat_activity`.
    func clientConfiguration(password: String?, application: String) throws(StoreError) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socket = socketPath {
            configuration = .init(unixSocketPath: socket, username: user, password: password, database: database)
        } else {
            let mode: PostgresClient.Configuration.TLS = switch tls {
            case .disable: .disable
            case .prefer: .prefer(try tlsConfiguration())
            case .require, .verifyCA, .verifyFull: .require(try tlsConfiguration())
            }
            configuration = .init(host: host, port: port, username: user, password: password, database: database,
                                  tls: mode)
        }
        configuration.options.connectTimeout = Self.connectTimeout
        configuration.options.additionalStartupParameters = [("application_name", application)]
        return configuration
    }

    /// How long a connection may take to be made, its TLS and login included: a database that
    /// has not answered by then is taken to be away.
    static let connectTimeout: Duration = .seconds(5)

    /// The settings of a lone connection (the first contact, the listener of notifications).
    func connectionConfiguration(password: String?, application: String) throws(StoreError)
        -> PostgresConnection.Configuration
    {
        var configuration: PostgresConnection.Configuration
        if let socket = socketPath {
            configuration = PostgresConnection.Configuration(unixSocketPath: socket, username: user, password: password,
                                                             database: database)
        } else {
            configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password,
                                                             database: database, tls: try connectionTLS())
        }
        configuration.options.connectTimeout = TimeAmount(Self.connectTimeout)
        configuration.options.additionalStartupParameters = [("application_name", application)]
        return configuration
    }

    private func connectionTLS() throws(StoreError) -> PostgresConnection.Configuration.TLS {
        do {
            return switch tls {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: try tlsConfiguration()))
            case .require, .verifyCA, .verifyFull: .require(try NIOSSLContext(configuration: try tlsConfiguration()))
            }
        } catch {
            throw .storeAddress(description, reason: "its TLS settings are not usable (\(error))")
        }
    }

    private var socketPath: String? { socketFolder.map { "\($0)/.s.PGSQL.\(port)" } }

    private func tlsConfiguration() throws(StoreError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch tls {
        case .disable, .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if let rootCertificate {
            guard FileManager.default.isReadableFile(atPath: rootCertificate) else {
                throw .storeAddress(description, reason: "sslrootcert \(rootCertificate) cannot be read")
            }
            configuration.trustRoots = .file(rootCertificate)
        }
        return configuration
    }

    /// `url` with anything between `://` and `@` past a `:` blanked, for an error about it.
    private static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@"),
              let colon = url[scheme.upperBound..<at].firstIndex(of: ":")
        else { return url }
        return url.replacingCharacters(in: url.index(after: colon)..<at, with: "***")
    }
}
