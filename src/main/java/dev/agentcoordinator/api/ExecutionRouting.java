package dev.agentcoordinator.api;

import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.engine.Headers;
import dev.agentcoordinator.engine.RouteKeys;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

import java.util.Map;

/** Where a cancel or a retry hands an execution over to the engine: the routes of the version it runs on. */
final class ExecutionRouting {
    private ExecutionRouting() {
    }

    /** Sets the workflow id and version of the execution row in the body, and the routes of that version (when they can be had). */
    @SuppressWarnings("unchecked")
    static void toItsVersion(Exchange exchange, WorkflowCatalog catalog) {
        Message in = exchange.getMessage();
        Map<String, Object> execution = in.getBody(Map.class);
        in.setHeader(Headers.WORKFLOW_ID, execution.get("workflow_id"));
        in.setHeader(Headers.WORKFLOW_VERSION, ((Number) execution.get("workflow_version")).intValue());
        RouteKeys.routeTo(in, catalog);
    }
}
