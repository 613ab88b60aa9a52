import Foundation

/// Finds the files of every source, again and again, and knows each one by its content: a file
/// keeps its identity (its fingerprint) through renames, compression and copies, so nothing is
/// read twice, and a file that shrinks or changes its first line was truncated.
///
/// Rotation, in logrotate's modes:
/// - `create`, `dateext`: the file is renamed (same inode): the open tail follows the inode
///   to its end; the new file has new content, so a new identity.
/// - `compress`, `delaycompress`: the renamed file later appears as `.gz` (a new inode, same
///   fingerprint): it is an alias while the plain inode is open, and is skipped once that
///   identity is complete; after a restart it carries on from the checkpoint's position.
/// - `copytruncate`: the copy has the fingerprint of what was being read, the original shrinks.
///   The tail moves to the copy at the same position; the original starts over as a new file.
///
/// Descriptors follow activity: a plain file read to its end and not written for
/// `follow.idle_timeout` is parked (closed, its inode, size and position kept) and opened
/// again when it grows, is truncated, or goes (then its position waits, as a checkpoint's
/// does, for its content to show up again, e.g. compressed). New files are adopted at most up
/// to `openLimit` open at once; the rest wait for the next look, which comes at once.
///
/// Confined to the follow loop's queue.
final class FileTracker {
    struct DevIno: Hashable { var device: UInt64; var inode: UInt64 }

    /// A closed idle file: where it was read to, and its size then.
    struct Parked {
        var position: Checkpoint.FilePosition
        var size: Int
    }
    private(set) var parked: [DevIno: Parked] = [:]
    /// Open followed files at most (a share of the descriptors this process may open).
    var openLimit = Int.max
    /// The last look left matched files unadopted (the open limit): look again soon...
    private(set) var moreToAdopt = false
    /// ... as soon as that look adopted files (their next read may find them idle) or a file
    /// was parked since (else at the rescan interval: no spinning while every open file is
    /// busy).
    private(set) var madeRoom = false
    var shouldLookAgain: Bool { moreToAdopt && madeRoom }

    private(set) var config: PipelineConfig
    private(set) var maxLineBytes: Int
    private(set) var tails: [any Tail] = []
    /// Identities not open now: complete ones (never read again), and positions from a
    /// checkpoint or a truncated file waiting for their file to show up.
    private(set) var known: [Checkpoint.FilePosition] = []
    /// Inodes whose content is an identity already open or complete (copies, `.gz` of a file
    /// read as plain): not read, until the identity they duplicate changes state.
    var aliases: [DevIno: Fingerprint] = [:]
    /// When each open tail was last matched by a glob (to let go of files moved away).
    var unmatchedSince: [ObjectIdentifier: Date] = [:]
    /// When each complete identity was last carried by a file (see `discover`).
    var uncarriedSince: [Fingerprint: Date] = [:]
    static let forgetCompleteAfter: TimeInterval = 600
    var events: [String] = []
    /// Followed files seen under a new name (rotations), since start.
    private(set) var renames = 0
    /// Files each source's globs matched at the last `discover` (for `/healthz`).
    private(set) var matchedFiles: [Int] = []

    func reconfigure(_ config: PipelineConfig) {
        self.config = config
        maxLineBytes = config.maxLineBytes
    }

    init(config: PipelineConfig, positions: [Checkpoint.FilePosition]) {
        self.config = config
        maxLineBytes = config.maxLineBytes
        known = positions
    }

    /// Positions of every identity, open or not, for the checkpoint.
    var positions: [Checkpoint.FilePosition] {
        tails.map { $0.position(complete: false) } + parked.values.map(\.position).sorted { ($0.source, $0.path) < ($1.source, $1.path) } + known
    }

    /// Closes `tail` (a plain file read to its end, idle): kept by inode until it changes.
    func park(_ tail: any Tail) {
        let status = tail.file.status
        parked[DevIno(device: status.device, inode: status.inode)] = Parked(position: tail.position(complete: false), size: status.size)
        tails.removeAll { $0 === tail }
        unmatchedSince[ObjectIdentifier(tail)] = nil
        madeRoom = true
    }

    /// Opens again the parked files at `paths` that inotify said were written (no look at the
    /// globs needed: the path, its inode and its position are known). Returns the paths that
    /// are open now.
    func unpark(written paths: Set<String>) -> Set<String> {
        guard !parked.isEmpty else { return [] }
        var opened = Set<String>()
        let byPath = Dictionary(parked.map { ($0.value.position.path, $0.key) }, uniquingKeysWith: { a, _ in a })
        for path in paths {
            guard tails.count < openLimit, let key = byPath[path],
                  let id = InputFile.pathStatus(of: path), id.device == key.device, id.inode == key.inode,
                  reopen(key, at: path) != nil else { continue }
            opened.insert(path)
        }
        if !opened.isEmpty { orderTails() }
        return opened
    }

