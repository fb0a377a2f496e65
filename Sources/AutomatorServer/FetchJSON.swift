public import AutomatorRuntime
import Foundation

/// The integrations' fetches as the API gives them, and `automator fetch` reads them.
public enum FetchJSON {
    /// `{"fetches": [{"name", "source", "every", "cursor", "last_success", "failing_since",
    /// "failures", "last_error"}]}`: each fetch `declared` now (its source and interval; nil reading
    /// the store without a server, which has neither) and each the store keeps, by name.
    public static func list(_ states: [FetchState], declared: [FetchDeclaration]?) -> String {
        let names = Set(states.map(\.name)).union((declared ?? []).map(\.name)).sorted()
        return #"{"fetches":"# + JSONText.array(names.map { name in
            let state = states.first { $0.name == name } ?? FetchState(name: name)
            let declaration = declared?.first { $0.name == name }
            var object = JSONText.Object()
            object["name"] = JSONText.string(name)
            object["source"] = declaration.map { JSONText.string($0.source) }
            object["every"] = declaration.map { "\($0.every.components.seconds)" }
            object["cursor"] = state.cursor.map(JSONText.string)
            object["last_success"] = state.lastSuccess.map(JSONText.time)
            object["failing_since"] = state.failingSince.map(JSONText.time)
            object["failures"] = "\(state.failures)"
            object["last_error"] = state.lastError.map(JSONText.string)
            // Declared by no integration in use now: the cursor stays for when it is again.
            if declared != nil, declaration == nil { object["declared"] = "false" }
            return object.textWithoutNulls
        }) + "}"
    }

    /// `{"name", "alerts", "opened", "linked", "cursor", "more"}`: what a fetch run now did.
    static func page(_ page: Fetches.Page, of name: String) -> String {
        var object = JSONText.Object()
        object["name"] = JSONText.string(name)
        object["alerts"] = "\(page.alerts)"
        object["opened"] = "\(page.opened)"
        object["linked"] = "\(page.linked)"
        object["cursor"] = page.cursor.map(JSONText.string)
        object["more"] = page.more ? "true" : "false"
        return object.textWithoutNulls
    }

    /// `{"name", "dry_run": true, "alerts", "cursor", "next_cursor", "more", "incidents": [{"type",
    /// "severity", "title", "source_ref", "joins", "joins_status", "playbook", "warning"}]}`: what a dry
    /// run found, each alert as the incident it would open (with its playbook) or the one it would
    /// join (`joins`, and its status: closed for an alert its tool closed too), nothing stored and
    /// the cursor where it was.
    public static func dryRun(_ dryRun: Fetches.DryRun, of name: String) -> String {
        var object = JSONText.Object()
        object["name"] = JSONText.string(name)
        object["dry_run"] = "true"
        object["alerts"] = "\(dryRun.alerts.count)"
        object["cursor"] = dryRun.cursor.map(JSONText.string)
        object["next_cursor"] = dryRun.nextCursor.map(JSONText.string)
        object["more"] = dryRun.more ? "true" : "false"
        object["incidents"] = JSONText.array(dryRun.alerts.map { preview in
            var incident = JSONText.Object()
            incident["type"] = JSONText.string(preview.draft.type)
            incident["severity"] = JSONText.string(preview.draft.severity.rawValue)
            incident["title"] = JSONText.string(preview.draft.title)
            incident["source_ref"] = preview.draft.sourceRef.map(JSONText.string)
            incident["joins"] = preview.joins.map { JSONText.string($0.description) }
            incident["joins_status"] = preview.joinsStatus.map { JSONText.string($0.rawValue) }
            incident["playbook"] = preview.playbook.map(JSONText.string)
            incident["warning"] = preview.warning.map(JSONText.string)
            return incident.textWithoutNulls
        })
        return object.textWithoutNulls
    }
}
