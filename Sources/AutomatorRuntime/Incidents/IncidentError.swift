/// Why an incident, task or playbook request was refused; each says what to do.
public struct IncidentError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Hashable {
        /// The request is wrong: a field missing or of the wrong type, an answer not among the
        /// choices. The message names the field.
        case invalid
        case notFound
        /// The request contradicts the state: a task already done, a run that is not failed.
        case conflict
        /// The store failed.
        case unavailable
    }

    public let kind: Kind
    public let description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    static func invalid(_ field: String, _ message: String) -> IncidentError {
        IncidentError(.invalid, "\"\(field)\": \(message)")
    }

    static func store(_ error: StoreError) -> IncidentError {
        let kind: Kind = switch error.kind {
        case .notFound: .notFound
        case .conflict: .conflict
        default: .unavailable
        }
        return IncidentError(kind, error.description)
    }
}
