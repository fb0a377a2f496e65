import AutomatorRuntime
import Logging

/// What `intel.reputation` asks in `automator run` and `repl`: the feeds and integrations of a
/// configuration file, with no cache (they need no data folder). Without a file, nothing: a
/// script's `intel.reputation` then says what to give.
enum LocalReputation {
    /// The reputation, and the integrations it asks (for their actions too).
    static func open(config: String?, scripts: String, logger: Logger) throws
        -> (reputation: ReputationService, integrations: Integrations)?
    {
        guard let config else { return nil }
        let intel = try IntelConfiguration(file: config)
        let integrations = waitBlocking {
            await Integrations(folder: scripts + "/integrations", settings: intel.integrations, logger: logger)
        }
        return (ReputationService(feeds: FeedSet(intel.feeds, logger: logger), integrations: integrations, cache: nil,
                                  ttl: intel.cacheTTL), integrations)
    }
}
