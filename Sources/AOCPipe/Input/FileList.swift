import Foundation

extension PipelineConfig {
    /// Expands each source's globs (sorted, duplicates removed). A glob matching no file is an
    /// error naming the file, line and key.
    public func resolveFiles() throws(ConfigError) -> [(source: Source, files: [String])] {
        var result: [(Source, [String])] = []
        for source in sources {
            var files: [String] = []
            var seen = Set<String>()
            for pattern in source.paths {
                let matches = Glob.expand(pattern)
                guard !matches.isEmpty else {
                    throw ConfigError(file: file, line: source.line, key: "sources.\(source.name).paths",
                                      message: "\"\(pattern)\" matches no file (relative paths start at \(FileManager.default.currentDirectoryPath))")
                }
                for m in matches where seen.insert(m).inserted { files.append(m) }
            }
            result.append((source, files))
        }
        return result
    }
}
