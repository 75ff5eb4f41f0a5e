package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import org.apache.camel.Message;

/** Which routes run an execution read back from the database: those of the workflow version it started on. */
public final class RouteKeys {
    private RouteKeys() {
    }

    /**
     * Sets {@link Headers#ROUTE_KEY} for the {@link Headers#WORKFLOW_ID} and {@link Headers#WORKFLOW_VERSION}
     * in the headers; removes it when this coordinator does not run that version.
     */
    public static void routeTo(Message in, WorkflowCatalog catalog) {
        String routeKey = catalog.forVersion(in.getHeader(Headers.WORKFLOW_ID, String.class), in.getHeader(Headers.WORKFLOW_VERSION, Integer.class))
                .map(WorkflowDefinition::id).orElse(null);
        if (routeKey == null) {
            in.removeHeader(Headers.ROUTE_KEY);
        } else {
            in.setHeader(Headers.ROUTE_KEY, routeKey);
        }
    }
}
