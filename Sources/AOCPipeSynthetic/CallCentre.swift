import AOCPipe

/// How the generator writes a call's CDR lines.
public enum CDRStyle: String, Sendable, CaseIterable {
    /// As an Asterisk queue call centre logs it (docs/FORMATS.md, "Calls"): an IVR that
    /// answers, a queue that rings agents (ringall and rrmemory), misses and retries, abandons,
    /// voicemail, transfers and, in 21 columns, Local-channel legs; several lines a call.
    case callcentre
    /// One line a call.
    case simple
}

/// One CDR line's fields, as `cdr_csv` writes them.
struct CDRLine {
    enum Channel {
        case none
        /// The trunk the call came in on, by its channel number.
        case trunk(Int)
        /// An agent's phone: agent number, channel number.
        case agent(Int, Int)
        /// A Local channel to the queue, by its number, half 1 or 2.
        case local(Int, half: Int)
        /// An internal extension (a transfer's target).
        case phone(StaticString, Int)
    }

    var src: Int
    var dst: StaticString = "1441"
    var dcontext: StaticString = "aoc-hotline"
    var channel: Channel
    var dstChannel: Channel = .none
    var lastapp: StaticString = "Queue"
    var lastdata: StaticString = "aoc1441,t,,,300"
    var start: Int
    var answer: Int?
    var end: Int
    var disposition: StaticString
    /// `epoch.counter` ids.
    var uniqueid: (Int, Int)
    var linkedid: (Int, Int)
    var sequence: Int

    /// The line, with its newline: 18 columns (`loguniqueid`, `loguserfield`) or 21
    /// (`newcdrcolumns` too: peeraccount, linkedid, sequence). `offset`: the server's UTC offset.
    func append(to line: inout [UInt8], offset: Int, columns: Int) {
        line.append("\"\",\"0")
        line.appendDigits(src, width: 9)
        line.append("\",\"")
        line.append(dst)
        line.append("\",\"")
        line.append(dcontext)
        line.append("\",\"\"\"Caller\"\" <0")
        line.appendDigits(src, width: 9)
        line.append(">\",\"")
        Self.append(channel, to: &line)
        line.append("\",\"")
        Self.append(dstChannel, to: &line)
        line.append("\",\"")
        line.append(lastapp)
        line.append("\",\"")
        line.append(lastdata)
        line.append("\",\"")
        line.appendDateTime(localSeconds: start + offset)
        line.append("\",")
        if let answer {
            line.append(UInt8(ascii: "\""))
            line.appendDateTime(localSeconds: answer + offset)
            line.append("\",\"")
        } else {
            line.append(",\"")
        }
        line.appendDateTime(localSeconds: end + offset)
        line.append("\",")
        line.appendInt(end - start)
        line.append(UInt8(ascii: ","))
        line.appendInt(answer.map { end - $0 } ?? 0)
        line.append(",\"")
        line.append(disposition)
        line.append("\",\"DOCUMENTATION\",\"")
        line.appendInt(uniqueid.0); line.append(UInt8(ascii: ".")); line.appendInt(uniqueid.1)
        line.append("\",\"\"")
        if columns == 21 {
            line.append(",\"\",\"")
            line.appendInt(linkedid.0); line.append(UInt8(ascii: ".")); line.appendInt(linkedid.1)
            line.append("\",")
            line.appendInt(sequence)
        }
        line.append(UInt8(ascii: "\n"))
    }

    static func append(_ channel: Channel, to line: inout [UInt8]) {
        switch channel {
        case .none: break
        case .trunk(let n):
            line.append("PJSIP/trunk-")
            line.appendDigits(n % 100_000_000, width: 8)
        case .agent(let agent, let n):
            line.append("PJSIP/agent")
            line.appendDigits(agent, width: 3)
            line.append(UInt8(ascii: "-"))
            line.appendDigits(n % 100_000_000, width: 8)
        case .local(let n, let half):
            line.append("Local/1441@aoc-queue-")
            line.appendDigits(n % 100_000_000, width: 8)
            line.append(half == 1 ? ";1" : ";2")
        case .phone(let exten, let n):
            line.append("PJSIP/")
            line.append(exten)
            line.append(UInt8(ascii: "-"))
            line.appendDigits(n % 100_000_000, width: 8)
        }
    }
}

/// The lines Asterisk writes for one call, and when: a caller's lines when the caller hangs up,
/// a Local leg's when it ends. Every hotline line of a call shares its uniqueid (and linkedid);
/// the first keeps the channel's creation time as its start, so the call's earliest start is
/// its start. An agent answered it exactly when `call.agent > 0`: one line is then `ANSWERED`
/// to an agent's channel, and no line of an unanswered call is.
enum CallCentre {
    /// Ring timeout and retry (queues.conf: `timeout=15`, `retry=5`).
    static let ring = 15, retry = 5

    struct Written {
        var time: Int
        var lines: [CDRLine]
    }

