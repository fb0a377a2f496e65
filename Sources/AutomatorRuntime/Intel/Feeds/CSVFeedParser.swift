import Foundation

/// CSV feeds: a header row, then one indicator per record, in the columns `CSVColumns` names.
///
/// ```
/// indicator,type,reason
/// 198.51.100.7,ipv4,"scanner, seen 2024-05"
/// evil.example,,"phishing kit ""PayPal"""
/// ```
struct CSVFeedParser {
    let feed: Feed
    let columns: CSVColumns

    func parse(_ bytes: [UInt8], problems: inout ProblemLog, emit: (FeedEntry) -> Void) throws(FeedError) {
        let file = feed.path
        guard CSVColumns.canSeparate(columns.separator) else {
            throw FeedError(feed, "the separator \"\(columns.separator.escaped(asASCII: true))\" cannot separate CSV "
                + "fields: use one ASCII character but a double quote or a line break, such as ; or a tab")
        }
        try bytes.withUnsafeBufferPointer { bytes throws(FeedError) in
            var reader = CSVReader(bytes, separator: UInt8(columns.separator.value))
            guard let header = reader.next() else {
                throw FeedError(feed, "\(file) is empty: a CSV feed starts with a header row naming its columns")
            }
            if let failure = header.failure {
                throw FeedError(feed, "\(file):\(header.line): the header row cannot be read: \(failure)")
            }
            let names = reader.fields.map { reader.text($0).lowercased() }
            func column(_ name: String?, _ role: String) throws(FeedError) -> Int? {
                guard let name else { return nil }
                guard let index = names.firstIndex(of: name.trimmingCharacters(in: .whitespaces).lowercased()) else {
                    // One column whose name holds a `;` or a tab: the file has another separator.
                    let other = names.count == 1 ? [";", "\t", "|"].first { names[0].contains($0) } : nil
                    let hint = other.map { ", or set the separator to " + ($0 == "\t" ? "tab" : $0) } ?? ""
                    throw FeedError(feed, "the header of \(file) has no column \"\(name)\" for the \(role); it has "
                        + names.map { "\"\($0)\"" }.joined(separator: ", ") + ": name one of them in CSVColumns(\(role):)"
                        + hint)
                }
                return index
            }
            let valueColumn = try column(columns.value, "value")!
            let typeColumn = try column(columns.type, "type")
            let commentColumn = try column(columns.comment, "comment")
            let needed = max(valueColumn, typeColumn ?? 0, commentColumn ?? 0) + 1
            let separators = switch columns.separator {
            case ",": "commas"
            case "\t": "tabs"
            case let other: "\"\(other)\""
            }

            while let record = reader.next() {
                func skip(_ message: String) {
                    problems.append(FeedProblem(file: file, line: record.line, message: message))
                }
                if let failure = record.failure {
                    skip(failure)
                    continue
                }
                let fields = reader.fields
                guard fields.count >= needed else {
                    skip("\(fields.count.counted("field")) where the columns read need \(needed): "
                        + "quote fields that hold \(separators)")
                    continue
                }
                var expectation = IndicatorKey.Expectation.any
                if let typeColumn {
                    let name = reader.text(fields[typeColumn])
                    guard let named = IndicatorKey.Expectation(name: name) else {
                        skip("the type \"\(name)\" is not one read: use "
                            + IndicatorKey.Expectation.names.joined(separator: ", ") + ", or leave it empty")
                        continue
                    }
                    expectation = named
                }
                let value = reader.text(fields[valueColumn])
                guard !value.isEmpty else {
                    skip("the \(columns.value) column is empty")
                    continue
                }
                let comment = commentColumn.map { reader.text(fields[$0]) }
                do throws(IndicatorKey.Refusal) {
                    let key = try IndicatorKey.parse(value, as: expectation)
                    emit(FeedEntry(key, comment: comment?.isEmpty == false ? comment : nil))
                } catch {
                    skip(error.message)
                }
            }
        }
    }
}
