/// Where an incident came from: the other tool's name (`source`) and its id there
/// (`source_ref`), which identify an imported incident (`IncidentImport`).
public struct SourceRef: Sendable, Hashable {
    public var source: String
    public var ref: String

    public init(source: String, ref: String) {
        self.source = source
        self.ref = ref
    }
}
