package dev.agentcoordinator.engine;

/** Exchange headers the engine's routes and SQL statements share (SQL reads them as :#name). */
public final class Headers {
    public static final String EXECUTION_ID = "executionId";
    public static final String WORKFLOW_ID = "workflowId";
    /** The version of its workflow an execution started on (and runs on to its end). */
    public static final String WORKFLOW_VERSION = "workflowVersion";
    /**
     * Which routes run the execution: its workflow's id for the loaded version, {@code <id>~v<version>}
     * for an earlier version kept for the executions that started on it (see WorkflowCatalog).
     */
    public static final String ROUTE_KEY = "routeKey";
    public static final String STEP_ID = "stepId";
    public static final String ROW_ID = "rowId";
    public static final String AGENT = "agent";
    public static final String ACTION = "action";
    public static final String ATTEMPT = "attempt";
    public static final String MAX_ATTEMPTS = "maxAttempts";
    public static final String ITERATION = "iteration";
    /** The iteration a loop's iterations count from: 0, or the one a retry of the execution resumed it at (V51). */
    public static final String LOOP_ROUND_START = "loopRoundStart";
    /** Why a loop goes on: its until condition and what the iteration's output held ({@code score gte 0.85, was 0.5}). */
    public static final String LOOP_VERDICT = "loopVerdict";
    /** {@code step} or {@code compensation}: which kind of row a statement works on. */
    public static final String KIND = "kind";
    public static final String DEADLINE = "deadline";
    /** expire-attempts.sql / expire-executions.sql: how long past its deadline a row must be (see ReplyBacklog). */
    public static final String HOLD_MS = "holdMs";
    /** ... and when the sweep chose that hold (epoch ms): waiting for a connection does not move the cutoff. */
    public static final String SWEPT_AT_MS = "sweptAtMs";
    /**
     * The sweeps' statements: how many rows one run takes at most. A parameter rather than a literal, so
     * that every statement has one: camel-sql asks the database for the parameter count of a statement
     * without parameters, two round trips before each run.
     */
    public static final String SWEEP_LIMIT = "sweepLimit";
    /** When the attempt a reply answers was dispatched (java.sql.Timestamp), for the latency metric. */
    public static final String ATTEMPT_STARTED_AT = "attemptStartedAt";
    public static final String INPUT = "input";
    public static final String OUTPUT = "output";
    public static final String ERROR = "error";
    public static final String REASON = "reason";
    public static final String DECISION = "decision";
    public static final String TRANSITION = "transition";
    public static final String NEXT_INPUT = "nextInput";
    public static final String NEXT_ROW_ID = "nextRowId";
    public static final String EVENT_KEY = "eventKey";
    /** complete-and-iterate.sql: how many locks the loop's step declares (it iterates on only while it holds them all). */
    public static final String LOCK_COUNT = "lockCount";
    /** A loop's iterations: the step each one after the first starts at (the loop's own, or its repeat_from). */
    public static final String REPEAT_FROM = "repeatFrom";
    /** complete-and-iterate-steps.sql: the steps each iteration of a loop over several steps runs (JSON list). */
    public static final String ITERATION_STEPS = "iterationSteps";
    /** complete-and-iterate-steps.sql: whether the step each iteration starts at declares locks (its row starts pending). */
    public static final String FIRST_TAKES_LOCKS = "firstTakesLocks";
    public static final String EVENT_TYPE = "eventType";
    public static final String STATUS = "status";
    public static final String SHARED_MEMORY = "sharedMemory";
    public static final String SIGNALS = "signals";
    /** load-context.sql: read the latest signal per type / every signal of the execution. */
    public static final String WITH_SIGNALS = "withSignals";
    public static final String WITH_SIGNAL_LIST = "withSignalList";
    /** complete-and-start.sql: also return the execution's context, for the dependents that decide on it. */
    public static final String WITH_CONTEXT = "withContext";
    /**
     * Exchange property: the context complete-and-start.sql returned, as load-context.sql would give it,
     * carried to the dependents with one dependency so that they need not read it again.
     */
    public static final String CONTEXT_ROWS = "contextRows";
    /** complete-and-start.sql: the dependents that start with the completion (JSON list of row and input), or null. */
    public static final String STARTS = "starts";
    /** complete-and-start.sql: the fan-ins the completion arrives at and does not start, each with its join (JSON list), or null. */
    public static final String ARRIVALS = "arrivals";
    /** complete-and-start.sql: a step without dependents, whose completion may end the execution. */
    public static final String FINISH = "finish";
    /** finish_execution: the workflow's allow_partial_success and the steps whose failure it tolerates (JSON list). */
    public static final String PARTIAL_SUCCESS = "partialSuccess";
    public static final String TOLERATED_FAILURES = "toleratedFailures";
    /** The request's {@code context} (JSON text) for a step with config.include_context. */
    public static final String REQUEST_CONTEXT = "requestContext";
    /** What the step's agent last reported in a heartbeat (JSON text), for a later attempt's request. */
    public static final String PROGRESS = "progress";
    /**
     * The progress an error reply carried (JSON text), or null: kept with the step as a heartbeat's would be, for the
     * retry (an agent's last heartbeat, sent just before its error reply, may be read after it and dropped).
     */
    public static final String REPLY_PROGRESS = "replyProgress";
    public static final String CORRELATION_ID = "JMSCorrelationID";
    /**
     * When a reply reached the broker (epoch ms: its arrival stamp; null when the broker stamps none): a reply that
     * arrived after its attempt's deadline settles nothing (V44), the timeout sweep times the attempt out.
     */
    public static final String REPLY_ARRIVED_AT = "replyArrivedAt";
    /**
     * JMSMessageID of the consumed message whose transaction sends what this exchange dispatches
     * (kept through a fan-in); recorded as the running attempt's dispatched_by (V7).
     */
    public static final String CAUSE_MESSAGE_ID = "causeMessageId";
    /**
     * True when the consumed message is the cause of the attempt a replay makes due and the broker flagged it
     * redelivered: its earlier delivery rolled back, and the attempt's request never left (request-due.sql).
     */
    public static final String NEVER_LEFT = "neverLeft";
    public static final String SQL_UPDATE_COUNT = "CamelSqlUpdateCount";
    public static final String SQL_ROW_COUNT = "CamelSqlRowCount";

    private Headers() {
    }

    /**
     * Makes {@code header} present, as null when it is not set: camel-sql fails on a {@code :#name}
     * it cannot find, while a null value binds as SQL NULL.
     */
    public static void presentEvenIfNull(org.apache.camel.Message in, String header) {
        if (!in.hasHeaders() || !in.getHeaders().containsKey(header)) {
            in.setHeader(header, null);
        }
    }
}
