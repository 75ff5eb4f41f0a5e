package dev.agentcoordinator.api;

import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.engine.Endpoints;
import dev.agentcoordinator.engine.Headers;
import dev.agentcoordinator.engine.Json;
import dev.agentcoordinator.engine.QueuedRequests;
import dev.agentcoordinator.engine.Sql;
import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;

import java.util.Map;

import static dev.agentcoordinator.api.JsonResponse.respond;
import static dev.agentcoordinator.api.RequestParameters.keepOnlyHeaders;

/** POST /api/executions/{id}/cancel: an execution cancelled, its steps stopped (api.cancel-execution, which a bulk cancel calls too). */
final class ExecutionCancelApiRoutes extends ApiRouteBuilder {
    private final WorkflowCatalog catalog;
    private final BrokerSendGuard brokerSendGuard;
    /** What follows the cancel, bounded while the broker holds its sends back. */
    private final BoundedBrokerSend sends;
    /** Exchange property: the answer's warning that what follows the cancel waits for the broker. */
    static final String SENDS_WARNING = "sendsWarning";

    ExecutionCancelApiRoutes(WorkflowCatalog catalog, BrokerSendGuard brokerSendGuard, BoundedBrokerSend sends) {
        this.catalog = catalog;
        this.brokerSendGuard = brokerSendGuard;
        this.sends = sends;
    }

    @Override
    protected void configureResource() {
        api()
                .post("/executions/{id}/cancel").description("cancels a running execution")
                    .produces(JSON).to("direct:api.post-cancel-execution");

        // the REST DSL inlines the route it names into its own (camel.rest.inlineRoutes): the cancel a bulk cancel
        // (BulkCancelApiRoutes) calls for each execution is a route of its own, which this one calls too
        from("direct:api.post-cancel-execution").routeId("api.post-cancel-execution")
                .to("direct:api.cancel-execution");

        from("direct:api.cancel-execution").routeId("api.cancel-execution")
                .process(e -> keepOnlyHeaders(e, "id"))
                .setHeader(Headers.EXECUTION_ID, header("id"))
                .setProperty("executionId", header("id"))
                .setHeader(Headers.REASON, constant(dev.agentcoordinator.engine.ReplyRoutes.CANCELLED_BY_REQUEST))
                .to(Sql.apiRow("cancel-execution"))
                .choice()
                    .when(body().isNull())
                        // nothing to cancel: say whether the execution is unknown or already settled
                        .setHeader(ExecutionApiRoutes.WITH_OUTPUTS, constant(true))   // get-execution.sql reads the payload and result only then
                        .to(Sql.apiRow("get-execution"))
                        .process(ExecutionCancelApiRoutes::notCancelled)
                    .otherwise()
                        // the requests no agent has taken yet are taken back (best effort, see QueuedRequests)
                        .bean(QueuedRequests.REGISTRY_NAME, "withdraw(${body})")
                        .process(e -> ExecutionRouting.toItsVersion(e, catalog))
                        .setHeader(Headers.STATUS, simple("${body[status]}"))
                        .setProperty("status", simple("${body[status]}"))
                        .setHeader("failures", simple("${body[failures]}"))
                        // who stopped it, and when: the line an operator looks for (a compensation logs its own after it)
                        .log(LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "execution ${header.executionId} of ${header.workflowId} "
                                + "cancelled by request (${body[settled_steps]} unsettled steps stopped or skipped)")
                        .doTry()
                            // the broker known to be down: no send that waits through the reconnection (40 s and more
                            // before the answer, a client's timeout run out on a committed cancel); the sweeps finish it
                            .process(brokerSendGuard)
                            .process(sends.goOnWithout(Endpoints.AFTER_SETTLED))
                        .doCatch(BrokerBlocksSends.class)
                            // committed, and what follows waits for the broker's credits (or, not started, is the sweeps'):
                            // answered now rather than when the broker takes sends again
                            .log(LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "execution ${exchangeProperty.executionId} is "
                                    + "${exchangeProperty.status}; what follows waits for the broker: ${exception.message}")
                            .setProperty(SENDS_WARNING, simple("${exception.message}: the cancel is done, and what follows it"
                                    + " (the outcome event, or the compensation's requests) is sent once the broker takes sends again"))
                        .doCatch(Exception.class)
                            // the cancel is committed: what follows it is not the client's to redo. (A failure in
                            // the engine's routes never reaches this builder's onException: their error handler
                            // deals with it first, and Camel then leaves it alone in the caller; doCatch sees it.)
                            .log(LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "execution ${exchangeProperty.executionId} is "
                                    + "${exchangeProperty.status}, but what follows did not run: ${exchangeProperty.CamelExceptionCaught} "
                                    + "(a sweep finishes it: the compensation, or the outcome event)")
                        .end()
                        .process(ExecutionCancelApiRoutes::cancelled)
                .end();
    }

    private static void cancelled(Exchange exchange) {
        com.fasterxml.jackson.databind.node.ObjectNode answer = Json.object()
                .put("execution_id", exchange.getProperty("executionId", String.class))
                .put("status", exchange.getProperty("status", String.class));
        if (exchange.getProperty(SENDS_WARNING) != null) {
            answer.put("warning", exchange.getProperty(SENDS_WARNING, String.class));
        }
        respond(exchange, 200, Json.write(answer));
    }

    @SuppressWarnings("unchecked")
    private static void notCancelled(Exchange exchange) {
        Map<String, Object> execution = exchange.getMessage().getBody(Map.class);
        String id = exchange.getProperty("executionId", String.class);
        if (execution == null) {
            respond(exchange, 404, ExecutionViews.error("no execution " + id));
        } else if ("running".equals(execution.get("status"))) {
            // the cancel found it settled, and a retry reopened it since
            respond(exchange, 409, ExecutionViews.error("execution " + id + " was retried while the cancel ran: it is running"
                    + " again, cancel it again to stop it"));
        } else {
            respond(exchange, 409, ExecutionViews.error("execution " + id + " is " + execution.get("status") + ", not running"));
        }
    }
}
