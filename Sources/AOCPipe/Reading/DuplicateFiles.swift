/// A matched file batch does not read, because its content is read under another name.
public struct DuplicateFile: Sendable, Equatable {
    public enum Why: String, Sendable {
        /// The same inode: a symlink, a hard link, or the same path matched twice.
        case sameFile = "same_file"
        /// Decodes to the same bytes: a copy, or a plain file and its `.gz`.
        case sameContent = "same_content"
        /// Decodes to the start of the other's content: an older copy of a log that grew.
        case prefix = "prefix"

        /// For messages: "PATH is ... OTHER".
        public var phrase: String {
            switch self {
            case .sameFile: return "the same file as"
            case .sameContent: return "the same content as"
            case .prefix: return "the start of"
            }
        }
    }
    public var path: String
    public var sameAs: String
    public var why: Why
}

/// Batch's file identity, the same as follow's: a file is its decoded content, not its name.
/// Of a source's matched files, each content is read once: files on one inode are one file,
/// and of files whose decoded content is equal, or the start of another's, only the longest
/// is read. Candidates are found by fingerprint (a file that is the start of another shares
/// its first bytes), then confirmed by decoding both to the end (rare: copies only).
enum DuplicateFiles {
    struct Candidate {
        var path: String
        var fingerprint: Fingerprint?
    }

    /// What was found: the paths to read (in the given order) and the duplicates, plus files
    /// that start alike but differ later (both read; the caller warns).
    struct Outcome {
        var read: [Candidate] = []
        var duplicates: [DuplicateFile] = []
        var diverging: [(path: String, other: String, at: Int)] = []
    }

    /// Sorts one source's files (`paths`, in glob order) into read and duplicate.
    static func sort(_ paths: [String]) throws(InputError) -> Outcome {
        var outcome = Outcome()
        // Same inode: the first path names it.
        struct Inode: Hashable { var device: UInt64, inode: UInt64 }
        var byInode: [Inode: String] = [:]
        var unique: [String] = []
        for path in paths {
            guard let id = InputFile.identity(of: path) else { unique.append(path); continue }  // the reader reports it
            let key = Inode(device: id.device, inode: id.inode)
            if let first = byInode[key] {
                outcome.duplicates.append(DuplicateFile(path: path, sameAs: first, why: .sameFile))
            } else {
                byInode[key] = path
                unique.append(path)
            }
        }
        var candidates: [Candidate] = []
        for path in unique {
            let file = try InputFile(path: path)
            candidates.append(Candidate(path: path, fingerprint: try Fingerprint.of(file)))
        }
        // Groups of files whose first bytes agree: full fingerprints by equality, shorter
        // ones (a whole file under the span) by being the start of another.
        var groups: [[Int]] = []
        var full: [Fingerprint: Int] = [:]
        for (k, c) in candidates.enumerated() {
            guard let f = c.fingerprint, f.length == Fingerprint.span else { continue }
            if let g = full[f] { groups[g].append(k) } else { full[f] = groups.count; groups.append([k]) }
        }
        for (k, c) in candidates.enumerated() {
            guard let f = c.fingerprint, f.length < Fingerprint.span else { continue }
            if let g = groups.firstIndex(where: { g in
                g.contains { j in candidates[j].fingerprint.map { f.isStart(of: $0) || $0.isStart(of: f) } ?? false }
            }) {
                groups[g].append(k)
            } else {
                groups.append([k])
            }
        }
        var skipped = Set<Int>()
        for group in groups where group.count > 1 {
            // The contents read so far in this group (each a file none of the others contains).
            var keepers: [Int] = []
            for k in group {
                var placed = false
                for (i, keeper) in keepers.enumerated() {
                    switch try compare(candidates[keeper].path, candidates[k].path) {
                    case .equal:
                        outcome.duplicates.append(DuplicateFile(path: candidates[k].path, sameAs: candidates[keeper].path, why: .sameContent))
                        skipped.insert(k)
                        placed = true
                    case .firstIsPrefix:
                        // The new file holds the keeper's content and more: it is read instead.
                        // (The keeper's own duplicates are pointed on to the new file below.)
                        outcome.duplicates.append(DuplicateFile(path: candidates[keeper].path, sameAs: candidates[k].path, why: .prefix))
                        skipped.insert(keeper)
                        keepers[i] = k
                        placed = true
                    case .secondIsPrefix:
                        outcome.duplicates.append(DuplicateFile(path: candidates[k].path, sameAs: candidates[keeper].path, why: .prefix))
                        skipped.insert(k)
                        placed = true
                    case .differ(let at):
                        outcome.diverging.append((candidates[k].path, candidates[keeper].path, at))
                    }
                    if placed { break }
                }
                if !placed { keepers.append(k) }
            }
        }
        outcome.read = candidates.enumerated().filter { !skipped.contains($0.offset) }.map(\.element)
        // Each duplicate names the file that is read (a link to a copy names the original).
        // Through a content match, a link is then the same content; through a prefix, a prefix.
        let target = Dictionary(outcome.duplicates.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        for d in outcome.duplicates.indices {
            var hops = 0
            while let next = target[outcome.duplicates[d].sameAs], hops < target.count {
                outcome.duplicates[d].sameAs = next.sameAs
                if next.why == .prefix || outcome.duplicates[d].why == .sameFile { outcome.duplicates[d].why = next.why }
                hops += 1
            }
        }
        outcome.duplicates.sort { $0.path < $1.path }
        return outcome
    }

    enum Relation: Equatable { case equal, firstIsPrefix, secondIsPrefix, differ(at: Int) }

    /// Decodes both files side by side and says how their contents relate.
    static func compare(_ a: String, _ b: String) throws(InputError) -> Relation {
        var x = try DecodedStream(path: a), y = try DecodedStream(path: b)
        defer { x.close(); y.close() }
        var offset = 0
        while true {
            let p = try x.peek(), q = try y.peek()
            if p.isEmpty || q.isEmpty {
                if p.isEmpty && q.isEmpty { return .equal }
                return p.isEmpty ? .firstIsPrefix : .secondIsPrefix
            }
            let n = min(p.count, q.count)
            if let i = (0..<n).first(where: { p[$0] != q[$0] }) { return .differ(at: offset + i) }
            x.consume(n)
            y.consume(n)
            offset += n
        }
    }

    /// A file's decoded bytes, a buffer at a time.
    struct DecodedStream {
        let decoder: any ByteDecoder
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        var start = 0, end = 0

        init(path: String) throws(InputError) {
            decoder = try Decoding.decoder(for: InputFile(path: path), readSize: 64 * 1024)
        }

        /// The bytes not yet consumed (empty at the end).
        mutating func peek() throws(InputError) -> UnsafeRawBufferPointer {
            while start == end {
                let (n, gap) = try decoder.read(into: buffer)
                start = 0
                end = n
                if n == 0 && !gap { break }
            }
            return UnsafeRawBufferPointer(rebasing: buffer[start..<end])
        }

        mutating func consume(_ n: Int) { start += n }

        func close() { buffer.deallocate() }
    }
}
