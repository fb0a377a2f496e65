public import Foundation

/// The `store` key of the configuration file: the PostgreSQL store's address, as `--store`
/// takes it (`store: postgres://automator@db.example:5432/automator`), the password never in it.
public struct StoreConfiguration: Sendable {
    public var location: PostgresLocation?

    public init() {}

    /// Reads the `store` key of `path` (the other sections are read by their own types).
    ///
    /// - Throws: `ConfigurationError` naming the file, the line and the key.
    public init(file path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError)
    {
        guard let (reader, root) = try ConfigurationReader.root(of: path, environment: environment),
              let node = root["store"]
        else { return }
        let address = try reader.string(node, key: "store")
        do { location = try PostgresLocation(url: address) } catch {
            throw reader.error(node, "store", error.description)
        }
    }
}
