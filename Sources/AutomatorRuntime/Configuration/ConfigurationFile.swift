public import Foundation

/// Every section of the configuration file `automator serve --config` is given, read in one pass,
/// so that a file with mistakes in several sections names them all at once (serve refusing to
/// start, or changing nothing on SIGHUP; `automator check --config` reporting).
///
/// ```swift
/// let configuration = try ConfigurationFile(file: "automator.yml")
/// let server = APIServer(configuration: .init(..., file: configuration, filePath: "automator.yml"), ...)
/// ```
public struct ConfigurationFile: Sendable, Hashable {
    public var intel = IntelConfiguration()
    public var chat = ChatConfiguration()
    public var actions = ActionConfiguration()
    public var store = StoreConfiguration()
    public var log = LogConfiguration()

    public init() {}

    /// Reads `path`.
    ///
    /// - Throws: `ConfigurationError` naming the file, the line and the key of every bad value, of
    ///   every section, in the file's order.
    public init(file path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError)
    {
        let read = try ConfigurationReader.read(path, environment: environment) { root, reader in
            (IntelConfiguration(reading: root, with: reader), ChatConfiguration(reading: root, with: reader),
             ActionConfiguration(reading: root, with: reader), StoreConfiguration(reading: root, with: reader),
             LogConfiguration(reading: root, with: reader))
        }
        if let read { (intel, chat, actions, store, log) = read }
    }
}
