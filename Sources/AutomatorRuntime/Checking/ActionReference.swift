import Foundation

/// A place where a script names a response action, read from its text: what `automator check`
/// compares with the actions the integrations declare, so that a misspelt name is found before
/// the run that needs the action.
///
/// The name is the call's first argument as a literal (`actions.run("entra.disable_user", ...)`)
/// or as a local constant the file assigns a literal once and never again
/// (`local DISABLE = "entra.disable_user"` ... `respond.act(DISABLE, ...)`). A name it cannot
/// resolve so (a parameter, a table field, a string built at run time) is skipped: only a run
/// can tell what it holds.
struct ActionReference {
    /// What the script does with the action.
    enum Use: String {
        case runs = "runs"
        case plans = "plans"
        case asksAfter = "asks after"
        case approvesInAdvance = "approves in advance"
    }

    var line: Int
    var action: String
    var use: Use
    /// Whether the script needs the action sent: its integration must be usable with the
    /// configuration's settings. `actions.available` and `respond.act` ask first whether it is,
    /// and give the step to people when it is not, so for them the declaration is enough.
    var needsIntegration: Bool

    /// The references of the file at `path`: its calls, then its standing approvals; none if it
    /// cannot be read.
    static func all(in path: String) -> [ActionReference] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return calls(in: text) + standingApprovals(in: text)
    }

    /// The calls that take an action's name first, literal or by constant.
    static func calls(in text: String) -> [ActionReference] {
        let lines = text.components(separatedBy: "\n")
        let constants = self.constants(in: lines)
        let call = #/(actions\.run|actions\.plan|actions\.available|respond\.act)\s*\(\s*(?:["']([A-Za-z0-9_-]+\.[A-Za-z0-9_]+)["']|([A-Za-z_][A-Za-z0-9_]*)\s*[,)])/#
        return lines.enumerated().flatMap { index, line -> [ActionReference] in
            // A commented-out call runs nothing.
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("--") { return [] }
            return line.matches(of: call).compactMap { match in
                guard let action = match.2.map(String.init) ?? match.3.flatMap({ constants[String($0)] }) else { return nil }
                let (use, needsIntegration): (Use, Bool) = switch match.1 {
                case "actions.run": (.runs, true)
                case "actions.plan": (.plans, true)
                case "actions.available": (.asksAfter, false)
                default: (.runs, false)  // respond.act: actions.available, then actions.run
                }
                return ActionReference(line: index + 1, action: action, use: use, needsIntegration: needsIntegration)
            }
        }
    }

    /// The locals `lines` declare once with an action's name and never assign again, by name:
    /// one assigned twice may hold either name at a call. Lua itself refuses to assign a
    /// `<const>` one.
    static func constants(in lines: [String]) -> [String: String] {
        let declaration = #/^\s*local\s+([A-Za-z_][A-Za-z0-9_]*)\s*(<const>)?\s*=\s*["']([A-Za-z0-9_-]+\.[A-Za-z0-9_]+)["']\s*(?:--.*)?$/#
        var declared: [String: [(action: String, constant: Bool)]] = [:]
        for line in lines {
            guard let match = line.wholeMatch(of: declaration) else { continue }
            declared[String(match.1), default: []].append((String(match.3), match.2 != nil))
        }
        var constants: [String: String] = [:]
        for (local, declarations) in declared {
            guard declarations.count == 1, let only = declarations.first,
                  let assignment = try? Regex(#"(^|[^.\w])"# + local + #"\s*=(?!=)"#) else { continue }
            // Assigned only by its declaration: `NAME =` (not `NAME ==`, nor `t.NAME =`) on one line.
            if only.constant || lines.count(where: { $0.contains(assignment) }) == 1 { constants[local] = only.action }
        }
        return constants
    }

    /// The actions a playbook's `approvals = { "integration.action", ... }` names as literals:
    /// a misspelt one would leave the action it meant waiting for a person at every run.
    static func standingApprovals(in text: String) -> [ActionReference] {
        guard let list = text.range(of: #"approvals\s*=\s*\{[^}]*\}"#, options: .regularExpression) else { return [] }
        let firstLine = text[..<list.lowerBound].filter { $0 == "\n" }.count + 1
        return text[list].components(separatedBy: "\n").enumerated().flatMap { offset, line in
            line.matches(of: #/["']([A-Za-z0-9_-]+\.[A-Za-z0-9_]+)["']/#).map {
                ActionReference(line: firstLine + offset, action: String($0.1), use: .approvesInAdvance, needsIntegration: true)
            }
        }
    }
}
