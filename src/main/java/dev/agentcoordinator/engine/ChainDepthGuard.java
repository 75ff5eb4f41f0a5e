package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

/**
 * Stops a chain of workflows that leads back to itself at run time. The load-time check refuses a
 * chain that leads back through one kind of outcome, but not one through both (A's onSuccess starts B,
 * B's onFailure starts A: a remediation loop), which runs for as long as it keeps failing. Every
 * execution records its chain depth (V42): 0 when an outside event started it, one more than the
 * execution whose onSuccess / onFailure event did. An outcome event that would start an execution deeper
 * than {@code coordinator.chain.max-depth} goes to the DLQ instead, naming the chain, as AWS Lambda
 * stops a recursive loop after a bounded number of invocations.
 */
public final class ChainDepthGuard {
    /** Header: the execution whose outcome event this is, or absent for any other event. */
    public static final String CHAIN_CAUSE = "chainCause";
    /** Header: the chain depth of the execution the event starts (start-execution.sql). */
    public static final String CHAIN_DEPTH = "chainDepth";

    private final int maxDepth;

    /** @param maxDepth the deepest execution a chain may start; 0 for no limit */
    public ChainDepthGuard(int maxDepth) {
        this.maxDepth = maxDepth;
    }

    /**
     * The execution whose onSuccess / onFailure event this is, or null. Such an event is recognised by
     * what {@link OutcomeEvents} gives it: an event_id that is its payload's execution_id, a colon and the
     * outcome its payload's status names (and the retry's number after another colon), so an event of the same type
     * posted by anyone else counts as a chain's start.
     */
    static String causeOf(JsonNode payload, String eventKey) {
        JsonNode executionId = payload == null ? null : payload.get("execution_id");
        JsonNode status = payload == null ? null : payload.get("status");
        return executionId != null && executionId.isTextual() && !executionId.asText().isEmpty() && status != null && status.isTextual()
                && OutcomeEvents.isEventIdOf(eventKey, executionId.asText(), status.asText()) ? executionId.asText() : null;
    }

    /**
     * After find-chain-depth.sql (the body: the cause's depth, null when it is gone): sets the depth of
     * the execution the event would start, or refuses the event when that is past the limit.
     */
    public void check(Exchange exchange) {
        Message in = exchange.getMessage();
        Number causeDepth = in.getBody(Number.class);
        in.setBody(null);
        if (causeDepth == null) {
            // The cause is gone: the retention sweep deleted it, with the execution its event started and that event's
            // key, days after it settled, so this is that event again (a late or duplicate reply, or the outbox, sent it
            // again, and it waited on agent.events while the sweep ran). Started now, it would run the chain a second time.
            throw new InvalidEventException("event is the outcome event of execution " + in.getHeader(CHAIN_CAUSE)
                    + ", which no longer exists (the retention sweep deletes an execution coordinator.retention.days after it"
                    + " settled, with the execution its outcome event started and that event): it is that outcome event sent"
                    + " again, and does not start " + in.getHeader(Headers.WORKFLOW_ID) + " a second time");
        }
        int depth = causeDepth.intValue() + 1;
        if (maxDepth > 0 && depth > maxDepth) {
            throw new InvalidEventException("event is the outcome event of execution " + in.getHeader(CHAIN_CAUSE)
                    + ", itself started by a chain of " + (depth - 1) + " outcome events: it would start "
                    + in.getHeader(Headers.WORKFLOW_ID) + " " + depth + " deep, past coordinator.chain.max-depth ("
                    + maxDepth + "); a chain of workflows that leads back to itself through onSuccess and onFailure"
                    + " stops here (README, \"Outcome events\")");
        }
        in.setHeader(CHAIN_DEPTH, depth);
    }
}
