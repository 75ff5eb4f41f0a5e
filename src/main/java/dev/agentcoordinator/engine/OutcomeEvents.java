package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

/**
 * Builds the workflow's onSuccess / onFailure event (CONTRACT.md section 2) so workflows can chain.
 * The event id is derived from the execution's end, so publishing it twice starts nothing twice:
 * {@code <execution>:<status>}, and for a failure after the execution's n-th retry
 * {@code <execution>:<status>:<n>} (only a failed execution can be retried, so only failures repeat).
 */
public final class OutcomeEvents {
    /** Exchange property: how many times the execution was retried, set for the events of {@link #announcesFailure}. */
    public static final String RETRIES = "outcomeRetries";

    private final WorkflowCatalog catalog;

    public OutcomeEvents(WorkflowCatalog catalog) {
        this.catalog = catalog;
    }

    /** True when the execution's end is not a success and its workflow declares an onFailure event. */
    public boolean announcesFailure(Exchange exchange) {
        Message in = exchange.getMessage();
        return !"completed".equals(in.getHeader(Headers.STATUS, String.class)) && eventType(in) != null;
    }

    /** The statuses an execution settles with, each an outcome that may have an event. */
    private static final java.util.regex.Pattern SETTLED = java.util.regex.Pattern.compile(
            "completed|failed|cancelled|compensated|compensation_failed");

    /**
     * An outcome event's event_id: {@code <execution>:<status>}, and {@code :<n>} after the execution's n-th retry (its
     * failure then is a new outcome, which starts what it triggers again).
     */
    static String eventId(String executionId, String status, int retries) {
        return executionId + ":" + status + (retries == 0 ? "" : ":" + retries);
    }

    /**
     * Whether {@code eventKey} is the event_id this class gives the outcome {@code status} of {@code executionId}: an
     * event of anyone else that merely begins with its payload's execution_id ({@code build-42:finished}) is not.
     */
    static boolean isEventIdOf(String eventKey, String executionId, String status) {
        if (status == null || !SETTLED.matcher(status).matches() || !eventKey.startsWith(executionId + ":" + status)) {
            return false;
        }
        String rest = eventKey.substring(executionId.length() + 1 + status.length());
        return rest.isEmpty() || rest.matches(":[1-9][0-9]{0,9}");
    }

    /** Sets the event as the body, or null when the workflow declares no event for this outcome. */
    public void build(Exchange exchange) {
        Message in = exchange.getMessage();
        String workflowId = in.getHeader(Headers.WORKFLOW_ID, String.class);
        String executionId = in.getHeader(Headers.EXECUTION_ID, String.class);
        String status = in.getHeader(Headers.STATUS, String.class);
        boolean success = "completed".equals(status);
        String type = eventType(in);
        in.removeHeaders("*");
        if (type == null) {
            in.setBody(null);
            return;
        }
        ObjectNode payload = Json.object();
        payload.put("workflow_id", workflowId);
        payload.put("execution_id", executionId);
        payload.put("status", status);
        // each a step's StepResult, as step_result (V41) wrote it: the same as the execution's result
        payload.set(success ? "results" : "failures", Json.parse(exchange.getProperty(success ? "results" : "failures", String.class)));
        ObjectNode event = Json.object();
        event.put("type", type);
        event.set("payload", payload);
        Integer retries = exchange.getProperty(RETRIES, Integer.class);
        event.put("event_id", eventId(executionId, status, retries == null ? 0 : retries));
        in.setBody(Json.write(event));
    }

    /** The event the workflow version the execution ran on declares for this outcome, or null. */
    private String eventType(Message in) {
        WorkflowDefinition workflow = catalog.resolveRouteKey(in.getHeader(Headers.ROUTE_KEY, String.class)).orElse(null);
        if (workflow == null) {
            return null;
        }
        return "completed".equals(in.getHeader(Headers.STATUS, String.class)) ? workflow.onSuccess() : workflow.onFailure();
    }
}
