import AutomatorRuntime
import Foundation
import Hummingbird

/// The checks a listing route makes of its query string.
extension Parameters {
    /// Refuses a parameter the route does not take: a misspelt filter would otherwise list everything.
    func allowOnly(_ names: [String]) throws(APIError) {
        if let unknown = map({ String($0.key) }).first(where: { !names.contains($0) }) {
            throw .badRequest("unknown parameter \(JSONText.string(unknown)): use " + names.joined(separator: ", "))
        }
    }

    /// `limit`, 100 when absent: at most 1,000 items an answer.
    func limit() throws(APIError) -> Int {
        guard let text = get("limit") else { return 100 }
        guard let limit = Int(text), (1...1000).contains(limit) else {
            throw .badRequest("limit must be a whole number from 1 to 1000, not \(JSONText.string(text))")
        }
        return limit
    }

    /// `dry_run`: true or false, false when absent.
    func dryRun() throws(APIError) -> Bool {
        switch get("dry_run") {
        case nil, "false": return false
        case "true": return true
        default: throw .badRequest("dry_run takes true or false")
        }
    }

    /// `incident`, when given: an id such as INC-42.
    func incident() throws(APIError) -> IncidentID? {
        guard let text = get("incident") else { return nil }
        guard let id = IncidentID(text) else { throw .badRequest("incident takes an id such as INC-42") }
        return id
    }
}