    /// Opens the parked file `key` at `path` again, from its position (if it cannot be, the
    /// position waits as a checkpoint's does). nil: not open.
    private func reopen(_ key: DevIno, at path: String) -> (any Tail)? {
        guard let idle = parked[key], let file = try? InputFile(path: path), file.status.inode == key.inode else { return nil }
        parked[key] = nil
        guard let tail = try? makeTail(source: idle.position.source, path: path, file: file,
                                       fingerprint: idle.position.fingerprint, from: idle.position) else {
            known.append(idle.position)
            return nil
        }
        tails.append(tail)
        return tail
    }

    /// Whether `tail` may be parked now: read to its end, unmodified for `idleMillis`, and,
    /// for gzip, where decoding resumes exactly: a clean end (its last member complete) or an
    /// access point at the end of a member still being written (`AccessPoint`; a parked file
    /// keeps that point's 32 KiB window in memory).
    func isIdle(_ tail: any Tail, idleMillis: Int, nowMillis: Int) -> Bool {
        let status = tail.file.status
        guard status.links > 0, tail.bytesConsumed >= status.size, status.modifiedNanos / 1_000_000 <= nowMillis - idleMillis else {
            return false
        }
        guard tail.isGzip else { return true }
        let position = tail.position(complete: false)
        return position.resumeIsGzip && position.resume.fileOffset >= status.size && position.resume.decodedOffset == position.decodedOffset
    }

    /// One pass over the globs: follow renames, adopt new files, detect truncation.
    /// Returns the stats of newly seen files (their `files` count).
    func discover() -> [Int: InputStats] {
        moreToAdopt = false
        madeRoom = false
        var added: [Int: InputStats] = [:]
        var seen = Set<DevIno>()
        var matchedTails = Set<ObjectIdentifier>()
        let byInode = Dictionary(tails.map { t in
            let s = t.file.status
            return (DevIno(device: s.device, inode: s.inode), t)
        }, uniquingKeysWith: { a, _ in a })

        matchedFiles = Array(repeating: 0, count: config.sources.count)
        for (sourceIndex, source) in config.sources.enumerated() {
            var paths: [String] = []
            for pattern in source.paths { paths += Glob.expand(pattern) }
            matchedFiles[sourceIndex] = paths.count
            // Oldest first, so event time mostly moves forward as files are adopted. One stat
            // per path gives both the order and the identity.
            let ordered = paths.compactMap { p in InputFile.pathStatus(of: p).map { (p, $0) } }
                .sorted { $0.1.modifiedNanos != $1.1.modifiedNanos ? $0.1.modifiedNanos < $1.1.modifiedNanos : $0.0 < $1.0 }
            for (path, id) in ordered {
                let key = DevIno(device: id.device, inode: id.inode)
                seen.insert(key)
                if var idle = parked[key] {
                    if idle.position.path != path {
                        events.append("\(idle.position.path) is now \(path)")
                        renames += 1
                        idle.position.path = path
                        parked[key] = idle
                    }
                    // Unchanged: it stays closed. Grown or shrunk: opened at its position (a
                    // shrunk one is then found truncated, as an open one would be).
                    guard id.size != idle.size else { continue }
                    guard tails.count < openLimit else {
                        moreToAdopt = true
                        continue
                    }
                    if let tail = reopen(key, at: path) { matchedTails.insert(ObjectIdentifier(tail)) }
                    continue
                }
                if let tail = byInode[key] {
                    if tail.path != path {
                        events.append("\(tail.path) is now \(path)")
                        renames += 1
                    }
                    tail.path = path
                    matchedTails.insert(ObjectIdentifier(tail))
                    continue
                }
                if aliases[key] != nil { continue }
                if tails.count >= openLimit {
                    moreToAdopt = true
                    continue
                }
                guard let file = try? InputFile(path: path),
                      let fingerprint = try? Fingerprint.of(file, requireLine: true) else { continue }
                // Its first bytes, read once, against every identity (not one read each).
                let probe = FingerprintProbe(bytes: fingerprint.bytes ?? [])
                func relation(_ fp: Fingerprint) -> Fingerprint.Match { probe.relation(to: fp) }
                // A copy still being written: its first bytes agree with a known file but stop
                // short. Look again next time, when it may show all of them.
                if tails.contains(where: { $0.source == sourceIndex && relation($0.fingerprint) == .growingCopy })
                    || known.contains(where: { $0.source == sourceIndex && relation($0.fingerprint) == .growingCopy }) {
                    continue
                }
                // Same content as an open tail: a copy or a compressed copy; leave it be.
                if let open = tails.first(where: { $0.source == sourceIndex && relation($0.fingerprint) == .same }) {
                    aliases[key] = open.fingerprint
                    continue
                }
                if let k = known.firstIndex(where: { $0.source == sourceIndex && relation($0.fingerprint) == .same }) {
                    if known[k].complete {
                        aliases[key] = known[k].fingerprint
                        continue
                    }
                    let position = known.remove(at: k)
                    if let tail = try? makeTail(source: sourceIndex, path: path, file: file, fingerprint: position.fingerprint, from: position) {
                        events.append("\(path): going on from decoded offset \(position.decodedOffset)")
                        madeRoom = true
                        tails.append(tail)
                        matchedTails.insert(ObjectIdentifier(tail))
                    }
                    continue
                }
                if let tail = try? makeTail(source: sourceIndex, path: path, file: file, fingerprint: fingerprint, from: nil) {
                    events.append("\(path): new file")
                    madeRoom = true
                    tails.append(tail)
                    matchedTails.insert(ObjectIdentifier(tail))
                    added[sourceIndex, default: InputStats()].files += 1
                }
            }
        }
        // Aliases of inodes that are gone are forgotten; so are complete identities no file
        // has carried for a while (their files rotated away for good). Not at once: a
        // compressed copy may still be being written, and must find its identity when done.
        aliases = aliases.filter { seen.contains($0.key) }
        // A parked file that is gone (deleted, moved out of the globs) waits by its content,
        // as a checkpoint's position does: a compressed copy goes on from there.
        for (key, idle) in parked where !seen.contains(key) {
            known.append(idle.position)
            parked[key] = nil
        }
        let carried = Set(aliases.values)
        let now = Date()
        for fp in carried { uncarriedSince[fp] = nil }
        known.removeAll { record in
            guard record.complete, !carried.contains(record.fingerprint) else { return false }
            guard let since = uncarriedSince[record.fingerprint] else {
                uncarriedSince[record.fingerprint] = now
                return false
            }
            if now.timeIntervalSince(since) < Self.forgetCompleteAfter { return false }
            uncarriedSince[record.fingerprint] = nil
            return true
        }
        orderTails()
        for t in tails {
            let id = ObjectIdentifier(t)
            if matchedTails.contains(id) { unmatchedSince[id] = nil } else if unmatchedSince[id] == nil { unmatchedSince[id] = now }
        }
        return added
    }

