import ArgumentParser
import AutomatorRuntime
import Foundation

/// The command line as the system gave it: bytes. `CommandLine.arguments`, which the parser reads,
/// decodes them as UTF-8 with U+FFFD for each byte that is not, so a path to a file whose name is
/// not UTF-8 (common among the files an attacker made) no longer names it once parsed.
enum RawArguments {
    /// The path given as the argument the parser read as `parsed`, by its bytes: the argument
    /// that decodes to `parsed`.
    ///
    /// - Throws: `ValidationError` when no argument does (a path glued to an option, `-oPATH`),
    ///   or when two different ones do: which one was meant cannot be told.
    static func path(_ parsed: String) throws -> LocalPath {
        // Without U+FFFD, the decoding lost nothing.
        guard parsed.contains("\u{FFFD}") else { return LocalPath(parsed) }
        let matches = Set(arguments.filter { String(decoding: $0, as: UTF8.self) == parsed })
        guard matches.count == 1, let bytes = matches.first else {
            throw ValidationError(matches.isEmpty
                ? "'\(parsed)' has bytes that are not UTF-8, and is not an argument of its own: write the path as one "
                    + "(`-o PATH`, not `-oPATH`)"
                : "several arguments read as '\(parsed)' (bytes that are not UTF-8 differ between them): give one "
                    + "such path at a time")
        }
        return LocalPath(bytes: bytes)
    }

    /// A path to write, which Foundation takes as a `String`: one that is not UTF-8 is refused
    /// rather than written under another name.
    static func outputPath(_ parsed: String) throws -> String {
        let path = try path(parsed)
        guard String(validating: path.bytes, as: UTF8.self) != nil else {
            throw ValidationError("\(path) is not UTF-8: write to a name in UTF-8, then rename it if need be")
        }
        return parsed
    }

    private static var arguments: [[UInt8]] {
        (1..<Int(CommandLine.argc)).compactMap { index in
            CommandLine.unsafeArgv[index].map { Array(UnsafeRawBufferPointer(start: $0, count: strlen($0))) }
        }
    }
}
