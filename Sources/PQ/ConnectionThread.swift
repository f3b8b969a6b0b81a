import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The thread of one connection: it runs the connection's blocking libpq calls, and it is a
/// `TaskExecutor`, so a task that prefers it (``ConnectionPool/withConnection(isolation:_:)``
/// sets that preference) runs its Swift code here too, and its queries run inline with no
/// thread switch. Blocking calls never occupy Swift's cooperative thread pool.
///
/// A job never gets lost: once the thread has stopped, late jobs go to the global executor.
final class ConnectionThread: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private var finished = false
    private var threadID = pthread_t()

    init(name: String) {
        let started = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in  // strong: the executor lives until its thread ends
            self.threadID = pthread_self()
            started.signal()
            self.runLoop()
        }
        thread.name = name
        thread.start()
        started.wait()
    }

    /// Whether the caller is running on this thread.
    var isCurrent: Bool { pthread_equal(pthread_self(), threadID) != 0 }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        if finished {
            condition.unlock()
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
            return
        }
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once the jobs already queued have run.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func runLoop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                finished = true
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
