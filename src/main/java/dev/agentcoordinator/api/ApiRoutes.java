package dev.agentcoordinator.api;

import dev.agentcoordinator.definition.WorkflowCatalog;
import org.apache.camel.builder.RouteBuilder;

import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The HTTP API (Rest DSL on the Camel Main HTTP server): one RouteBuilder a resource, each declaring its paths under
 * /api and the routes (api.&lt;name&gt;) that answer them. Reads come straight from the state tables; writes go through
 * the same routes as messages do (an event posted here is put on agent.events).
 */
public final class ApiRoutes {
    private ApiRoutes() {
    }

    /**
     * @param replyQueue where a step reply posted to the API goes, as its agent's would
     * @param brokerUnreachable whether the broker is known to be unreachable now (BrokerOutageWatch): a send would wait for it, unbounded
     * @param maxTokens coordinator.input.max-json-tokens: a posted event or step reply of more tokens is a 413, an agent
     *                  message a 400; a dead letter is put back only when agent.events, reading as many, would take it
     * @param sendBoundMs how long a call that sends to the broker waits for a send it holds back (a full disk) before it answers
     */
    public static List<RouteBuilder> builders(WorkflowCatalog catalog, String replyQueue, BooleanSupplier brokerUnreachable, int maxTokens,
            long sendBoundMs) {
        BrokerSendGuard brokerSendGuard = new BrokerSendGuard(brokerUnreachable);
        // in the order of their paths: the OpenAPI document (GET /api/openapi.json) lists each builder's paths sorted,
        // one builder after the other
        return List.of(
                new AgentApiRoutes(catalog, brokerSendGuard),
                new DeadLetterApiRoutes(maxTokens),
                new EventApiRoutes(catalog, brokerSendGuard, maxTokens, bounded("event-send", sendBoundMs)),
                new ExecutionApiRoutes(catalog),
                new ExecutionCancelApiRoutes(catalog, brokerSendGuard, bounded("cancel-send", sendBoundMs)),
                new ExecutionRetryApiRoutes(catalog, brokerSendGuard, bounded("retry-send", sendBoundMs)),
                new StepReplyApiRoutes(replyQueue, brokerSendGuard, maxTokens, bounded("reply-send", sendBoundMs)),
                new BulkCancelApiRoutes(catalog),
                new LockApiRoutes(),
                new MessageApiRoutes(brokerSendGuard, maxTokens, bounded("message-send", sendBoundMs)),
                new WorkflowApiRoutes(catalog));
    }

    /** The bounded sends of one call, with a pool of sender threads of its own. */
    private static BoundedBrokerSend bounded(String name, long sendBoundMs) {
        return new BoundedBrokerSend(name, sendBoundMs, BoundedBrokerSend.CONFIRM_MS);
    }
}
