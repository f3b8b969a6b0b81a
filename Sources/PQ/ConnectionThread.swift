import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The thread of one connection: it runs the connection's blocking libpq calls, and it is a
/// `TaskExecutor`, so a task that prefers it (``ConnectionPool/withConnection(isolation:_:)``
/// sets that preference) runs its Swift code here too, and its queries run inline with no
/// thread switch. Blocking calls never occupy Swift's cooperative thread pool.
///
/// While the connection listens (``Connection/listen(_:)``), the thread waits for its jobs and
/// for the connection's socket at once (`poll` on the socket and on a wake-up pipe that a new
/// job writes to), so a notification is read here the moment it arrives, with no other thread.
///
/// A job never gets lost: once the thread has stopped, late jobs go to the global executor.
final class ConnectionThread: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private var finished = false
    private var threadID = pthread_t()
    /// The socket waited on while there is no job, and what to do when it is readable.
    private var watched: (socket: Int32, onReadable: @Sendable () -> Void)?
    /// Whether the thread is inside `poll` (a new job must then write to `wakeUp`).
    private var polling = false
    /// A pipe whose read end the thread polls beside the socket; a byte written wakes it.
    private let wakeUp: (read: Int32, write: Int32)

    init(name: String) {
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
        }
        wakeUp = (ends[0], ends[1])
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

    deinit {
        if wakeUp.read >= 0 { close(wakeUp.read) }
        if wakeUp.write >= 0 { close(wakeUp.write) }
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
        wake()
        condition.unlock()
    }

    /// From now on, while it has no job, the thread waits for `socket` too and runs
    /// `onReadable` on itself when something arrives. `onReadable` must consume what arrived
    /// (or call ``unwatch()``), or the thread calls it again at once.
    func watch(socket: Int32, onReadable: @escaping @Sendable () -> Void) {
        condition.lock()
        watched = (socket, onReadable)
        wake()
        condition.unlock()
    }

    /// Stops waiting for the socket.
    func unwatch() {
        condition.lock()
        watched = nil
        wake()
        condition.unlock()
    }

    /// Ends the thread once the jobs already queued have run.
    func stop() {
        condition.lock()
        stopping = true
        wake()
        condition.unlock()
    }

    /// Called with `condition` locked.
    private func wake() {
        if polling {
            var byte: UInt8 = 1
            _ = write(wakeUp.write, &byte, 1)
        }
        condition.signal()
    }

    private func runLoop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping {
                guard let watched, wakeUp.read >= 0 else {
                    condition.wait()
                    continue
                }
                polling = true
                condition.unlock()
                let readable = waitForSocket(watched.socket)
                if readable { watched.onReadable() }
                condition.lock()
                polling = false
            }
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

    /// Waits until `socket` is readable (or closed) or someone wakes the thread; true for the socket.
    private func waitForSocket(_ socket: Int32) -> Bool {
        var fds = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeUp.read, events: Int16(POLLIN), revents: 0)]
        guard poll(&fds, 2, -1) > 0 else { return false }  // EINTR: look at the jobs, then wait again
        if fds[1].revents != 0 {
            var buffer = [UInt8](repeating: 0, count: 64)
            while read(wakeUp.read, &buffer, buffer.count) > 0 {}
        }
        return fds[0].revents != 0
    }
}
