import Foundation

extension String {
    /// The text with each NUL (U+0000) as U+FFFD, the character that stands for one that cannot
    /// be kept. SQLite's text ends at a NUL when it is read back and PostgreSQL's refuses one, so
    /// a journal entry hashed with one would fail `journal verify` for ever once stored; and
    /// alerts, chat and the API can all carry one (`"\u0000"` in JSON).
    var withoutNUL: String {
        utf8.contains(0) ? replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : self
    }
}
