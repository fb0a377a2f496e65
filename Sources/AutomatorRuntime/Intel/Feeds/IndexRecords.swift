/// Feed entries in compact form, gathered before an index is built: from loads, and from the
/// current index for the feeds a rebuild keeps (the index is the only copy of what was loaded).
///
/// Comments and origins are interned: a feed's thousand lines with the comment "botnet C2" hold
/// one string and one origin between them.
struct IndexRecords {
    private(set) var origins: [Origin] = []
    private var originIDs: [Origin: UInt32] = [:]
    /// Position 0 is "no comment".
    private(set) var comments: [String?] = [nil]
    private var commentIDs: [String: UInt32] = [:]

    private(set) var ipv4: [(key: UInt32, origin: UInt32)] = []
    private(set) var ipv4Networks: [NetworkRecord<UInt32>] = []
    private(set) var ipv6: [(key: IPv6Key, origin: UInt32)] = []
    private(set) var ipv6Networks: [NetworkRecord<UInt128>] = []
    private(set) var md5: [(key: MD5Key, origin: UInt32)] = []
    private(set) var sha1: [(key: SHA1Key, origin: UInt32)] = []
    private(set) var sha256: [(key: SHA256Key, origin: UInt32)] = []
    private(set) var sha512: [(key: SHA512Key, origin: UInt32)] = []
    private(set) var domains = StringRecords()
    private(set) var urls = StringRecords()
    private(set) var emails = StringRecords()
    private(set) var cves = StringRecords()

    /// The origin for an entry of the feed at `feed` with `comment`.
    mutating func origin(feed: Int, comment: String?) -> UInt32 {
        var commentID: UInt32 = 0
        if let comment {
            if let id = commentIDs[comment] {
                commentID = id
            } else {
                commentID = UInt32(comments.count)
                comments.append(comment)
                commentIDs[comment] = commentID
            }
        }
        let origin = Origin(feed: UInt32(feed), comment: commentID)
        if let id = originIDs[origin] { return id }
        precondition(origins.count < Int(OriginLists.listFlag) - 1, "more than 2^31 distinct feed comments")
        let id = UInt32(origins.count)
        origins.append(origin)
        originIDs[origin] = id
        return id
    }

    mutating func add(_ entry: FeedEntry, feed: Int) {
        add(entry.key, origin: origin(feed: feed, comment: entry.comment))
    }

    mutating func add(_ key: IndicatorKey, origin: UInt32) {
        switch key {
        case .ipv4(let address, 32): ipv4.append((address, origin))
        case .ipv4(let network, let length):
            ipv4Networks.append(NetworkRecord(network: network, prefixLength: length, origin: origin))
        case .ipv6(let network, let length) where IPAddress.embeddedV4(network, prefixLength: Int(length)) != nil:
            // IPv4 written as IPv6: kept as the IPv4 address or network it is, which lookups of either form find.
            add(.ipv4(UInt32(truncatingIfNeeded: network), prefixLength: length - 96), origin: origin)
        case .ipv6(let address, 128): ipv6.append((IPv6Key(address), origin))
        case .ipv6(let network, let length):
            ipv6Networks.append(NetworkRecord(network: network, prefixLength: length, origin: origin))
        case .md5(let key): md5.append((key, origin))
        case .sha1(let key): sha1.append((key, origin))
        case .sha256(let key): sha256.append((key, origin))
        case .sha512(let key): sha512.append((key, origin))
        case .text(.domain, let value): domains.append(value, origin: origin)
        case .text(.url, let value): urls.append(value, origin: origin)
        case .text(.email, let value): emails.append(value, origin: origin)
        case .text(_, let value): cves.append(value, origin: origin)
        }
    }

    /// Adds what `other` (one feed's fresh load) holds.
    mutating func add(_ other: IndexRecords) {
        let map = other.origins.map { origin(feed: Int($0.feed), comment: other.comments[Int($0.comment)]) }
        ipv4 += other.ipv4.map { ($0.key, map[Int($0.origin)]) }
        ipv4Networks += other.ipv4Networks.map { $0.with(origin: map[Int($0.origin)]) }
        ipv6 += other.ipv6.map { ($0.key, map[Int($0.origin)]) }
        ipv6Networks += other.ipv6Networks.map { $0.with(origin: map[Int($0.origin)]) }
        md5 += other.md5.map { ($0.key, map[Int($0.origin)]) }
        sha1 += other.sha1.map { ($0.key, map[Int($0.origin)]) }
        sha256 += other.sha256.map { ($0.key, map[Int($0.origin)]) }
        sha512 += other.sha512.map { ($0.key, map[Int($0.origin)]) }
        other.domains.forEach { domains.append($0, origin: map[Int($1)]) }
        other.urls.forEach { urls.append($0, origin: map[Int($1)]) }
        other.emails.forEach { emails.append($0, origin: map[Int($1)]) }
        other.cves.forEach { cves.append($0, origin: map[Int($1)]) }
    }

