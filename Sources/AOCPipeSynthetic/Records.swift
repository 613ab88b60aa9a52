import AOCPipe
/// One generated call, as Asterisk's `cdr_csv` would log it when the call ends.
struct GeneratedCall {
    var src: Int             // a 9-digit subscriber number after the leading 0
    var dst: StaticString
    var dcontext: StaticString
    var start: Int           // UTC seconds
    var answer: Int?         // UTC seconds, nil if never answered
    var end: Int             // UTC seconds
    var disposition: StaticString
    var agent: Int           // 0 when no agent took the call
    var sequence: Int        // channel sequence, for uniqueid and channel names

    /// Every line Asterisk writes for this call, in the order written: one (`simple`), or as
    /// a call centre logs it (`CallCentre`), its shape drawn from a stream of its own (the same
    /// call, the same lines, whatever else is generated).
    func appendLines(to line: inout [UInt8], offset: Int, style: CDRStyle, columns: Int, seed: UInt64) {
        switch style {
        case .simple:
            append(to: &line, offset: offset, columns: columns)
        case .callcentre:
            var rng = SeededRandom(seed: seed ^ (UInt64(truncatingIfNeeded: sequence) &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(truncatingIfNeeded: start))
            for part in CallCentre.lines(of: self, columns: columns, rng: &rng) {
                for l in part.lines { l.append(to: &line, offset: offset, columns: columns) }
            }
        }
    }

    /// The call as one line (`loguniqueid` layout, 18 columns, or 21), with its newline.
    /// `offset` is the log server's UTC offset (Asterisk writes local times).
    func append(to line: inout [UInt8], offset: Int, columns: Int = 18) {
        let id = (start, sequence)
        CDRLine(src: src, dst: dst, dcontext: dcontext, channel: .trunk(sequence % 0x10000),
                dstChannel: agent > 0 ? .agent(agent, (sequence + 1) % 0x10000) : .none,
                start: start, answer: answer, end: end, disposition: disposition,
                uniqueid: id, linkedid: id, sequence: 0).append(to: &line, offset: offset, columns: columns)
    }
}

/// One generated freeze event, as the case system writes it.
struct GeneratedFreezeEvent {
    enum Kind { case reported, requested, frozen, failed }
    var kind: Kind
    var time: Int            // UTC seconds
    var caseDay: Int         // local date of the case (days since epoch), for its id
    var caseNumber: Int
    var bank: Int
    var account: Int
    var callStart: Int       // on `reported`: the call's uniqueid
    var callSequence: Int
    var failure: Int

    static let banks: [StaticString] = ["KTB", "SCB", "KBANK", "BBL", "BAY", "TTB", "GSB", "BAAC"]
    static let failures: [StaticString] = ["account_closed", "bank_timeout", "insufficient_evidence"]

    /// One JSON line. Most events carry `+07:00`; every seventh is written in UTC (`Z`), as
    /// a second writer of the case system does, so both forms reach the parser.
    func append(to line: inout [UInt8], offset: Int, sequence: Int) {
        let utcForm = sequence % 7 == 3
        line.append("{\"ts\":\"")
        line.appendDateTime(localSeconds: time + (utcForm ? 0 : offset), separator: UInt8(ascii: "T"))
        if utcForm { line.append("Z") } else { line.append("+07:00") }
        line.append("\",\"event\":\"")
        switch kind {
        case .reported: line.append("reported")
        case .requested: line.append("freeze_requested")
        case .frozen: line.append("frozen")
        case .failed: line.append("freeze_failed")
        }
        line.append("\",\"case\":\"AOC-")
        let (y, m, d) = CivilTime.civilFromDays(caseDay)
        line.appendDigits(y * 10_000 + m * 100 + d, width: 8)
        line.append(UInt8(ascii: "-"))
        line.appendDigits(caseNumber, width: 6)
        line.append("\"")
        switch kind {
        case .reported:
            line.append(",\"call\":\"")
            line.appendInt(callStart)
            line.append(UInt8(ascii: "."))
            line.appendInt(callSequence)
            line.append("\"")
        case .requested, .frozen, .failed:
            line.append(",\"bank\":\"")
            line.append(Self.banks[bank % Self.banks.count])
            line.append("\",\"account\":\"xxx-x-x")
            line.appendDigits(account % 10_000, width: 4)
            line.append("-x\"")
            if kind == .failed {
                line.append(",\"reason\":\"")
                line.append(Self.failures[failure % Self.failures.count])
                line.append("\"")
            }
        }
        line.append("}\n")
    }
}
