import Foundation

/// Bar charts as inline SVG: no script, no external file, so a report is one file that opens
/// anywhere, offline, and prints. Each chart scales to its box (`viewBox`, `width: 100%`); its
/// `<title>` and the table beside it say the same in words, for screen readers and for print.
enum ReportChart {
    /// A series of bars, and its CSS class (`.opened`, `.met`: colours in `ReportHTML.style`).
    struct Series {
        var name: String
        var className: String
    }

    /// Bars per day, the series side by side: opened and closed.
    static func columns(id: String, title: String, labels: [String], series: [Series], values: [[Int]]) -> String {
        let (width, height, left, bottom, top) = (400.0, 170.0, 30.0, 20.0, 8.0)
        let plot = (width: width - left - 4, height: height - bottom - top)
        let scale = niceMaximum(max(1, values.joined().max() ?? 0))
        var svg = open(id: id, title: title, width: width, height: height)
        svg += axis(maximum: scale, x: left, y: top, height: plot.height, width: plot.width)
        guard !labels.isEmpty else { return svg + empty(width: width, height: height) + "</svg>" }
        let slot = plot.width / Double(labels.count)
        let bar = max(0.5, slot * 0.8 / Double(series.count))
        for (index, label) in labels.enumerated() {
            for (number, item) in series.enumerated() {
                let value = values[index][number]
                guard value > 0 else { continue }
                let barHeight = Double(value) / Double(scale) * plot.height
                let x = left + Double(index) * slot + slot * 0.1 + Double(number) * bar
                svg += #"<rect class="\#(item.className)" x="\#(f(x))" y="\#(f(top + plot.height - barHeight))" "#
                    + #"width="\#(f(bar))" height="\#(f(barHeight))"><title>\#(ReportHTML.escape(label)): "#
                    + "\(value) \(item.name)</title></rect>"
            }
        }
        // The first, middle and last days under the axis: enough to place the bars in time.
        let marks = Set([0, labels.count / 2, labels.count - 1])
        for index in marks.sorted() {
            let x = left + (Double(index) + 0.5) * slot
            let anchor = labels.count == 1 ? "middle" : index == 0 ? "start" : index == labels.count - 1 ? "end" : "middle"
            svg += #"<text x="\#(f(x))" y="\#(f(height - 5))" text-anchor="\#(anchor)">\#(ReportHTML.escape(labels[index]))</text>"#
        }
        return svg + "</svg>"
    }

    /// A bar per row, its series stacked (SLA states, run outcomes) or side by side.
    static func rows(id: String, title: String, labels: [String], series: [Series], values: [[Int]], stacked: Bool)
        -> String
    {
        let (width, left, row) = (400.0, 110.0, stacked ? 22.0 : 12.0 * Double(series.count) + 8)
        let height = max(30, Double(labels.count) * row + 6)
        var svg = open(id: id, title: title, width: width, height: height)
        guard !labels.isEmpty else { return svg + empty(width: width, height: height) + "</svg>" }
        let totals = values.map { stacked ? $0.reduce(0, +) : $0.max() ?? 0 }
        let scale = Double(max(1, totals.max() ?? 0))
        let plot = width - left - 48  // room for a six-digit total after the longest bar
        for (index, label) in labels.enumerated() {
            let y = 3 + Double(index) * row
            svg += #"<text x="\#(f(left - 6))" y="\#(f(y + row / 2))" text-anchor="end" dominant-baseline="middle">"#
                + ReportHTML.escape(shortened(label)) + "</text>"
            var x = left
            for (number, item) in series.enumerated() {
                let value = values[index][number]
                let length = Double(value) / scale * plot
                let barY = stacked ? y + 3 : y + 4 + Double(number) * 12
                let barHeight = stacked ? row - 6 : 10.0
                if value > 0 {
                    svg += #"<rect class="\#(item.className)" x="\#(f(x))" y="\#(f(barY))" width="\#(f(length))" "#
                        + #"height="\#(f(barHeight))"><title>\#(ReportHTML.escape(label)): \#(value) \#(item.name)</title></rect>"#
                }
                if stacked { x += length } else {
                    svg += #"<text x="\#(f(left + length + 4))" y="\#(f(barY + 5))" dominant-baseline="middle">\#(value)</text>"#
                }
            }
            if stacked {
                svg += #"<text x="\#(f(x + 4))" y="\#(f(y + row / 2))" dominant-baseline="middle">\#(totals[index])</text>"#
            }
        }
        return svg + "</svg>"
    }

    /// The legend under a chart, in HTML (it wraps on a phone).
    static func legend(_ series: [Series]) -> String {
        #"<p class="legend">"# + series.map {
            #"<span><i class="\#($0.className)"></i>\#(ReportHTML.escape($0.name))</span>"#
        }.joined(separator: " ") + "</p>"
    }

    private static func open(id: String, title: String, width: Double, height: Double) -> String {
        #"<svg id="\#(id)" class="chart" role="img" aria-labelledby="\#(id)-title" viewBox="0 0 \#(f(width)) \#(f(height))" "#
            + #"xmlns="http://www.w3.org/2000/svg"><title id="\#(id)-title">\#(ReportHTML.escape(title))</title>"#
    }

    private static func empty(width: Double, height: Double) -> String {
        #"<text x="\#(f(width / 2))" y="\#(f(height / 2))" text-anchor="middle" dominant-baseline="middle">nothing in the window</text>"#
    }

    /// The y axis: a base line, and the top value with its grid line.
    private static func axis(maximum: Int, x: Double, y: Double, height: Double, width: Double) -> String {
        #"<line class="grid" x1="\#(f(x))" y1="\#(f(y))" x2="\#(f(x + width))" y2="\#(f(y))"/>"#
            + #"<line class="axis" x1="\#(f(x))" y1="\#(f(y + height))" x2="\#(f(x + width))" y2="\#(f(y + height))"/>"#
            + #"<text x="\#(f(x - 4))" y="\#(f(y + 4))" text-anchor="end">\#(maximum)</text>"#
            + #"<text x="\#(f(x - 4))" y="\#(f(y + height))" text-anchor="end">0</text>"#
    }

    /// The smallest 1, 2 or 5 times a power of ten at least `value`: an axis that reads well.
    static func niceMaximum(_ value: Int) -> Int {
        var power = 1
        while true {
            for step in [1, 2, 5] where step * power >= value { return step * power }
            power *= 10
        }
    }

    private static func shortened(_ label: String) -> String {
        label.count <= 18 ? label : label.prefix(17) + "…"
    }

    /// A coordinate with at most one decimal: `12`, `12.5`.
    private static func f(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? "\(Int(rounded))" : "\(rounded)"
    }
}
