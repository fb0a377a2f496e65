public import Foundation

/// The `store` key of the configuration file: the PostgreSQL store's address, as `--store`
/// takes it (`store: postgres://automator@db.example:5432/automator`), the password never in it.
public struct StoreConfiguration: Sendable, Hashable {
    public var location: PostgresLocation?

    public init() {}

    /// Reads the `store` key of `path` (the other sections are read by their own types).
    ///
    /// - Throws: `ConfigurationError` naming the file, the line and the key.
    public init(file path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError)
    {
        self = try ConfigurationReader.read(path, environment: environment, Self.init(reading:with:)) ?? Self()
    }

    /// Reads the `store` key of `root`, reporting a bad address to `reader`.
    init(reading root: ConfigurationMapping, with reader: ConfigurationReader) {
        guard let node = root["store"], let address = reader.string(node) else { return }
        do { location = try PostgresLocation(url: address) } catch { reader.report(node, error.description) }
    }
}
