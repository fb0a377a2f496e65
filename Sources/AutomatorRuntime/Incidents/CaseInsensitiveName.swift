/// A value people and scripts name in words: an incident's severity and status. Read in any case
/// (`HIGH`, `High`) by `init(named:)`, the one reading every place shares (the API and its filters,
/// the CLI, mappers, scripts), so that what creates an incident also finds it; stored lowercase.
public protocol CaseInsensitiveName: RawRepresentable, CaseIterable where RawValue == String {}

extension CaseInsensitiveName {
    /// The value `name` names, in any case; nil for none.
    public init?(named name: some StringProtocol) { self.init(rawValue: name.lowercased()) }

    /// Every name, for errors: `info, low, medium, high, critical`.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

extension Incident.Severity: CaseInsensitiveName {}
extension Incident.Status: CaseInsensitiveName {}
extension Incident.Resolution: CaseInsensitiveName {}
extension SLAState: CaseInsensitiveName {}
