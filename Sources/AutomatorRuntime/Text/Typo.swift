import Foundation

/// The name a mistyped one meant: the chat command (`incdent` → `incident`, `hsah` → `hash`), a
/// declaration's field (`on_sla_breech` → `on_sla_breach`), an option (`dryrun` → `dry_run`).
/// The Lua that refuses an unknown name asks it too (`LuaNearest`): one measure everywhere.
///
/// Strict on purpose, since in a chat channel it decides whether the bot speaks at all: a `!word`
/// that is no command and no typo of one is people talking, and gets no answer there. So a swap
/// of two neighbouring letters counts as one edit (the commonest typo, `hsah`), and the edits
/// allowed grow with the name's length: none for `ip` (`!is`, `!it` are words), one up to five
/// letters (`!nite` → `!note`, but `!nice` and `!hello` are left alone), two beyond
/// (`!incidnet`, `!stauts`).
///
/// ```swift
/// Typo.meant(by: "incdent", among: ["incident", "ip", "note"])  // "incident"
/// Typo.meant(by: "nice", among: ["incident", "ip", "note"])     // nil
/// ```
package enum Typo {
    /// The name of `names` nearest `typed` (in any case) within its allowed edits, the first in
    /// order on a tie.
    package static func meant(by typed: String, among names: some Sequence<String>) -> String? {
        let typed = Array(typed.lowercased())
        var best: (name: String, edits: Int)?
        for name in names.sorted() {
            let edits = edits(typed, Array(name))
            if edits <= allowedEdits(name), edits < best?.edits ?? .max { best = (name, edits) }
        }
        return best?.name
    }

    static func allowedEdits(_ name: String) -> Int {
        switch name.count {
        case ...2: 0
        case ...5: 1
        default: 2
        }
    }

    /// Insertions, deletions, substitutions and swaps of neighbours that turn `a` into `b`
    /// (the optimal string alignment distance).
    static func edits(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var rows = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { rows[i][0] = i }
        for j in 0...b.count { rows[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
                }
            }
        }
        return rows[a.count][b.count]
    }
}
