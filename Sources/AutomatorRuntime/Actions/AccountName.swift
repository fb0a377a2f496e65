import Foundation

/// An account as directories write it, compared with `actions.protected.accounts` as an identity
/// admin would: without case, surrounding spaces or a trailing dot, and `EXAMPLE\administrator`
/// (a Windows domain prefix) names `administrator` as `administrator@example.com` does.
struct AccountName {
    /// The name without its domain, in lower case.
    let local: String
    /// The DNS domain of `name@domain`, in lower case; nil for a bare name or `DOMAIN\name`,
    /// whose domain cannot be told from a DNS one (`CORP` may be `example.com`).
    let domain: String?

    init(_ text: String) {
        var text = text.trimmingCharacters(in: .whitespaces).lowercased()
        while text.hasSuffix(".") { text.removeLast() }
        if let at = text.lastIndex(of: "@") {
            (local, domain) = (String(text[..<at]), String(text[text.index(after: at)...]))
        } else if let slash = text.lastIndex(of: "\\") {
            (local, domain) = (String(text[text.index(after: slash)...]), nil)
        } else {
            (local, domain) = (text, nil)
        }
    }

    /// Whether this account may be `protected`: the same name, in the same domain when both say
    /// theirs. A name without a DNS domain may be in any, so it is taken for the protected one,
    /// and a protected bare name (`breakglass`) is that name at every domain.
    func mayBe(_ protected: AccountName) -> Bool {
        local == protected.local && (domain == nil || protected.domain == nil || domain == protected.domain)
    }
}
