// libedit's readline interface is global state: the variables it exports are set once, from
// the one thread that reads lines, before any other thread could look at them.
@preconcurrency import CEditLine
import Foundation
import Synchronization

/// Reads lines typed at a terminal, with line editing and a history kept across sessions,
/// through BSD libedit's readline interface.
///
/// libedit's state is global to the process, so there is one editor at a time; it is used
/// only when standard input is a terminal (piped input is read plainly, without prompts).
final class LineEditor {
    /// What a read produced.
    enum Input {
        case line(String)
        /// Ctrl-C at the prompt: the line was dropped.
        case interrupted
        /// Ctrl-D on an empty line, or the terminal went away.
        case end
    }

    /// Set by the Ctrl-C key binding, which libedit calls as a C function (no context).
    private static let cancelled = Atomic<Bool>(false)
    /// What Tab completes to at this prompt, and the matches of the word being completed, for
    /// libedit's completion callback (a C function: no context either).
    private static let completion = Mutex<(names: [String], matches: [String])>(([], []))
    /// The names Tab offers, asked again before each prompt (a line may define new ones).
    private let completions: () -> [String]

    /// The history file, or nil to keep history for this session only.
    private let historyFile: String?
    /// The last entry remembered, so that running a line again does not fill the history.
    private var lastEntry: String?

    /// Sets up libedit; the history keeps at most `historyLimit` entries.
    init(historyFile: String?, historyLimit: Int32, completions: @escaping () -> [String] = { [] }) {
        self.historyFile = historyFile
        self.completions = completions
        // libedit reads multibyte characters only in the user's locale; Swift leaves it at "C".
        setlocale(LC_CTYPE, "")
        // Lets users configure the REPL in ~/.editrc under `automator:`; libedit keeps the pointer.
        rl_readline_name = UnsafePointer(strdup("automator"))
        rl_initialize()
        // Tab completes the API's names and the bot's commands, not file names.
        rl_completion_entry_function = { text, state in
            let matches = LineEditor.completion.withLock { completion in
                if state == 0 {
                    let word = text.map { String(cString: $0) } ?? ""
                    completion.matches = completion.names.filter { $0.hasPrefix(word) }
                }
                return completion.matches
            }
            return Int(state) < matches.count ? strdup(matches[Int(state)]) : nil
        }
        rl_completion_append_character = 0
        // At the prompt, Ctrl-C is a key that drops the line, not a signal. As a signal it
        // would race between libedit's handler (which ends the read) and the dispatch source
        // that stops evaluations (which takes the signal and lets the read go on). libedit
        // resets the terminal modes at each read, before this hook runs. Ctrl-Z still
        // suspends: libedit binds it to raise SIGTSTP.
        rl_pre_input_hook = { rl_parse_and_bind("setty -d -isig") }
        rl_add_defun("automator-cancel-line", { _, _ in
            LineEditor.cancelled.store(true, ordering: .relaxed)
            rl_done = 1  // libedit ends the read, returning no line
            return 0
        }, 0x03)
        stifle_history(historyLimit)
    }

    /// Loads the history file. Returns a warning to show if it exists but cannot be read.
    func loadHistory() -> String? {
        guard let historyFile, FileManager.default.fileExists(atPath: historyFile) else { return nil }
        let status = read_history(historyFile)
        guard status == 0 else {
            return "could not read the history file \(historyFile) (\(String(cString: strerror(status)))); "
                + "this session's lines will still be saved to it"
        }
        lastEntry = history_get(history_base + history_length - 1).map { String(cString: $0.pointee.line) }
        return nil
    }

    /// Shows `prompt` and reads one line.
    func read(prompt: String) -> Input {
        fflush(nil)  // whatever the last line printed shows before the prompt
        Self.cancelled.store(false, ordering: .relaxed)
        let names = Set(completions()).sorted()
        Self.completion.withLock { $0 = (names, []) }
        errno = 0
        guard let pointer = readline(prompt) else {
            // No line: Ctrl-C, a SIGINT sent by another process (the read ends with EINTR), or
            // the end of the input.
            if Self.cancelled.load(ordering: .relaxed) || errno == EINTR {
                print("^C")
                return .interrupted
            }
            return .end
        }
        defer { free(pointer) }
        return .line(String(cString: pointer))
    }

    /// Adds a complete entry (all the lines of a multi-line input) to the history.
    func remember(_ entry: String) {
        guard !entry.allSatisfy(\.isWhitespace), entry != lastEntry else { return }
        add_history(entry)
        lastEntry = entry
    }

    /// Writes the history file. Returns a warning to show if it could not be written.
    func saveHistory() -> String? {
        guard let historyFile else { return nil }
        let status = write_history(historyFile)
        guard status == 0 else {
            return "could not save the history to \(historyFile) (\(String(cString: strerror(status)))); "
                + "set AUTOMATOR_HISTORY to a writable file"
        }
        return nil
    }
}
