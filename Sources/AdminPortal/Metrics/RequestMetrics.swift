import Foundation
import Metrics
import NIOConcurrencyHelpers
import Prometheus

/// What the portal records of each request, two ways:
/// - for Prometheus, with swift-metrics: the histogram `http_server_request_duration_seconds`
///   labelled as OpenTelemetry names HTTP server metrics (`http_request_method`, `http_route`,
///   `http_response_status_code`), in this server's own registry (no process-wide bootstrap,
///   so several servers in one process, as in the tests, keep apart);
/// - for the System Statistics tab: per route and minute, counts and a latency histogram
///   with 5 % wide buckets, for the last hour, from which the tab's p50/p95/p99 come.
///
/// Both are this process's own: behind a load balancer each `pgperm serve` counts what it
/// served (Prometheus sums them).
final class RequestMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let minutes = NIOLockedValueBox([Int: [RouteKey: RouteMinute]]())

    static let durationMetric = "http_server_request_duration_seconds"
    /// OpenTelemetry's recommended boundaries for `http.server.request.duration`.
    static let buckets: [Duration] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
        .map { Duration.nanoseconds(Int64($0 * 1e9)) }
    static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"]

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.buckets
        self.factory = factory
    }

    struct RouteKey: Hashable, Sendable {
        let method: String
        let route: String
    }

    /// One route's requests in one minute.
    struct RouteMinute: Sendable {
        var requests = 0
        var clientErrors = 0
        var serverErrors = 0
        /// Bucket index (see ``bucket(of:)``) → requests.
        var latencies: [Int: Int] = [:]

        mutating func merge(_ other: RouteMinute) {
            requests += other.requests
            clientErrors += other.clientErrors
            serverErrors += other.serverErrors
            latencies.merge(other.latencies, uniquingKeysWith: +)
        }
    }

    /// Records one answered request. `route` is the route's template (`/admin/api/tenants/{slug}`);
    /// nil for a request no route took. Methods outside HTTP's own are counted as `_OTHER`, so
    /// a client inventing methods cannot grow the tables.
    func record(method: String, route: String?, status: Int, duration: Duration, at date: Date = Date()) {
        let method = Self.knownMethods.contains(method) ? method : "_OTHER"
        let route = route ?? "(no route)"
        Timer(label: Self.durationMetric,
              dimensions: [("http_request_method", method), ("http_route", route), ("http_response_status_code", String(status))],
              factory: factory)
            .recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        let minute = Int(date.timeIntervalSince1970 / 60)
        let key = RouteKey(method: method, route: route)
        let bucket = Self.bucket(of: duration)
        minutes.withLockedValue { minutes in
            var entry = minutes[minute, default: [:]][key, default: RouteMinute()]
            entry.requests += 1
            if (400..<500).contains(status) { entry.clientErrors += 1 }
            if status >= 500 { entry.serverErrors += 1 }
            entry.latencies[bucket, default: 0] += 1
            minutes[minute, default: [:]][key] = entry
            // Keep one hour.
            if minutes.count > 61 { minutes = minutes.filter { $0.key > minute - 60 } }
        }
    }

    /// The Prometheus text exposition of every metric.
    func prometheusText() -> String {
        registry.emitToString()
    }

    // MARK: - The statistics tab's summary

    struct RouteSummary: Sendable, Encodable {
        let method: String
        let route: String
        let requests: Int
        let clientErrors: Int
        let serverErrors: Int
        let p50Ms: Double
        let p95Ms: Double
        let p99Ms: Double
    }

    struct MinuteTotal: Sendable, Encodable {
        let minute: Date
        let requests: Int
        let errors: Int
    }

    /// Each route's figures over the last `minutes` minutes (this one included), busiest first.
    func routes(lastMinutes count: Int, now: Date = Date()) -> [RouteSummary] {
        let current = Int(now.timeIntervalSince1970 / 60)
        let merged = minutes.withLockedValue { minutes in
            minutes.filter { $0.key > current - count }.values.reduce(into: [RouteKey: RouteMinute]()) { merged, routes in
                for (key, entry) in routes { merged[key, default: RouteMinute()].merge(entry) }
            }
        }
        return merged.map { key, entry in
            RouteSummary(method: key.method, route: key.route, requests: entry.requests, clientErrors: entry.clientErrors,
                         serverErrors: entry.serverErrors, p50Ms: Self.percentile(0.50, of: entry.latencies),
                         p95Ms: Self.percentile(0.95, of: entry.latencies), p99Ms: Self.percentile(0.99, of: entry.latencies))
        }.sorted { ($0.requests, $1.route, $1.method) > ($1.requests, $0.route, $0.method) }
    }

    /// Requests and errors (4xx and 5xx) per minute over the last hour, oldest first, every minute present.
    func perMinute(now: Date = Date()) -> [MinuteTotal] {
        let current = Int(now.timeIntervalSince1970 / 60)
        let totals = minutes.withLockedValue { minutes in
            minutes.mapValues { routes in
                routes.values.reduce(into: (requests: 0, errors: 0)) { $0.requests += $1.requests; $0.errors += $1.clientErrors + $1.serverErrors }
            }
        }
        return ((current - 59)...current).map { minute in
            let total = totals[minute] ?? (0, 0)
            return MinuteTotal(minute: Date(timeIntervalSince1970: Double(minute * 60)), requests: total.requests, errors: total.errors)
        }
    }

    /// Buckets 5 % wide from 1 µs: bucket i holds durations up to 1.05^i µs.
    static func bucket(of duration: Duration) -> Int {
        let microseconds = Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
        return microseconds <= 1 ? 0 : Int((log(microseconds) / log(1.05)).rounded(.up))
    }

    /// The upper edge, in milliseconds, of the bucket holding the `quantile` of the requests.
    static func percentile(_ quantile: Double, of latencies: [Int: Int]) -> Double {
        let total = latencies.values.reduce(0, +)
        guard total > 0 else { return 0 }
        let rank = Int((quantile * Double(total)).rounded(.up))
        var seen = 0
        for (bucket, count) in latencies.sorted(by: { $0.key < $1.key }) {
            seen += count
            if seen >= rank { return pow(1.05, Double(bucket)) / 1000 }
        }
        return 0
    }
}
