public import Foundation

extension JSONSerialization {
    /// Why `JSONSerialization` could not read a text, as its error says it (`Too many nested
    /// arrays or dictionaries around character 513`, `Unexpected end of file`): "not valid JSON"
    /// alone sends people looking for a syntax error in JSON that is only nested too deep.
    public static func reason(_ error: any Error) -> String {
        let reason = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
        return reason.hasSuffix(".") ? String(reason.dropLast()) : reason
    }
}
