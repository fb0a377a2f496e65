/// Defanged punctuation, as analysts write it so that nobody clicks: `evil[.]com`,
/// `user[at]evil(dot)com`, `hxxp[:]//`. Each function gives the length of the form at `i` as
/// written (0 if none), so offsets stay those of the input while values are refanged.
extension IndicatorScanner {
    /// A dot: `.`, or `[.]`, `(.)`, `{.}`, `[dot]`, `(dot)`, `{dot}` in any case, the bracketed
    /// forms also with a space on each side (`evil [.] com`, as some write it in prose).
    func dotLength(at i: Int) -> Int {
        self[i] == UInt8(ascii: ".") ? 1 : bracketedLength(at: i, symbol: UInt8(ascii: "."), word: "dot")
    }

    /// An at sign: `@`, or `[@]`, `(@)`, `{@}`, `[at]`, `(at)`, `{at}` in any case, the bracketed
    /// forms also with a space on each side.
    func atLength(at i: Int) -> Int {
        self[i] == UInt8(ascii: "@") ? 1 : bracketedLength(at: i, symbol: UInt8(ascii: "@"), word: "at")
    }

    /// What follows a URL's scheme: `://`, `[:]//`, `[://]`, or `:\/\/` (JSON's escaped slashes).
    func schemeSeparatorLength(at i: Int) -> Int {
        if matches("://", at: i) { return 3 }
        if matches("[:]//", at: i) || matches("[://]", at: i) { return 5 }
        if matches(#":\/\/"#, at: i) { return 5 }
        return 0
    }

    /// `symbol` or `word` between matching brackets: `[`…`]`, `(`…`)`, `{`…`}`, or that with a
    /// space before and after.
    private func bracketedLength(at i: Int, symbol: UInt8, word: StaticString) -> Int {
        guard self[i] == UInt8(ascii: " ") else { return bracketsLength(at: i, symbol: symbol, word: word) }
        guard self[i + 1].isOpeningBracket else { return 0 }
        let bracketed = bracketsLength(at: i + 1, symbol: symbol, word: word)
        return bracketed > 0 && self[i + 1 + bracketed] == UInt8(ascii: " ") ? bracketed + 2 : 0
    }

    /// `symbol` or `word` between matching brackets, with no space around them.
    private func bracketsLength(at i: Int, symbol: UInt8, word: StaticString) -> Int {
        let close: UInt8
        switch self[i] {
        case UInt8(ascii: "["): close = UInt8(ascii: "]")
        case UInt8(ascii: "("): close = UInt8(ascii: ")")
        case UInt8(ascii: "{"): close = UInt8(ascii: "}")
        default: return 0
        }
        if self[i + 1] == symbol, self[i + 2] == close { return 3 }
        let length = word.utf8CodeUnitCount
        guard matches(word, at: i + 1, ignoringCase: true), self[i + 1 + length] == close else { return 0 }
        return length + 2
    }

    /// Whether the bytes at `i` are `literal` (ASCII), optionally ignoring ASCII case.
    func matches(_ literal: StaticString, at i: Int, ignoringCase: Bool = false) -> Bool {
        let bytes = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for (k, expected) in bytes.enumerated() {
            let byte = self[i + k]
            guard byte == expected || (ignoringCase && byte.asciiLowercased == expected) else { return false }
        }
        return true
    }
}
