package import AutomatorRuntime

extension SchemaUpgrade {
    /// What serve logs, and a command prints, when it upgraded `store`'s schema: from now on an
    /// older automator refuses the database, so an operator who goes back to one learns here why,
    /// and what to restore.
    package func notice(of store: String) -> String {
        """
        upgraded the schema of \(store) \(self) for this automator (\(AutomatorVersion.current)): an older one \
        now refuses it, so going back means restoring the backup made before the upgrade
        """
    }
}
