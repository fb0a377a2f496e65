import Foundation

/// Rows in columns for people: what the CLI prints and the bundle's `journal.txt` holds.
package enum TextTable {
    /// Rows in columns, each as wide as its widest cell, two spaces apart. The last column is
    /// not padded; its further lines are indented to where it starts.
    package static func render(_ rows: [[String]], indent: String = "") -> String {
        guard let columns = rows.first?.count else { return "" }
        // Each column but the last on one line: a newline in an actor's name ("by" from the API)
        // printed a line of its own, a forged entry in `journal show` and `audit`.
        let rows = rows.map { row in row.indices.map { $0 < columns - 1 ? VisibleText.escaped(row[$0], as: .name) : row[$0] } }
        let widths = (0..<columns - 1).map { column in rows.map { $0[column].count }.max() ?? 0 }
        let continuation = "\n" + String(repeating: " ", count: indent.count + widths.reduce(0) { $0 + $1 + 2 })
        return rows.map { row in
            var line = indent + (0..<columns - 1).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ") + "  " + row[columns - 1].replacingOccurrences(of: "\n", with: continuation)
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
        .joined(separator: "\n")
    }
}