    /// Adds what `storage` holds for the feeds `keep` accepts.
    mutating func add(_ storage: FeedIndex.Storage, keeping keep: (Int) -> Bool) {
        var map = [UInt32?](repeating: nil, count: storage.origins.count)
        for (id, origin) in storage.origins.enumerated() where keep(Int(origin.feed)) {
            map[id] = self.origin(feed: Int(origin.feed), comment: storage.comments[Int(origin.comment)])
        }
        func each(_ ref: UInt32, _ body: (UInt32) -> Void) {
            for id in OriginLists.origins(of: ref, in: storage.lists) {
                if let origin = map[Int(id)] { body(origin) }
            }
        }
        storage.ipv4.forEach { key, ref in each(ref) { ipv4.append((key, $0)) } }
        storage.ipv6.forEach { key, ref in each(ref) { ipv6.append((key, $0)) } }
        storage.md5.forEach { key, ref in each(ref) { md5.append((key, $0)) } }
        storage.sha1.forEach { key, ref in each(ref) { sha1.append((key, $0)) } }
        storage.sha256.forEach { key, ref in each(ref) { sha256.append((key, $0)) } }
        storage.sha512.forEach { key, ref in each(ref) { sha512.append((key, $0)) } }
        storage.domains.forEach { value, ref in each(ref) { domains.append(value, origin: $0) } }
        storage.urls.forEach { value, ref in each(ref) { urls.append(value, origin: $0) } }
        storage.emails.forEach { value, ref in each(ref) { emails.append(value, origin: $0) } }
        storage.cves.forEach { value, ref in each(ref) { cves.append(value, origin: $0) } }
        ipv4Networks += storage.ipv4Networks.networks.compactMap { record in map[Int(record.origin)].map(record.with) }
        ipv6Networks += storage.ipv6Networks.networks.compactMap { record in map[Int(record.origin)].map(record.with) }
    }

    /// The index of these records, for `feeds`.
    consuming func build(feeds: [Feed]) -> FeedIndex.Storage {
        orderOriginsByFeed()
        var lists = OriginLists()
        let seed = FeedHashing.newSeed()
        let ipv4 = ExactTable(ipv4, lists: &lists, seed: seed)
        let ipv4Networks = CIDRIndex(ipv4Networks, lists: &lists)
        let ipv6 = ExactTable(ipv6, lists: &lists, seed: seed)
        let ipv6Networks = PrefixTable(ipv6Networks, lists: &lists, seed: seed)
        let md5 = ExactTable(md5, lists: &lists, seed: seed)
        let sha1 = ExactTable(sha1, lists: &lists, seed: seed)
        let sha256 = ExactTable(sha256, lists: &lists, seed: seed)
        let sha512 = ExactTable(sha512, lists: &lists, seed: seed)
        let domains = DomainIndex(domains, lists: &lists, seed: seed)
        let hash = { (value: UnsafeBufferPointer<UInt8>) in FeedHashing.bytes(value, seed: seed) }
        let urls = StringTable(urls, lists: &lists, hash: hash)
        let emails = StringTable(emails, lists: &lists, hash: hash)
        let cves = StringTable(cves, lists: &lists, hash: hash)
        return FeedIndex.Storage(feeds: feeds, origins: origins, comments: comments, lists: lists.storage, seed: seed,
                                 ipv4: ipv4, ipv4Networks: ipv4Networks, ipv6: ipv6, ipv6Networks: ipv6Networks,
                                 md5: md5, sha1: sha1, sha256: sha256, sha512: sha512,
                                 domains: domains, urls: urls, emails: emails, cves: cves)
    }

    /// Renumbers origins in the order of their feeds (keeping their order within a feed), so
    /// matches, which come in origin order, come in feed order. Origins are numbered as seen,
    /// and a rebuild sees the reloaded feed last.
    private mutating func orderOriginsByFeed() {
        let order = origins.indices.sorted { (origins[$0].feed, $0) < (origins[$1].feed, $1) }
        guard order != Array(origins.indices) else { return }
        var map = [UInt32](repeating: 0, count: origins.count)
        for (new, old) in order.enumerated() { map[old] = UInt32(new) }
        origins = order.map { origins[$0] }
        originIDs = [:]
        for index in ipv4.indices { ipv4[index].origin = map[Int(ipv4[index].origin)] }
        for index in ipv4Networks.indices { ipv4Networks[index].origin = map[Int(ipv4Networks[index].origin)] }
        for index in ipv6.indices { ipv6[index].origin = map[Int(ipv6[index].origin)] }
        for index in ipv6Networks.indices { ipv6Networks[index].origin = map[Int(ipv6Networks[index].origin)] }
        for index in md5.indices { md5[index].origin = map[Int(md5[index].origin)] }
        for index in sha1.indices { sha1[index].origin = map[Int(sha1[index].origin)] }
        for index in sha256.indices { sha256[index].origin = map[Int(sha256[index].origin)] }
        for index in sha512.indices { sha512[index].origin = map[Int(sha512[index].origin)] }
        domains.remapOrigins(map)
        urls.remapOrigins(map)
        emails.remapOrigins(map)
        cves.remapOrigins(map)
    }
}
