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
        let constants = self.constants(in: text.components(separatedBy: "\n"))
        let calls = calls(in: text, constants: constants)
        // An approval sends nothing: the action it approves needs its integration as the calls
        // that run it do. One the file asks after before running it (`respond.act`) is handed to
        // people when its integration is not set up.
        let askedAfter = Set(calls.filter { !$0.needsIntegration }.map(\.action))
        return calls + standingApprovals(in: text, constants: constants).map { approval in
            var approval = approval
            approval.needsIntegration = !askedAfter.contains(approval.action)
            return approval
        }
    }

    /// The calls that take an action's name first, literal or by one of `constants`.
    static func calls(in text: String, constants: [String: String]) -> [ActionReference] {
        let lines = text.components(separatedBy: "\n")
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

    /// The actions a playbook's `approvals = { "integration.action", BLOCK, ... }` names, as
    /// literals or by one of `constants`: a misspelt one would leave the action it meant waiting
    /// for a person at every run.
    static func standingApprovals(in text: String, constants: [String: String]) -> [ActionReference] {
        guard let list = text.range(of: #"approvals\s*=\s*\{[^}]*\}"#, options: .regularExpression),
              let open = text[list].firstIndex(of: "{")
        else { return [] }
        let firstLine = text[..<open].filter { $0 == "\n" }.count + 1
        // An action's literal, or a name alone. Other strings and dotted names (`t.BLOCK`) are
        // matched whole so that their parts are not read as names, and skipped, as is a name
        // called or indexed: only a run can tell what they hold.
        let entry = #/["']([A-Za-z0-9_-]+\.[A-Za-z0-9_]+)["']|["'][^"']*["']|[A-Za-z_]\w*(?:\s*[.:]\s*[A-Za-z_]\w*)+|([A-Za-z_]\w*)\b(?!\s*[(\[])/#
        return text[open..<list.upperBound].components(separatedBy: "\n").enumerated().flatMap { offset, line in
            // What follows `--` is a comment, whatever it names.
            let code = line.range(of: "--").map { line[..<$0.lowerBound] } ?? line[...]
            return code.matches(of: entry).compactMap { match -> ActionReference? in
                guard let action = match.1.map(String.init) ?? match.2.flatMap({ constants[String($0)] })
                else { return nil }
                return ActionReference(line: firstLine + offset, action: action, use: .approvesInAdvance,
                                       needsIntegration: true)
            }
        }
    }
}
