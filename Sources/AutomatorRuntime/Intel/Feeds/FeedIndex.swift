/// Every loaded feed's entries, arranged for lookups: which feeds list an indicator.
///
/// Immutable, so any number of threads look up at once without locks; a `FeedSet` builds a new
/// one when a feed changes and swaps it in. Exact matches for hashes, URLs, e-mail addresses,
/// CVEs and addresses; containment for networks (`198.51.100.7` is in a listed
/// `198.51.100.0/24`); suffixes for domains (`a.example.com` is under a listed `example.com`).
///
/// ```swift
/// for match in feeds.index.matches(.ipv4, "198.51.100.7") {
///     print(match.feed.name, match.verdict, match.comment ?? "")
/// }
/// ```
public struct FeedIndex: Sendable {
    let storage: Storage

    /// The feeds, in the order matches come in.
    public var feeds: [Feed] { storage.feeds }

    /// The distinct indicators listed: an address two feeds list counts once, a network once.
    public var count: Int { storage.count }

    /// The listings of an indicator.
    ///
    /// - Parameters:
    ///   - type: What `value` is. Networks are looked up by address: `.ipv4` with
    ///     `198.51.100.7` finds a listed `198.51.100.0/24`.
    ///   - value: Normalised as extraction gives it: domains in lower case, URLs with a
    ///     lower-case scheme and host. Addresses and hashes may be in any text form or case.
    /// - Returns: Every feed listing it, with the listing's comment; empty when none does, or
    ///   when `value` is not a valid `type`.
    public func matches(_ type: IndicatorType, _ value: String) -> FeedMatches {
        Self.bytes(of: value) { matches(type, $0) }
    }

    /// `body` of `value`'s UTF-8 bytes, without a copy when the string has them in one piece
    /// (as native strings do).
    @inline(__always)
    static func bytes<Result>(of value: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        if let result = value.utf8.withContiguousStorageIfAvailable(body) { return result }
        var value = value
        return value.withUTF8(body)
    }

    func matches(_ type: IndicatorType, _ value: UnsafeBufferPointer<UInt8>) -> FeedMatches {
        let storage = storage
        var found = MatchCollector()
        switch type {
        case .ipv4:
            guard let address = IPAddress.v4(value) else { break }
            Self.collect(v4: address, in: storage, into: &found)
        case .ipv6:
            guard let address = IPAddress.v6(value) else { break }
            let exact = storage.ipv6.ref(for: IPv6Key(address))
            let network = storage.ipv6Networks.ref(containing: address)
            found.add(exact)
            found.add(network)
            // `::ffff:203.0.113.5` is 203.0.113.5 (and `64:ff9b::203.0.113.5`): what the feeds list of it as IPv4 too.
            if let v4 = IPAddress.embeddedV4(address)?.network { Self.collect(v4: v4, in: storage, into: &found) }
        case .domain:
            guard storage.domains.collect(value, into: &found) else {
                // An internationalised name as written (`bücher.example`): feeds hold its A-labels.
                guard let name = try? IndicatorKey.domain(value) else { break }
                return matches(.domain, name)
            }
        case .url:
            found.add(storage.urls.ref(for: value, hash: FeedHashing.bytes(value, seed: storage.seed)))
        case .email:
            found.add(storage.emails.ref(for: value, hash: FeedHashing.bytes(value, seed: storage.seed)))
        case .cve:
            found.add(storage.cves.ref(for: value, hash: FeedHashing.bytes(value, seed: storage.seed)))
        case .md5:
            found.add(Self.ref(in: storage.md5, value))
        case .sha1:
            found.add(Self.ref(in: storage.sha1, value))
        case .sha256:
            found.add(Self.ref(in: storage.sha256, value))
        case .sha512:
            found.add(Self.ref(in: storage.sha512, value))
        }
        return found.matches(in: storage)
    }

    @inline(__always)
    static func collect(v4 address: UInt32, in storage: Storage, into found: inout MatchCollector) {
        // Both reads before either result is looked at: their cache misses overlap.
        let exact = storage.ipv4.ref(for: address)
        let network = storage.ipv4Networks.ref(containing: address)
        found.add(exact)
        found.add(network)
    }

    @inline(__always)
    private static func ref<Key: DigestKey>(in table: ExactTable<Key>, _ hex: UnsafeBufferPointer<UInt8>) -> UInt32 {
        guard let key = Key(hex: hex) else { return 0 }
        return table.ref(for: key)
    }
}

extension FeedIndex {
    /// The tables, shared by every copy of the index and by the matches it returns.
    final class Storage: Sendable {
        let feeds: [Feed]
        let origins: [Origin]
        let comments: [String?]
        let lists: [UInt32]
        /// The seed of the text tables' hash (the others keep their own).
        let seed: UInt64
        let ipv4: ExactTable<UInt32>
        let ipv4Networks: CIDRIndex<UInt32>
        let ipv6: ExactTable<IPv6Key>
        let ipv6Networks: PrefixTable
        let md5: ExactTable<MD5Key>
        let sha1: ExactTable<SHA1Key>
        let sha256: ExactTable<SHA256Key>
        let sha512: ExactTable<SHA512Key>
        let domains: DomainIndex
        let urls: StringTable
        let emails: StringTable
        let cves: StringTable

        init(feeds: [Feed], origins: [Origin], comments: [String?], lists: [UInt32], seed: UInt64,
             ipv4: ExactTable<UInt32>, ipv4Networks: CIDRIndex<UInt32>,
             ipv6: ExactTable<IPv6Key>, ipv6Networks: PrefixTable,
             md5: ExactTable<MD5Key>, sha1: ExactTable<SHA1Key>, sha256: ExactTable<SHA256Key>,
             sha512: ExactTable<SHA512Key>, domains: DomainIndex, urls: StringTable, emails: StringTable,
             cves: StringTable) {
            (self.feeds, self.origins, self.comments, self.lists, self.seed) = (feeds, origins, comments, lists, seed)
            (self.ipv4, self.ipv4Networks, self.ipv6, self.ipv6Networks) = (ipv4, ipv4Networks, ipv6, ipv6Networks)
            (self.md5, self.sha1, self.sha256, self.sha512) = (md5, sha1, sha256, sha512)
            (self.domains, self.urls, self.emails, self.cves) = (domains, urls, emails, cves)
        }

        /// How many origins the list `ref` (one with `OriginLists.listFlag`) holds.
        @inline(__always)
        func listCount(_ ref: UInt32) -> Int {
            Int(lists[Int(ref & ~OriginLists.listFlag)])
        }

        var count: Int {
            ipv4.count + ipv4Networks.count + ipv6.count + ipv6Networks.count + md5.count + sha1.count
                + sha256.count + sha512.count + domains.count + urls.count + emails.count + cves.count
        }
    }
}
