import Foundation

/// What is numbered: incidents (`INC-42`) and tasks (`T-7`), each counting on its own.
public enum NumberedKind: String, Sendable {
    case incident, task
}
