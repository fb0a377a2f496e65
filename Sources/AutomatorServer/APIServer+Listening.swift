import Foundation
import NIOCore
import NIOPosix

extension APIServer {
    /// Binds the address the server will listen on, and lets it go: a server that cannot listen
    /// (the port in use, an address not of this machine) says so before it resumes anything.
    /// Before, it resumed its runs, stopped them again and logged a failed checkpoint, then said why.
    ///
    /// Another process could still take the port between this look and the server's own bind:
    /// the server then stops as it does for any error of the group.
    static func checkListening(host: String, port: Int) async throws(ServeError) {
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port).get()
            try await channel.close()
        } catch {
            throw cannotListen(host: host, port: port, error)
        }
    }

    /// Why the server cannot listen, in the system's words.
    static func cannotListen(host: String, port: Int, _ error: any Error) -> ServeError {
        let reason = (error as? IOError).map { String(cString: strerror($0.errnoCode)) } ?? "\(error)"
        return ServeError.cannotListen(address(host: host, port: port), reason: reason)
    }
}