    /// The parts of `call` in the order written. `columns` 21 adds Local-channel legs.
    static func lines(of call: GeneratedCall, columns: Int, rng: inout SeededRandom) -> [Written] {
        let id = (call.start, call.sequence)
        let src = call.src
        var out: [CDRLine] = []
        var n = 0
        func add(_ l: CDRLine) { var l = l; l.sequence = n; n += 1; out.append(l) }
        guard call.dst.description == "1441" else {
            // Other numbers: one line, as before.
            add(CDRLine(src: src, dst: call.dst, dcontext: call.dcontext, channel: .trunk(call.sequence),
                        dstChannel: call.agent > 0 ? .phone("2001", call.sequence + 1) : .none, lastapp: "Dial", lastdata: "PJSIP/2001,30",
                        start: call.start, answer: call.answer, end: call.end, disposition: call.disposition,
                        uniqueid: id, linkedid: id, sequence: 0))
            return [Written(time: call.end, lines: out)]
        }
        let answeredAt = call.agent > 0 ? call.answer : nil
        let hangup = call.end
        let lastEvent = answeredAt ?? hangup
        // The IVR answers at once and plays its menu; then the queue.
        let ivr = min(rng.int(3...25), max(lastEvent - call.start - 2, 1))
        let queued = call.start + ivr
        let ringall = rng.below(2) == 0
        // Reaching the queue through a Local channel (21 columns): the caller's line goes to
        // the Local channel, whose own half rings the agents, with its own uniqueid.
        let viaLocal = columns == 21 && rng.below(3) == 0
        let ringer: CDRLine.Channel = viaLocal ? .local(call.sequence, half: 2) : .trunk(call.sequence)
        let ringerID = viaLocal ? (call.start, call.sequence + 1) : id
        var ringLines: [CDRLine] = []
        var first = !viaLocal  // the caller's first ring line keeps the channel's creation time
        func ringLine(agent: Int, at t: Int, end: Int, disposition: StaticString) {
            let start = first ? call.start : t
            first = false
            ringLines.append(CDRLine(src: src, dcontext: viaLocal ? "aoc-queue" : "aoc-hotline", channel: ringer,
                                     dstChannel: .agent(agent, call.sequence &+ 7 &* ringLines.count &+ 2),
                                     start: start, answer: max(start, call.start + 1), end: end, disposition: disposition,
                                     uniqueid: ringerID, linkedid: id, sequence: 0))
        }
        func otherAgent(than a: Int) -> Int { 1 + (a + rng.int(1...58)) % 60 }
        // Ring attempts every `ring + retry` seconds from the queue's start until `until`.
        func ringAttempts(until: Int, answeredBy agent: Int?) {
            var t = queued
            var members = [agent ?? rng.int(1...60)]
            if ringall { for _ in 0..<rng.int(1...3) { members.append(otherAgent(than: members[0])) } }
            while true {
                let last = t + ring + retry > until
                let stop = min(t + ring, until)
                for (k, m) in members.enumerated() {
                    if last, let agent, m == agent, k == 0 {
                        ringLine(agent: agent, at: t, end: hangup, disposition: "ANSWERED")
                    } else {
                        ringLine(agent: m, at: t, end: stop, disposition: rng.below(10) == 0 ? "BUSY" : "NO ANSWER")
                    }
                }
                if last { break }
                t += ring + retry
                // rrmemory: the next member; ringall: the same members again.
                if !ringall { members = [members.count == 1 && agent != nil && t + ring + retry > until ? agent! : otherAgent(than: members[0])] }
            }
        }
        // What happened to the call.
        var tail: [CDRLine] = []
        if let answeredAt {
            ringAttempts(until: answeredAt, answeredBy: call.agent)
            // One answered call in twenty is blind-transferred: back into the hotline queue
            // (a second agent takes it) or to an internal number.
            if rng.below(20) == 0 && hangup - answeredAt > 40 {
                let at = answeredAt + (hangup - answeredAt) / 2
                if let k = ringLines.lastIndex(where: { $0.disposition.description == "ANSWERED" }) { ringLines[k].end = at }
                let back = rng.below(2) == 0
                tail.append(CDRLine(src: src, dst: back ? "1441" : "2001", dcontext: back ? "aoc-hotline" : "from-internal",
                                    channel: ringer, dstChannel: back ? .agent(otherAgent(than: call.agent), call.sequence &+ 97) : .phone("2001", call.sequence &+ 97),
                                    lastapp: back ? "Queue" : "Dial", lastdata: back ? "aoc1441,t,,,300" : "PJSIP/2001,30",
                                    start: at, answer: at, end: hangup, disposition: "ANSWERED",
                                    uniqueid: ringerID, linkedid: id, sequence: 0))
            }
        } else {
            let r = rng.below(100)
            if r < 15 || hangup - queued < 2 {
                // Gave up before any agent rang: the IVR's line, ANSWERED, no dstchannel.
                if !viaLocal {
                    ringLines.append(CDRLine(src: src, channel: ringer, start: call.start, answer: call.start + 1, end: hangup,
                                             disposition: "ANSWERED", uniqueid: id, linkedid: id, sequence: 0))
                }
            } else if r < 75 {
                ringAttempts(until: hangup, answeredBy: nil)  // abandoned while agents rang
            } else {
                // Overflow to voicemail after the rings.
                let voicemail = max(queued + 1, hangup - rng.int(10...40))
                ringAttempts(until: voicemail, answeredBy: nil)
                tail.append(CDRLine(src: src, dcontext: viaLocal ? "aoc-queue" : "aoc-hotline", channel: ringer, lastapp: "VoiceMail", lastdata: "1441@aoc",
                                    start: voicemail, answer: voicemail, end: hangup, disposition: "ANSWERED",
                                    uniqueid: ringerID, linkedid: id, sequence: 0))
            }
        }
        if viaLocal {
            // The caller's line: to the Local channel, answered by it at once (not an agent).
            add(CDRLine(src: src, channel: .trunk(call.sequence), dstChannel: .local(call.sequence, half: 1), lastapp: "Dial",
                        lastdata: "Local/1441@aoc-queue", start: call.start, answer: call.start + 1, end: hangup,
                        disposition: "ANSWERED", uniqueid: id, linkedid: id, sequence: 0))
            let caller = out
            out = []
            for l in ringLines + tail { add(l) }
            // The Local half ends as the caller hangs up, and is written just before.
            return [Written(time: hangup, lines: out), Written(time: hangup, lines: caller)]
        }
        for l in ringLines + tail { add(l) }
        return [Written(time: hangup, lines: out)]
    }
}
