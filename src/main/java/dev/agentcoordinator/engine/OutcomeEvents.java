package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

/**
 * Builds the workflow's onSuccess / onFailure event (CONTRACT.md section 2) so workflows can chain.
 * The event id is derived from the execution, so publishing it twice starts nothing twice.
 */
public final class OutcomeEvents {
    private final WorkflowCatalog catalog;

    public OutcomeEvents(WorkflowCatalog catalog) {
        this.catalog = catalog;
    }

    /** Sets the event as the body, or null when the workflow declares no event for this outcome. */
    public void build(Exchange exchange) {
        Message in = exchange.getMessage();
        String workflowId = in.getHeader(Headers.WORKFLOW_ID, String.class);
        String executionId = in.getHeader(Headers.EXECUTION_ID, String.class);
        String status = in.getHeader(Headers.STATUS, String.class);
        // the events of the version the execution ran on
        WorkflowDefinition workflow = catalog.resolveRouteKey(in.getHeader(Headers.ROUTE_KEY, String.class)).orElse(null);
        boolean success = "completed".equals(status);
        String type = workflow == null ? null : success ? workflow.onSuccess() : workflow.onFailure();
        in.removeHeaders("*");
        if (type == null) {
            in.setBody(null);
            return;
        }
        ObjectNode payload = Json.object();
        payload.put("workflow_id", workflowId);
        payload.put("execution_id", executionId);
        payload.put("status", status);
        if (success) {
            payload.set("results", Json.parse(exchange.getProperty("results", String.class)));
        } else {
            payload.set("failures", Json.parse(exchange.getProperty("failures", String.class)));
        }
        ObjectNode event = Json.object();
        event.put("type", type);
        event.set("payload", payload);
        event.put("event_id", executionId + ":" + status);
        in.setBody(Json.write(event));
    }
}
