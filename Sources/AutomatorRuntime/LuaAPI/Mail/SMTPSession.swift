import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One SMTP conversation (RFC 5321) over a blocking socket on a thread of its own: the
/// greeting, EHLO, MAIL FROM, RCPT TO for each recipient, DATA, QUIT. Each step waits at most
/// 30 seconds; a refusal fails with the server's reply.
enum SMTPSession {
    static func deliver(_ message: SMTPMessage) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            DispatchQueue.global().async {
                do {
                    try converse(message)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    private static func converse(_ message: SMTPMessage) throws(HostError) {
        let socket = try connect(message.host, message.port)
        defer { close(socket) }
        var reader = Replies(socket: socket)
        func step(_ command: String?, expect code: Int) throws(HostError) {
            if let command { try send(socket, command + "\r\n") }
            let (answer, text) = try reader.next()
            guard answer == code else {
                throw HostError("the SMTP server \(message.host) answered \(command.map { "'\($0.prefix(40))'" } ?? "the connection") "
                    + "with \(answer) \(text)")
            }
        }
        try step(nil, expect: 220)
        try step("EHLO automator", expect: 250)
        try step("MAIL FROM:<\(message.from)>", expect: 250)
        for recipient in message.to { try step("RCPT TO:<\(recipient)>", expect: 250) }
        try step("DATA", expect: 354)
        try send(socket, message.data)
        try step(nil, expect: 250)
        try? step("QUIT", expect: 221)
    }

    private static func connect(_ host: String, _ port: Int) throws(HostError) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let first = found else {
            throw HostError("the SMTP server \(host) could not be found")
        }
        defer { freeaddrinfo(found) }
        var address: UnsafeMutablePointer<addrinfo>? = first
        while let candidate = address {
            let socket = Glibc.socket(candidate.pointee.ai_family, candidate.pointee.ai_socktype, candidate.pointee.ai_protocol)
            if socket >= 0 {
                var timeout = timeval(tv_sec: 30, tv_usec: 0)
                setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                if Glibc.connect(socket, candidate.pointee.ai_addr, candidate.pointee.ai_addrlen) == 0 { return socket }
                close(socket)
            }
            address = candidate.pointee.ai_next
        }
        throw HostError("the SMTP server \(host):\(port) refused the connection: \(String(cString: strerror(errno)))")
    }

    private static func send(_ socket: Int32, _ text: String) throws(HostError) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let sent = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw HostError("the SMTP connection broke while sending") }
            bytes = bytes.dropFirst(sent)
        }
    }

    /// Reads replies: lines `CODE-text` continue one, `CODE text` ends it.
    private struct Replies {
        let socket: Int32
        var buffer: [UInt8] = []

        mutating func next() throws(HostError) -> (Int, String) {
            var text: [String] = []
            while true {
                let line = try self.line()
                let code = Int(line.prefix(3)) ?? 0
                text.append(String(line.dropFirst(4)))
                if line.count < 4 || line[line.index(line.startIndex, offsetBy: 3)] != "-" { return (code, text.joined(separator: " ")) }
            }
        }

        private mutating func line() throws(HostError) -> String {
            while true {
                if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: buffer[..<end], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    buffer.removeSubrange(...end)
                    return line
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let socket = self.socket
                let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { throw HostError("the SMTP server closed the connection or did not answer in time") }
                buffer.append(contentsOf: chunk[..<count])
            }
        }
    }
}
