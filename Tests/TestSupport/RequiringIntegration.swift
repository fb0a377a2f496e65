/// An integration that requires a module of its scripts folder, for the tests of an integration's
/// `require` on its executor (RuntimeTests) and in the commands that read it (CLITests).
public enum RequiringIntegration {
    /// `lib/listing.lua`: it gets all it uses through its arguments, as lib/microsoft.lua does.
    public static let module = """
        local listing = {}

        --- What the list `listed` says of `value`, in the words of `source`.
        function listing.verdict(listed, value, source)
          if listed[value] then return { score = "malicious", reason = "listed by " .. source } end
          return { score = "benign", reason = "not listed by " .. source }
        end

        return listing
        """

    /// `integrations/blocklist.lua`: a lookup and an action (`blocklist.judge`) that answer through
    /// `lib.listing`, which lists 198.51.100.7.
    public static let integration = """
        local listing = require("lib.listing")

        local LISTED = { ["198.51.100.7"] = true }

        return integration {
          name = "Blocklist",
          reputation = {
            ip = function(ip) return listing.verdict(LISTED, ip, "the blocklist") end,
          },
          actions = {
            judge = {
              risk = "low", params = { ip = { type = "ip", required = true } },
              run = function(params) return listing.verdict(LISTED, params.ip, "the blocklist") end,
            },
          },
        }
        """

    /// Both, by their paths in a scripts folder.
    public static let files = ["lib/listing.lua": module, "integrations/blocklist.lua": integration]
}
