import Foundation

/// The lines of a file or of standard input, without their newlines, read a megabyte at a time:
/// an import of a million lines never holds the file whole.
final class FileLines {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    /// `-` reads standard input.
    init(_ path: String) throws(CommandFailure) {
        if path == "-" {
            handle = .standardInput
            return
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CommandFailure("cannot read \(path): check that it exists and its permissions")
        }
        self.handle = handle
    }

    func next() -> [UInt8]? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                defer { start = newline + 1 }
                return Array(buffer[start..<newline])
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                defer { start = buffer.count }
                return Array(buffer[start...])
            }
            buffer.removeSubrange(..<start)
            start = 0
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { atEnd = true } else { buffer += chunk }
        }
    }
}
