import Foundation

/// This automator's version: what `automator --version` prints, and what a server names itself
/// by in each answer's `Server` header (`automator/0.1.0`), so that a client newer or older than
/// the server it reads can say which one answered.
package enum AutomatorVersion {
    package static let current = "0.1.0"

    /// The `Server` header a server sends.
    package static let serverHeader = "automator/" + current

    /// The version in a `Server` header; nil without one (the first servers sent none) or when it
    /// is not an automator's.
    package static func version(inServerHeader header: String?) -> String? {
        guard let header, header.hasPrefix("automator/") else { return nil }
        return String(header.dropFirst("automator/".count))
    }
}
