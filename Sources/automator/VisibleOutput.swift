import AutomatorRuntime

/// Prints text for a person at a terminal: titles, journal entries, chat posts and tasks come
/// from alert payloads and chat users, so what a terminal would act on or hide (escape
/// sequences, the bell, right-to-left overrides) shows escaped (`\27[31m`, `\u{202E}`), as the
/// REPL shows strings. `--json` output, escaped by JSON, is printed as it is.
func printVisible(_ text: String) {
    print(VisibleText.escaped(text))
}
