#!/usr/bin/env python3
"""The rows of Benchmarks/follow.sh that need writers and probes: checkpoint bytes, restarts
into a growing gzip, appending at full speed, write-to-/metrics latency, RSS over simulated
days, and 10,000 files under `ulimit -n 1024`. Run by follow.sh (see there); one row per line.

    follow_rows.py ROW BIN DIR [SECONDS] [BIG]    (BIG: the big set follow.sh generates)

ROW: checkpoint, checkpoint100, catchup, restart-gzip, live, latency, rss, manyfiles.
"""
import json, os, random, re, resource, shutil, signal, socket, subprocess, sys, time, zlib

row, binary, base = sys.argv[1], sys.argv[2], sys.argv[3]
secs = float(sys.argv[4]) if len(sys.argv) > 4 else 20
ticks = os.sysconf("SC_CLK_TCK")


def fresh(name):
    d = os.path.join(base, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def generate(out, days, calls, start="2024-01-01", seed=1, style="callcentre"):
    if os.path.exists(os.path.join(out, "truth.json")):
        return
    subprocess.run([binary, "generate", "--profile", "synthetic", "--out", out, "--force", "--days", str(days),
                    "--calls-per-day", str(calls), "--start", start, "--seed", str(seed), "--gzip", "0",
                    "--cdr-style", style], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pipeline(d, sources, follow="", checkpoint="", extra=""):
    p = os.path.join(d, "p.yaml")
    with open(p, "w") as f:
        f.write("name: bench\nsources:\n")
        for name, fmt, glob in sources:
            f.write('  - { name: %s, format: %s, paths: ["%s"] }\n' % (name, fmt, glob))
        if follow:
            f.write("follow: { %s }\n" % follow)
        f.write("checkpoint: { path: %s/state%s }\n" % (d, (", " + checkpoint) if checkpoint else ""))
        f.write(extra)
        f.write("sinks:\n  - { type: file, format: json, path: %s/out.json }\n" % d)
    return p


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Follower:
    def __init__(self, p, d, limit_files=None):
        self.port = free_port()
        cmd = [binary, "follow", p, "--log-level", "warning", "--listen", "127.0.0.1:%d" % self.port]
        if limit_files:
            cmd = ["/bin/sh", "-c", "ulimit -n %d && exec \"$0\" \"$@\"" % limit_files] + cmd
        self.log = open(os.path.join(d, "log"), "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.log)
        # the pid of aocpipe itself (sh execs it)
        self.pid = self.proc.pid

    def metrics(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            s.sendall(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                data += chunk
            s.close()
            return data.decode()
        except OSError:
            return ""

    def value(self, family, text=None):
        text = self.metrics() if text is None else text
        total, seen = 0, False
        for m in re.finditer(r"^%s(?:\{[^}]*\})? (\S+)$" % family, text, re.M):
            total += float(m.group(1))
            seen = True
        return total if seen else None

    def wait_lines(self, want, timeout=600, step=0.01):
        end = time.time() + timeout
        while time.time() < end:
            if self.value("aocpipe_source_lines_total") == want:
                return True
            time.sleep(step)
        return False

    def wait_lines_in_sink(self, sink, want, timeout=600, step=0.005):
        """As wait_lines, from the json file sink (a probe that costs the follower nothing)."""
        end = time.time() + timeout
        pattern = re.compile(rb'"input": \{"files":\d+,"bytes_read":\d+,"bytes_decoded":\d+,"lines":(\d+)')
        while time.time() < end:
            try:
                with open(sink, "rb") as f:
                    m = pattern.search(f.read())
                if m and int(m.group(1)) == want:
                    return True
            except OSError:
                pass
            time.sleep(step)
        return False

    def cpu(self):
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    def rss_mb(self):
        with open("/proc/%d/status" % self.pid) as f:
            for l in f:
                if l.startswith("VmRSS:"):
                    return int(l.split()[1]) / 1024

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()
        self.log.close()


def run_batch(p, d):
    """`batch --jobs 1` on pipeline `p`: (seconds, CPU seconds, lines read)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    subprocess.run([binary, "batch", p, "--jobs", "1", "--format", "json", "--output", d + "/batch.json"],
                   check=True, stderr=subprocess.DEVNULL)
    seconds = time.time() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    return seconds, cpu, json.load(open(d + "/batch.json"))["input"]["lines"]


def forget_follower(d):
    """A follower in `d` starts over: no checkpoint, no sink output."""
    for leftover in ("state", "state.journal", "out.json"):
        if os.path.exists(os.path.join(d, leftover)):
            os.remove(os.path.join(d, leftover))


def count_lines(paths):
    n = 0
    for p in paths:
        with open(p, "rb") as f:
            n += f.read().count(b"\n")
    return n


def files_of(d, sub):
    return sorted(os.path.join(d, sub, f) for f in os.listdir(os.path.join(d, sub)))


def checkpoint_bytes(label, calls, history_days):
    """Bytes a checkpoint record costs with a follower holding `history_days` of state, the
    next day's lines appended as they would arrive, time compressed 50x (checkpoint.every
    100 ms for 5 s), so each record holds what a 5 s interval would."""
    hist = os.path.join(base, "hist-%d-%d" % (calls, history_days))
    nxt = os.path.join(base, "next-%d" % calls)
    generate(hist, history_days, calls)
    start = time.strftime("%Y-%m-%d", time.gmtime(1704110400 + history_days * 86400))  # 2024-01-01 12:00 UTC + days
    generate(nxt, 1, calls, start=start, seed=2)
    d = fresh("ckpt-%s" % label)
    os.makedirs(d + "/logs")
    for sub, name in (("telephony", "Master.csv"), ("freeze", "freeze.jsonl")):
        for i, f in enumerate(files_of(hist, sub)):
            os.link(f, "%s/logs/%s-%04d" % (d, name, i))
    live_cdr, live_freeze = d + "/logs/Master.csv", d + "/logs/freeze.jsonl"
    open(live_cdr, "w").close(); open(live_freeze, "w").close()
    p = pipeline(d, [("telephony", "asterisk-cdr", d + "/logs/Master.csv*"), ("freeze", "freeze-jsonl", d + "/logs/freeze.jsonl*")],
                 checkpoint="every: 100ms")
    f = Follower(p, d)
    want = count_lines(files_of(d, "logs"))
    f.wait_lines(want)
    time.sleep(1)
    base_size = os.path.getsize(d + "/state")
    # The next day, in arrival order: a line of either log at its share of the day.
    cdr = open(files_of(nxt, "telephony")[0], "rb").read().splitlines(True)
    frz = open(files_of(nxt, "freeze")[0], "rb").read().splitlines(True)
    per_day = len(cdr) + len(frz)
    compress = 50  # 5 s intervals in 100 ms
    rate = per_day / 86400 * compress
    b0, t0 = f.value("aocpipe_checkpoint_written_bytes_total"), time.time()
    out_c, out_f = open(live_cdr, "ab", buffering=0), open(live_freeze, "ab", buffering=0)
    written = 0

    def feed(rate, seconds):
        """Appends the next day's lines at `rate` a second for `seconds`, either log at its share."""
        nonlocal written
        start, begun = written, time.time()
        while time.time() - begun < seconds:
            due = start + int((time.time() - begun) * rate)
            while written < due:
                if random.random() < len(frz) / per_day:
                    out_f.write(frz[written % len(frz)])
                else:
                    out_c.write(cdr[written % len(cdr)])
                written += 1
            time.sleep(0.005)

    feed(rate, secs)
    time.sleep(0.5)
    elapsed = time.time() - t0
    b1 = f.value("aocpipe_checkpoint_written_bytes_total")
    f.stop()
    intervals = elapsed / 0.1
    per_record = (b1 - b0) / intervals
    journal = per_record * 86400 / 5  # every 5 s interval changed (an upper bound)
    # A base is written again once the journal holds more than it (and 1 MiB): per day, about
    # one base per base-size of journal.
    per_day_bytes = journal + journal / max(base_size, 1 << 20) * base_size
    # The real rate, default settings (checkpoint every 5 s, emit_every 1 s): the follower's
    # CPU, and the same with no checkpoint written during the measure (every: 1d): the
    # difference is what checkpoints cost.
    rate /= compress
    cpus = []
    for every in ("", "every: 1d"):
        p = pipeline(d, [("telephony", "asterisk-cdr", d + "/logs/Master.csv*"), ("freeze", "freeze-jsonl", d + "/logs/freeze.jsonl*")],
                     checkpoint=every)
        f = Follower(p, d)
        time.sleep(2)
        c0, t0 = f.cpu(), time.time()
        feed(rate, secs)
        cpus.append(100 * (f.cpu() - c0) / ticks / (time.time() - t0))
        f.stop()
    print("  %-7s checkpoint, %d calls/day, %d days kept (base %.2f MB, %d lines a day): %.0f bytes a record, "
          "%.1f MB/day with bases; at that rate (defaults) the follower takes %.2f%% of a core, %.2f%% without checkpoints"
          % (label, calls, history_days, base_size / 1e6, per_day, per_record, per_day_bytes / 1e6, cpus[0], cpus[1]))


def text_chunks(text_paths, mb):
    """`mb` MB of the CDR text of `text_paths` (read again from the first when they run out), in
    1 MiB chunks, the last cut after a whole line."""
    left = mb * 1_000_000
    while left > 0:
        for t in text_paths:
            with open(t, "rb") as f:
                while left > 0:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    if left < len(chunk):
                        chunk = chunk[:chunk[:left].rfind(b"\n") + 1] or chunk[:chunk.find(b"\n") + 1]
                    left -= len(chunk)
                    yield chunk


def growing_gzip(path, text_paths, mb):
    """A gzip file of one member still being written (rsyslog zipLevel): sync flushes, no
    trailer, `mb` MB of CDR text."""
    if os.path.exists(path + ".done"):
        return
    z = zlib.compressobj(6, zlib.DEFLATED, 31)
    with open(path, "wb") as out:
        for chunk in text_chunks(text_paths, mb):
            out.write(z.compress(chunk) + z.flush(zlib.Z_SYNC_FLUSH))
    open(path + ".done", "w").close()


def plain_file(path, text_paths, mb):
    if os.path.exists(path + ".done"):
        return
    with open(path, "wb") as out:
        for chunk in text_chunks(text_paths, mb):
            out.write(chunk)
    open(path + ".done", "w").close()


def restart_gzip(label, big):
    for kind, mb in (("growing gzip (one member, no trailer)", 200), ("growing gzip (one member, no trailer)", 1150), ("plain", 1150)):
        gz = kind != "plain"
        d = fresh("restart-%s-%s-%d" % ("gz" if gz else "plain", label, mb))
        src = os.path.join(base, ("growing-%d.csv.gz" if gz else "plain-%d.csv") % mb)
        (growing_gzip if gz else plain_file)(src, files_of(big, "telephony"), mb)
        os.makedirs(d + "/logs")
        os.link(src, d + "/logs/Master.csv" + (".gz" if gz else ""))
        p = pipeline(d, [("telephony", "asterisk-cdr", d + "/logs/Master.csv*")], follow="emit_every: 100ms")
        want = int(subprocess.run(("zcat %s 2>/dev/null | wc -l" if gz else "wc -l < %s") % src, shell=True,
                                  capture_output=True, text=True).stdout)
        f = Follower(p, d)
        f.wait_lines(want)
        f.stop()
        times, exact = [], True
        for _ in range(3):
            t0 = time.time()
            f = Follower(p, d)
            exact = f.wait_lines(want, step=0.005, timeout=60) and exact
            times.append(time.time() - t0)
            time.sleep(0.5)  # nothing more comes: every line counted once, none twice
            exact = exact and f.value("aocpipe_source_lines_total") == want
            f.stop()
        print("  %-7s restart to caught up, %s, %d MB decoded: %.0f ms (median of 3; to the first /metrics with every line); "
              "each of its %d lines counted once: %s" % (label, kind, mb, sorted(times)[1] * 1000, want, "yes" if exact else "NO"))


def live(label, big, rounds=5):
    """A writer appends a large file at full speed while the follower follows it, against
    `batch --jobs 1` on the whole file."""
    texts = files_of(big, "telephony")
    src_gz = os.path.join(base, "live-%d.csv.gz" % 600)
    growing_gzip(src_gz, texts, 600)
    for kind in ("plain", "gzip"):
        d = fresh("live-%s-%s" % (label, kind))
        os.makedirs(d + "/logs")
        target = d + "/logs/" + ("Master.csv" if kind == "plain" else "Master.csv.gz")
        if kind == "plain":
            data_paths = texts
        else:
            data_paths = [src_gz]
        # batch on the same bytes
        full = d + "/full/Master.csv" + ("" if kind == "plain" else ".gz")
        os.makedirs(d + "/full")
        with open(full, "wb") as out:
            for t in data_paths:
                with open(t, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        bp = pipeline(d + "/full", [("telephony", "asterisk-cdr", full)])
        ratios, follows, batches, cpu_ratios, writes = [], [], [], [], []
        for _ in range(rounds):
            batch_s, batch_cpu, want = run_batch(bp, d)
            forget_follower(d)
            open(target, "wb").close()
            p = pipeline(d, [("telephony", "asterisk-cdr", d + "/logs/Master.csv*")], follow="emit_every: 100ms")
            f = Follower(p, d)
            time.sleep(1)
            t0, c0 = time.time(), f.cpu()
            # The writer: 1 MiB writes, in the kernel (sendfile), as fast as the page cache takes them.
            src, dst = os.open(full, os.O_RDONLY), os.open(target, os.O_WRONLY)
            os.lseek(dst, 0, os.SEEK_END)
            size, off = os.fstat(src).st_size, 0
            while off < size:
                off += os.sendfile(dst, src, off, min(1 << 20, size - off))
            os.close(src); os.close(dst)
            writes.append(time.time() - t0)
            f.wait_lines_in_sink(d + "/out.json", want)
            follow_s = time.time() - t0
            follow_cpu = (f.cpu() - c0) / ticks
            f.stop()
            ratios.append(batch_s / follow_s); follows.append(follow_s); batches.append(batch_s)
            cpu_ratios.append(batch_cpu / follow_cpu)
        ratios.sort(); cpu_ratios.sort(); writes.sort()
        print("  %-7s appended at full speed, %s %d MB (the writer alone: %.2f s): follow %.2f-%.2f s, batch --jobs 1 %.2f-%.2f s: "
              "%.2fx batch in time, %.2fx in CPU per byte (medians of %d)"
              % (label, kind, os.path.getsize(full) / 1e6, writes[len(writes) // 2], min(follows), max(follows), min(batches),
                 max(batches), ratios[len(ratios) // 2], cpu_ratios[len(cpu_ratios) // 2], rounds))


def catchup(label, big, rounds=7):
    """A follower started on a large plain CDR file (the big set: 16 days x 150,000 calls),
    against `batch --jobs 1` on it; then a restart from its checkpoint at the end."""
    d = fresh("catchup-%s" % label)
    os.makedirs(d + "/logs")
    for f in files_of(big, "telephony"):
        os.link(f, d + "/logs/" + os.path.basename(f))
    p = pipeline(d, [("telephony", "asterisk-cdr", d + "/logs/Master.csv*")], follow="emit_every: 100ms")
    size = sum(os.path.getsize(f) for f in files_of(d, "logs"))
    ratios, cpu_ratios, restarts = [], [], []
    for _ in range(rounds):
        batch_s, batch_cpu, want = run_batch(p, d)
        forget_follower(d)
        t0 = time.time()
        f = Follower(p, d)
        f.wait_lines_in_sink(d + "/out.json", want)
        follow_s, follow_cpu = time.time() - t0, f.cpu() / ticks
        f.stop()
        ratios.append(batch_s / follow_s); cpu_ratios.append(batch_cpu / follow_cpu)
        os.remove(d + "/out.json")
        t0 = time.time()
        f = Follower(p, d)
        f.wait_lines_in_sink(d + "/out.json", want, step=0.002)
        restarts.append(time.time() - t0)
        f.stop()
    ratios.sort(); cpu_ratios.sort(); restarts.sort()
    print("  %-7s catching up %d MB: %.2f-%.2fx batch --jobs 1 in time (median of %d: %.2fx), %.2fx in CPU per byte; "
          "restart from its checkpoint at the end, to the first emission: %.0f ms"
          % (label, size / 1e6, ratios[0], ratios[-1], rounds, ratios[len(ratios) // 2], cpu_ratios[len(cpu_ratios) // 2],
             restarts[len(restarts) // 2] * 1000))


def latency(label):
    for emit in ("1s", "100ms"):
        d = fresh("latency-%s-%s" % (label, emit))
        os.makedirs(d + "/logs")
        log = d + "/logs/Master.csv"
        open(log, "w").close()
        p = pipeline(d, [("telephony", "asterisk-cdr", log)], follow=("emit_every: %s" % emit) if emit != "1s" else "")
        f = Follower(p, d)
        time.sleep(1.5)
        lat = []
        n = 0
        end = time.time() + max(secs, 60)  # enough writes for a p99
        with open(log, "ab", buffering=0) as out:
            while time.time() < end:
                n += 1
                line = ('"","0812345678","1441","aoc-hotline","""Caller"" <0812345678>","PJSIP/trunk-1","PJSIP/agent1-1","Queue",'
                        '"aoc1441,t,,,300","2023-11-01 10:00:00","2023-11-01 10:00:01","2023-11-01 10:02:00",120,119,"ANSWERED",'
                        '"DOCUMENTATION","1698800000.%d",""\n' % n)
                t0 = time.time()
                out.write(line.encode())
                while f.value("aocpipe_source_lines_total") != n and time.time() - t0 < 10:
                    time.sleep(0.01)
                lat.append(time.time() - t0)
                time.sleep(random.uniform(0, 1.0 if emit == "1s" else 0.1))  # any phase of the emissions
        f.stop()
        lat.sort()
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print("  %-7s write -> /metrics, emit_every %s: p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d writes)"
              % (label, emit, lat[len(lat) // 2] * 1000, p99 * 1000, lat[-1] * 1000, len(lat)))


def rss(label):
    """2,000 lines/s whose times advance a simulated day per second of the run: RSS sampled
    after each simulated 25 days."""
    d = fresh("rss-%s" % label)
    os.makedirs(d + "/logs")
    log = d + "/logs/Master.csv"
    open(log, "w").close()
    p = pipeline(d, [("telephony", "asterisk-cdr", log)])
    f = Follower(p, d)
    time.sleep(1)
    t0 = time.time()
    day0 = 1_698_771_600  # 2023-11-01 00:00 Bangkok
    samples = []
    n = 0
    days = 250
    step = max(1.0, secs / days) if secs > days else 1.0
    with open(log, "ab", buffering=0) as out:
        for day in range(days):
            buf = []
            for k in range(2000):
                n += 1
                t = day0 + day * 86400 + k * 43 + 7 * 3600
                stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))
                end = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t + 90))
                buf.append('"","08%08d","1441","aoc-hotline","""Caller"" <0812345678>","PJSIP/trunk-1","PJSIP/agent1-1","Queue",'
                           '"aoc1441,t,,,300","%s","%s","%s",90,80,"ANSWERED","DOCUMENTATION","%d.%d",""\n'
                           % (n % 100_000_000, stamp, stamp, end, t, n))
            out.write("".join(buf).encode())
            while time.time() - t0 < (day + 1) * step:
                time.sleep(0.01)
            if day % 25 == 24:
                samples.append(f.rss_mb())
    f.wait_lines(n, timeout=60)
    f.stop()
    print("  %-7s RSS over %d simulated days at 2,000 lines/s: %s MB (every 25 days)"
          % (label, days, " ".join("%.0f" % s for s in samples)))


def manyfiles(label):
    n = 10_000
    d = fresh("many-%s" % label)
    os.makedirs(d + "/logs")
    line = ('"","0812345678","1441","aoc-hotline","""Caller"" <0812345678>","PJSIP/trunk-1","PJSIP/agent1-1","Queue",'
            '"aoc1441,t,,,300","2023-11-01 10:00:00","2023-11-01 10:00:01","2023-11-01 10:02:00",120,119,"ANSWERED",'
            '"DOCUMENTATION","%s",""\n')
    for i in range(n):
        with open("%s/logs/Master-%d.csv" % (d, i), "w") as f:
            f.write(line % ("1698800000.%d" % i) + line % ("1698800001.%d" % i))
    p = pipeline(d, [("telephony", "asterisk-cdr", d + "/logs/Master-*.csv")], follow="idle_timeout: 2s")
    t0 = time.time()
    f = Follower(p, d, limit_files=1024)
    ok = f.wait_lines(2 * n, timeout=300)
    adopt = time.time() - t0
    peak = f.fds()
    for i in random.sample(range(n), 500):
        with open("%s/logs/Master-%d.csv" % (d, i), "a") as out:
            out.write(line % ("1698900000.%d" % i))
    ok2 = f.wait_lines(2 * n + 500, timeout=120)
    fds = f.fds()
    f.stop()
    print("  %-7s 10,000 files under ulimit -n 1024: all %d lines counted %s (in %.1f s), 500 more after %s; descriptors %d, then %d"
          % (label, 2 * n, "yes" if ok else "NO", adopt, "yes" if ok2 else "NO", peak, fds))


if row == "checkpoint":
    checkpoint_bytes("now", 3000, 90)
elif row == "checkpoint100":
    checkpoint_bytes("now", 300_000, 3)
elif row == "restart-gzip":
    restart_gzip("now", sys.argv[5])
elif row == "catchup":
    catchup("now", sys.argv[5])
elif row == "live":
    live("now", sys.argv[5])
elif row == "latency":
    latency("now")
elif row == "rss":
    rss("now")
elif row == "manyfiles":
    manyfiles("now")
else:
    sys.exit("unknown row " + row)
