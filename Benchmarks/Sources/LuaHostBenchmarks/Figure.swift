import Foundation

/// One line of the report: a measured value, and the goal it is held to, if any.
struct Figure {
    /// What a goal bounds: the value itself, or its ratio to a baseline.
    enum Goal {
        case valueAtMost(Double)
        case ratioAtMost(Double)
    }

    var name: String
    var value: Double
    var unit: String
    var goal: Goal?
    /// The value over its baseline, where the figure compares two things.
    var ratio: Double?

    /// PASS or MISS against the goal; `-` for figures shown for context only.
    var verdict: String {
        switch goal {
        case nil: "-"
        case .valueAtMost(let limit): value <= limit ? "PASS" : "MISS"
        case .ratioAtMost(let limit): (ratio ?? .infinity) <= limit ? "PASS" : "MISS"
        }
    }

    var goalText: String {
        switch goal {
        case nil: "-"
        case .valueAtMost(let limit): String(format: "<= %g ", limit) + unit
        case .ratioAtMost(let limit): String(format: "<= %gx", limit)
        }
    }

    /// Three or four significant digits: 15.63, 1.071, 2843.
    static func format(_ number: Double) -> String {
        let magnitude = abs(number)
        let decimals = magnitude >= 1000 ? 0 : magnitude >= 100 ? 1 : magnitude >= 10 ? 2 : 3
        return String(format: "%.*f", decimals, number)
    }
}

/// Prints figures as an aligned table.
enum FigureTable {
    static func render(_ figures: [Figure]) -> String {
        let header = ["figure", "value", "unit", "goal", "ratio", "result"]
        let rows = figures.map { figure in
            [
                figure.name, Figure.format(figure.value), figure.unit, figure.goalText,
                figure.ratio.map { String(format: "%.2fx", $0) } ?? "-", figure.verdict,
            ]
        }
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        let rightAligned: Set<Int> = [1, 4]
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? padding + cell : cell + padding
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
