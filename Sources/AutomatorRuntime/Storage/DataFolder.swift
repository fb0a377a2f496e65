import Foundation

/// The data folder: the SQLite database, the API token, the server's lock, the journal's
/// signing key, the evidence vault.
public enum DataFolder {
    /// Makes the folder (mode 0700, with its parents) unless it exists; refuses a file.
    public static func prepare(_ folder: String) throws(StoreError) {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw .dataFolderIsFile(folder) }
            return
        }
        // `mkdir -p`, by hand: Foundation's error would not say why ("Permission denied").
        var prefix = folder.hasPrefix("/") ? "/" : ""
        for component in folder.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o700) != 0, errno != EEXIST {
                throw .cannotCreateDataFolder(folder, reason: String(cString: strerror(errno)))
            }
        }
    }
}
