import PostgresNIO

/// The `WHERE` clause of a list whose conditions depend on what the caller asked, with its
/// values bound as parameters (`$1`, `$2`...), never spliced into the text.
struct PostgresFilter {
    private var conditions: [String] = []
    private var binds = PostgresBindings()

    /// Binds `value`; returns its placeholder.
    mutating func parameter(_ value: some PostgresDynamicTypeEncodable) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    mutating func require(_ condition: String) { conditions.append(condition) }

    /// `select`, filtered, in `order`, at most `limit` rows.
    mutating func query(_ select: String, order: String, limit: Int) -> PostgresQuery {
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let limit = parameter(limit)
        return PostgresQuery(unsafeSQL: select + filter + " ORDER BY " + order + " LIMIT " + limit, binds: binds)
    }
}
