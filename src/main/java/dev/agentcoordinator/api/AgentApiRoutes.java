package dev.agentcoordinator.api;

import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.engine.Endpoints;
import dev.agentcoordinator.engine.Sql;
import org.apache.camel.Exchange;

import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.api.JsonResponse.respond;

/** GET /api/agents: every agent the loaded workflows name, with its attempts in flight and its queue's counts. */
final class AgentApiRoutes extends ApiRouteBuilder {
    private final WorkflowCatalog catalog;
    private final BrokerSendGuard brokerSendGuard;

    AgentApiRoutes(WorkflowCatalog catalog, BrokerSendGuard brokerSendGuard) {
        this.catalog = catalog;
        this.brokerSendGuard = brokerSendGuard;
    }

    @Override
    protected void configureResource() {
        api()
                .get("/agents").description("every agent the loaded workflows name: the workflows that name it, its attempts"
                        + " in flight, the requests waiting on its queue and the consumers listening there (unattended: requests"
                        + " wait and no agent listens)")
                    .produces(JSON).to("direct:api.list-agents");

        from("direct:api.list-agents").routeId("api.list-agents")
                .to(Sql.apiRows("agent-attempts-running"))
                .process(this::listAgents);
    }

    /** GET /api/agents: the attempts in flight (the body's rows) with the broker's counts, read now. */
    @SuppressWarnings("unchecked")
    private void listAgents(Exchange exchange) {
        Map<String, Long> running = new java.util.TreeMap<>();
        for (Map<String, Object> row : (List<Map<String, Object>>) exchange.getMessage().getBody(List.class)) {
            running.put((String) row.get("agent"), ((Number) row.get("running")).longValue());
        }
        Map<String, dev.agentcoordinator.ops.QueueDepths.Counts> queues = null;
        String queuesProblem = null;
        if (brokerSendGuard.brokerUnreachable()) {   // its requests would wait for the reconnection: 40 s and more
            respond(exchange, 200, AgentsView.of(catalog.all(), running, null,
                    "the broker cannot be reached: its queues' counts are not known now").toString());
            return;
        }
        try {
            queues = exchange.getContext().getRegistry().lookupByNameAndType("queueDepths", dev.agentcoordinator.ops.QueueDepths.class).read();
            if (!queues.containsKey(Endpoints.EVENTS_QUEUE)) {   // the coordinator's own queue is always there
                queues = null;
                queuesProblem = "the broker does not answer management requests (a standalone broker needs the manage"
                        + " permission for the coordinator's user)";
            }
        } catch (jakarta.jms.JMSSecurityException e) {
            queuesProblem = "the broker refuses the coordinator's user its management requests (a standalone broker needs the"
                    + " manage permission, and createNonDurableQueue for their answers' temporary queue): " + e.getMessage();
        } catch (Exception e) {
            queuesProblem = "the broker cannot be asked (" + e.getMessage() + ")";
        }
        respond(exchange, 200, AgentsView.of(catalog.all(), running, queues, queuesProblem).toString());
    }
}