    /// Each source's files in stream order, as they are read: by the time of their first record
    /// (a file whose first lines hold none, after), then as adopted. A source's lines thus reach
    /// its calls in the order they were written, whatever the files' names or times.
    private func orderTails() {
        let order = Dictionary(uniqueKeysWithValues: tails.enumerated().map { (ObjectIdentifier($1), $0) })
        tails.sort { a, b in
            (a.source, a.firstRecordMillis ?? .max, order[ObjectIdentifier(a)]!)
                < (b.source, b.firstRecordMillis ?? .max, order[ObjectIdentifier(b)]!)
        }
    }

    func makeTail(source: Int, path: String, file: InputFile, fingerprint: Fingerprint,
                  from position: Checkpoint.FilePosition?) throws(InputError) -> any Tail {
        try config.sources[source].withParser(TailOpener(source: source, settings: config.sources[source], path: path, file: file,
                                                         fingerprint: fingerprint, reportZone: config.zone,
                                                         maxLineBytes: maxLineBytes,
                                                         eventTimes: config.eventTimes(nowMillis: wallClockMillis()), position: position))
    }

    /// A plain file that is shorter than what was read, or whose first bytes changed, was
    /// truncated (copytruncate). Its identity waits for its copy; the inode starts over.
    func checkTruncation(_ tail: any Tail) -> Bool {
        guard !tail.isGzip else { return false }
        let size = tail.file.status.size
        let rewritten = size >= tail.fingerprint.length && !((try? tail.fingerprint.matches(tail.file)) ?? true)
        guard size < tail.bytesConsumed || rewritten else { return false }
        return true
    }

    /// Lets go of a tail: its identity becomes a known position (complete or waiting).
    func release(_ tail: any Tail, complete: Bool) {
        known.append(tail.position(complete: complete))
        tails.removeAll { $0 === tail }
        unmatchedSince[ObjectIdentifier(tail)] = nil
        // Inodes that were aliases of it are looked at again.
        aliases = aliases.filter { $0.value != tail.fingerprint || complete }
    }

    /// Whether a tail that reads nothing more should be let go: its file was deleted, or it has
    /// been outside every glob for a minute.
    func isFinished(_ tail: any Tail) -> Bool {
        if tail.file.status.links == 0 { return true }
        if let since = unmatchedSince[ObjectIdentifier(tail)], Date().timeIntervalSince(since) > 60 { return true }
        return false
    }
}
