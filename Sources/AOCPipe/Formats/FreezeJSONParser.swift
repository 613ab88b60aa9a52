#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses freeze events, one JSON object per line (docs/FORMATS.md, "Freeze events"), in place.
///
/// Reads `ts`, `event` and `case`; any other member is skipped whatever its type. Field order
/// is free, strings may use any JSON escape, and a duplicated key takes its last value.
public struct FreezeJSONParser: LineParser {
    private var days = DayCache()

    public init() {}

    /// A string value: its raw bytes between the quotes, and whether they hold escapes.
    struct StringSlice {
        var start = 0, end = 0
        var escaped = false
        var present = false
    }

    public mutating func parse(_ line: UnsafeRawBufferPointer) -> ParseOutcome {
        if let event = writerLayout(line) { return .event(event) }
        return anyLayout(line)
    }

    /// The case system's own layout: `{"ts":"…","event":"…","case":"…"` first, then only
    /// other members, no spaces, no escapes in the three. The time and the event name are
    /// parsed where they stand (no scan for their closing quotes, no second look at their
    /// bytes). nil for anything else, which `anyLayout` then reads, and judges, from the start.
    @inline(__always)
    mutating func writerLayout(_ line: UnsafeRawBufferPointer) -> Event? {
        var s = JSONScanner(line)
        guard s.literal("{\"ts\":\""),
              let (millis, end) = Timestamp.parseRFC3339Millis(line, from: s.i, days: &days)
        else { return nil }
        s.i = end
        guard s.literal("\",\"event\":\""), let kind = s.eventName(), s.literal(",\"case\":\""),
              let caseID = s.scanStringBody(), !caseID.escaped, caseID.end > caseID.start,
              s.otherMembersToTheEnd()
        else { return nil }
        return Event(kind: kind, millis: millis, caseKey: CaseKey(UnsafeRawBufferPointer(rebasing: line[caseID.start..<caseID.end])))
    }

    /// Any object: members in any order, spaces, escapes, repeated keys (the last wins).
    mutating func anyLayout(_ line: UnsafeRawBufferPointer) -> ParseOutcome {
        var s = JSONScanner(line)
        var ts = StringSlice(), event = StringSlice(), caseID = StringSlice()
        guard s.skipSpace(), s.peek == UInt8(ascii: "{") else { return .malformed(.badJSON) }
        s.i += 1
        guard s.skipSpace() else { return .malformed(.badJSON) }
        if s.peek == UInt8(ascii: "}") {
            s.i += 1
        } else {
            while true {
                guard s.peek == UInt8(ascii: "\""), let key = s.scanString(),
                      s.skipSpace(), s.peek == UInt8(ascii: ":")
                else { return .malformed(.badJSON) }
                s.i += 1
                guard s.skipSpace() else { return .malformed(.badJSON) }
                let which = Self.field(line, key)
                if which != 0 && s.peek == UInt8(ascii: "\"") {
                    guard let value = s.scanString() else { return .malformed(.badJSON) }
                    switch which {
                    case 1: ts = value
                    case 2: event = value
                    default: caseID = value
                    }
                } else {
                    guard s.skipValue() else { return .malformed(.badJSON) }
                }
                guard s.skipSpace() else { return .malformed(.badJSON) }
                if s.peek == UInt8(ascii: ",") {
                    s.i += 1
                    guard s.skipSpace() else { return .malformed(.badJSON) }
                    continue
                }
                guard s.peek == UInt8(ascii: "}") else { return .malformed(.badJSON) }
                s.i += 1
                break
            }
        }
        if s.skipSpace() { return .malformed(.badJSON) }  // bytes after the object
        guard ts.present, event.present, caseID.present else { return .malformed(.missingField) }

        let kind: Event.Kind
        switch Self.withContent(line, event, { Self.eventKind($0) }) {
        case .some(let k): kind = k
        case .none: return .malformed(.unknownEvent)
        }
        guard let millis = Self.withContent(line, ts, { Timestamp.parseRFC3339Millis($0) }) else {
            return .malformed(.badTimestamp)
        }
        let key = Self.withContent(line, caseID) { CaseKey($0) }
        guard !key.isEmpty else { return .malformed(.missingField) }
        return .event(Event(kind: kind, millis: millis, caseKey: key))
    }

    /// 1 for `ts`, 2 for `event`, 3 for `case`, 0 for any other key. The three names differ in
    /// length, so one length test and one comparison decide.
    @inline(__always)
    static func field(_ line: UnsafeRawBufferPointer, _ key: StringSlice) -> Int {
        if key.escaped { return withContent(line, key) { fieldOfName($0) } }
        return fieldOfName(UnsafeRawBufferPointer(rebasing: line[key.start..<key.end]))
    }

    @inline(__always)
    static func fieldOfName(_ k: UnsafeRawBufferPointer) -> Int {
        switch k.count {
        case 2: return equal(k, "ts") ? 1 : 0
        case 5: return equal(k, "event") ? 2 : 0
        case 4: return equal(k, "case") ? 3 : 0
        default: return 0
        }
    }

    /// The event names differ in length too.
    @inline(__always)
    static func eventKind(_ p: UnsafeRawBufferPointer) -> Event.Kind? {
        switch p.count {
        case 6: return equal(p, "frozen") ? .frozen : nil
        case 8: return equal(p, "reported") ? .reported : nil
        case 16: return equal(p, "freeze_requested") ? .freezeRequested : nil
        case 13: return equal(p, "freeze_failed") ? .freezeFailed : nil
        default: return nil
        }
    }

    /// Byte equality with a literal (a `StaticString`: no lazy global, no allocation).
    @inline(__always)
    static func equal(_ p: UnsafeRawBufferPointer, _ target: StaticString) -> Bool {
        guard p.count == target.utf8CodeUnitCount else { return false }
        return p.count == 0 || memcmp(p.baseAddress!, target.utf8Start, p.count) == 0
    }

    /// Calls `body` with the decoded content of a string: in place when it has no escapes,
    /// else unescaped into a temporary buffer (stack-allocated for short strings).
    @inline(__always)
    static func withContent<R>(_ line: UnsafeRawBufferPointer, _ s: StringSlice,
                               _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let raw = UnsafeRawBufferPointer(rebasing: line[s.start..<s.end])
        if !s.escaped { return body(raw) }
        return withUnsafeTemporaryAllocation(byteCount: max(raw.count, 1), alignment: 1) { buffer in
            let n = JSONScanner.unescape(raw, into: buffer)
            return body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }
}
