import Dispatch
import Foundation
import Synchronization

/// `aocpipe batch`: every file of every source once, files in parallel, then one report.
public struct BatchRunner: Sendable {
    public enum ProgressMode: String, Sendable, CaseIterable { case auto, always, never }

    public var config: PipelineConfig
    public var jobs: Int
    public var progress: ProgressMode
    public var processor: FileProcessor

    public init(config: PipelineConfig, jobs: Int? = nil, progress: ProgressMode = .auto) {
        self.config = config
        self.jobs = max(jobs ?? ProcessInfo.processInfo.activeProcessorCount, 1)
        self.progress = progress
        self.processor = FileProcessor(maxLineBytes: config.maxLineBytes)
    }

    public struct Outcome: Sendable {
        public var report: Report
        public var samples: [QuarantineSample]
    }

    /// A file that could not be read: the run stops rather than report partial numbers.
    public struct Failure: Error, CustomStringConvertible {
        public var errors: [InputError]
        public var description: String { errors.map(\.description).joined(separator: "\n") }
    }

    struct WorkItem: Sendable {
        var path: String
        var source: Int
        var size: Int
    }

    /// Per-worker results, each written once when its worker ends.
    final class Collector: Sendable {
        struct State {
            var aggregates: [PartialAggregate] = []
            var perSource: [[InputStats]] = []
            var samples: [QuarantineSample] = []
            var errors: [InputError] = []
        }
        let state = Mutex(State())
    }

    public func run() throws -> Outcome {
        let resolved = try config.resolveFiles()
        var items: [WorkItem] = []
        for (i, entry) in resolved.enumerated() {
            for path in entry.files {
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                items.append(WorkItem(path: path, source: i, size: size))
            }
        }
        // Largest first, so the last file to finish is a small one.
        items.sort { $0.size != $1.size ? $0.size > $1.size : $0.path < $1.path }
        let sources = config.sources
        let zone = config.zone
        let processor = self.processor
        let counter = ProgressCounter()
        let filesDone = ProgressCounter()
        let bar = ProgressBar.start(mode: progress, totalBytes: items.reduce(0) { $0 + $1.size },
                                    totalFiles: items.count, bytes: counter, files: filesDone)
        let next = Atomic<Int>(0)
        let collector = Collector()
        let workers = min(jobs, max(items.count, 1))
        let frozenItems = items
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            var aggregate = PartialAggregate(reportZone: zone)
            var perSource = [InputStats](repeating: InputStats(), count: sources.count)
            var samples: [QuarantineSample] = []
            var errors: [InputError] = []
            while true {
                let k = next.add(1, ordering: .relaxed).oldValue
                guard k < frozenItems.count else { break }
                let item = frozenItems[k]
                do throws(InputError) {
                    let result = try processor.process(path: item.path, source: sources[item.source],
                                                       aggregate: aggregate, progress: counter)
                    aggregate = result.aggregate
                    perSource[item.source] += result.stats
                    samples += result.samples
                } catch {
                    errors.append(error)
                }
                filesDone.add(1)
            }
            collector.state.withLock {
                $0.aggregates.append(aggregate)
                $0.perSource.append(perSource)
                $0.samples += samples
                $0.errors += errors
            }
        }
        bar?.stop()
        let state = collector.state.withLock { $0 }
        if !state.errors.isEmpty { throw Failure(errors: state.errors) }

        var merged = PartialAggregate(reportZone: zone)
        for a in state.aggregates { merged.merge(a) }
        var perSource = [InputStats](repeating: InputStats(), count: sources.count)
        for worker in state.perSource { for (i, s) in worker.enumerated() { perSource[i] += s } }
        for i in perSource.indices { perSource[i].damage.sort { ($0.path, $0.offset) < ($1.path, $1.offset) } }
        var total = InputStats()
        for s in perSource { total += s }
        let report = Report(pipeline: config.name, zone: zone, aggregate: merged, input: total,
                            sources: zip(sources, perSource).map { ($0.name, $1) },
                            slaMillis: config.slaMillis, latenessMillis: config.latenessMillis)
        let samples = state.samples.sorted { ($0.file, $0.offset) < ($1.file, $1.offset) }
        return Outcome(report: report, samples: samples)
    }
}
