import AsyncHTTPClient
import Foundation
package import NIOCore
import NIOPosix
import NIOSSL

/// Why a request got no response, in words for the script's author. AsyncHTTPClient's errors
/// describe themselves by their case (`HTTPClientError.deadlineExceeded`), SwiftNIO's by the
/// system call that failed (`connect(descriptor:addr:size:): Connection refused (errno: 111)`).
package enum HTTPFailure {
    /// `timed out after 18 s`, `the connection was refused: is the service running, ...`.
    /// - Parameter timeout: the request's timeout, for a timeout's message.
    package static func describe(_ error: any Error, timeout: TimeAmount?) -> String {
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                "timed out" + (timeout.map { " after \(seconds($0)) s" } ?? "")
            case .connectTimeout: "no connection within the time allowed: is the host up, and its port open to us?"
            case .tlsHandshakeTimeout: "the TLS handshake timed out"
            case .remoteConnectionClosed: "the server closed the connection without answering"
            default: "the request failed (\(error.description.replacingOccurrences(of: "HTTPClientError.", with: "")))"
            }
        case let error as NIOConnectionError:
            error.connectionErrors.first.map { describe($0.error, timeout: timeout) }
                ?? "\(error.host) could not be resolved: check the host name"
        case let error as IOError where error.errnoCode == ECONNREFUSED:
            "the connection was refused: is the service running, and are the host and port right?"
        case let error as IOError:
            String(cString: strerror(error.errnoCode))
        case let error as ChannelError:
            if case .connectTimeout = error {
                "no connection within the time allowed: is the host up, and its port open to us?"
            } else {
                "the connection failed (\(error))"
            }
        case let error as SocketAddressError:
            if case .unknown(let host, _) = error { "\(host) could not be resolved: check the host name" } else { "\(error)" }
        case let error as NIOSSLError:
            "TLS failed: " + ("\(error)".contains("CERTIFICATE_VERIFY_FAILED")
                ? "the server's certificate is not trusted here" : "\(error)")
        case let error as NIOSSLExtraError:
            "TLS failed: \(error)"
        default:
            "\(error)"
        }
    }

    /// `18`, `0.2`.
    private static func seconds(_ timeout: TimeAmount) -> String {
        timeout.nanoseconds % 1_000_000_000 == 0 ? String(timeout.nanoseconds / 1_000_000_000)
            : String(Double(timeout.nanoseconds) / 1e9)
    }
}
