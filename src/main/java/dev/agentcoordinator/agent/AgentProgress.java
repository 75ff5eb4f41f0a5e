package dev.agentcoordinator.agent;

/**
 * How far a handler has got, for its step's next attempt should this one time out or fail: a long
 * handler calls {@link #report} as it goes, the next heartbeat carries the latest report
 * ({@code {"status": "running", "progress": …}}), the coordinator keeps it with the step, and a retry's
 * request carries it ({@link AgentRequest#progress()}), so that the retry resumes instead of starting
 * over. Needs heartbeats ({@link AgentService.Builder#heartbeatEvery}); without them a report goes nowhere.
 */
public final class AgentProgress {

    private AgentProgress() {
    }

    /**
     * Records {@code progress} (anything Jackson writes as JSON: a map, a list, a number) for the request
     * the calling thread's handler is working on; replaces the report before it. Outside a handler, or
     * without heartbeats, it does nothing.
     *
     * @throws IllegalArgumentException when {@code progress} cannot be written as JSON
     */
    public static void report(Object progress) {
        Heartbeats.reportProgress(progress);
    }
}
