package dev.agentcoordinator.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.engine.Endpoints;
import dev.agentcoordinator.engine.Headers;
import dev.agentcoordinator.engine.Json;
import dev.agentcoordinator.engine.Sql;
import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.Message;

import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.api.JsonResponse.respond;
import static dev.agentcoordinator.api.RequestParameters.keepOnlyHeaders;

/** POST /api/executions/{id}/retry: the failed and skipped steps of a failed or cancelled execution run again. */
final class ExecutionRetryApiRoutes extends ApiRouteBuilder {
    /** Exchange property: the status of the execution a retry was asked of, as read before the reset. */
    private static final String RETRIED_STATUS = "retriedStatus";
    /** Exchange property: the steps a retry runs again, by id. */
    private static final String RETRIED_STEPS = "retriedSteps";
    /** Exchange property: the status whose outcome event an execution has yet to send, when a retry was refused. */
    private static final String UNSENT_OUTCOME = "unsentOutcome";
    private final WorkflowCatalog catalog;
    private final BrokerSendGuard brokerSendGuard;
    /** The reset steps' start, bounded while the broker holds their requests back. */
    private final BoundedBrokerSend sends;

    ExecutionRetryApiRoutes(WorkflowCatalog catalog, BrokerSendGuard brokerSendGuard, BoundedBrokerSend sends) {
        this.catalog = catalog;
        this.brokerSendGuard = brokerSendGuard;
        this.sends = sends;
    }

    @Override
    protected void configureResource() {
        api()
                .post("/executions/{id}/retry").description("re-runs the failed and skipped steps of a failed execution, or goes on with a cancelled one")
                    .produces(JSON).to("direct:api.retry-execution");

        from("direct:api.retry-execution").routeId("api.retry-execution")
                .process(e -> keepOnlyHeaders(e, "id"))
                .setHeader(Headers.EXECUTION_ID, header("id"))
                .setHeader(ExecutionApiRoutes.WITH_OUTPUTS, constant(true))   // get-execution.sql reads the payload and result only then
                .to(Sql.apiRow("get-execution"))
                .choice()
                    .when(body().isNull()).process(ExecutionApiRoutes::noSuchExecution)
                    .otherwise()
                        .process(this::prepareRetry)
                        .to("direct:api.retry-steps")
                .end();

        startRetriedSteps();
        from("direct:api.retry-steps").routeId("api.retry-steps")
                .choice()
                    // a version no coordinator recorded (see WorkflowVersions)
                    .when(header(Headers.ROUTE_KEY).isNull())
                        .process(e -> respond(e, 409, ExecutionViews.error("execution " + e.getMessage().getHeader(Headers.EXECUTION_ID)
                                + " ran on version " + e.getMessage().getHeader(Headers.WORKFLOW_VERSION) + " of workflow "
                                + e.getMessage().getHeader(Headers.WORKFLOW_ID) + ", which this coordinator does not run")))
                    .otherwise()
                        .to(Sql.apiRows("reset-failed-steps"))
                        .choice()
                            .when(header(Headers.SQL_ROW_COUNT).isEqualTo(0))
                                // as it is now: another retry may have come first
                                .setBody(constant(null))
                                .to(Sql.apiRow("get-unsent-outcome"))
                                .setProperty(UNSENT_OUTCOME, body())
                                .setBody(constant(null))
                                .setHeader(ExecutionApiRoutes.WITH_OUTPUTS, constant(true))   // get-execution.sql reads the payload and result only then
                                .to(Sql.apiRow("get-execution"))
                                .process(ExecutionRetryApiRoutes::notRetried)
                            .otherwise()
                                .setProperty("resetSteps", body())
                                .process(ExecutionRetryApiRoutes::listRetriedSteps)
                                .log(LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "execution ${header.executionId} of ${header.workflowId} "
                                        + "retried by request (was ${exchangeProperty." + RETRIED_STATUS + "}): ${exchangeProperty."
                                        + RETRIED_STEPS + "} run again")
                                .doTry()
                                    .process(brokerSendGuard)   // as the cancel's (ExecutionCancelApiRoutes)
                                    .process(sends.goOnWithout("direct:api.start-retried-steps"))
                                .endDoTry()
                                .doCatch(BrokerBlocksSends.class)
                                    // as the cancel's: committed, and the steps' requests wait for the broker's credits
                                    .log(LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "execution ${header.executionId}: its reset "
                                            + "steps wait for the broker: ${exception.message}")
                                    .setProperty(ExecutionCancelApiRoutes.SENDS_WARNING, simple("${exception.message}: the retry is"
                                            + " done, and its steps' requests are sent once the broker takes sends again"))
                                .doCatch(Exception.class)
                                    // the reset is committed: a second retry would only be refused (not failed)
                                    .log(LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "execution ${header.executionId}: its reset "
                                            + "steps did not all start: ${exchangeProperty.CamelExceptionCaught} (the stalled-execution sweep starts them)")
                                .end()
                                .process(ExecutionRetryApiRoutes::retried)
                        .end()
                .end();
    }

    /** The reset steps started (the body: their rows), on a thread of their own (BoundedBrokerSend). */
    private void startRetriedSteps() {
        from("direct:api.start-retried-steps").routeId("api.start-retried-steps")
                // a failure is the retry's doCatch to log, not this builder's onException to answer (and swallow)
                .errorHandler(noErrorHandler())
                .split(body())
                    .setHeader(Headers.STEP_ID, simple("${body[step_id]}"))
                    .setBody(constant(null))
                    .log("execution ${header.executionId}: step ${header.stepId} will run again")
                    .toD("direct:wf.${header.routeKey}.${header.stepId}")
                .end();
    }

    /**
     * Why reset-failed-steps changed nothing: the execution is neither failed nor cancelled (now: a retry that came at the same
     * moment may have reopened it), or nothing of it failed or was skipped, or its outcome event is not sent yet. The body: the
     * execution as it is now.
     */
    @SuppressWarnings("unchecked")
    private static void notRetried(Exchange exchange) {
        Map<String, Object> now = exchange.getMessage().getBody(Map.class);
        if (now == null) {   // deleted since it was read (the retention sweep): as a retry a moment later is answered
            respond(exchange, 404, ExecutionViews.error("no execution " + exchange.getMessage().getHeader(Headers.EXECUTION_ID)));
            return;
        }
        Object status = now.get("status");
        Object unsent = exchange.getProperty(UNSENT_OUTCOME);
        if (unsent != null && unsent.equals(status)) {
            respond(exchange, 409, ExecutionViews.error("execution " + exchange.getMessage().getHeader(Headers.EXECUTION_ID)
                    + " has not yet published its " + status + " outcome event (the broker may be unreachable; a sweep sends it"
                    + " within seconds of the broker's return): retry it once that event is sent, so that each outcome keeps an event of its own"));
            return;
        }
        respond(exchange, 409, ExecutionViews.error("execution " + exchange.getMessage().getHeader(Headers.EXECUTION_ID)
                + ("failed".equals(status) ? " has no failed or skipped step to run again (it failed as its last step completed)"
                : "cancelled".equals(status) ? " has no failed or skipped step to run again (it was cancelled as its last step completed)"
                : " is neither failed nor cancelled (" + status + ")")));
    }

    /** The headers of a retry; no route key when this coordinator does not run the version the execution ran on. */
    private void prepareRetry(Exchange exchange) {
        exchange.setProperty(RETRIED_STATUS, exchange.getMessage().getBody(Map.class).get("status"));
        ExecutionRouting.toItsVersion(exchange, catalog);
        Message in = exchange.getMessage();
        WorkflowDefinition workflow = catalog.resolveRouteKey(in.getHeader(Headers.ROUTE_KEY, String.class)).orElse(null);
        if (workflow == null) {
            return;
        }
        in.setHeader("timeoutMs", workflow.config().timeoutMsOrDefault());
        // each re-run step gets its full attempt budget again (reset-failed-steps.sql)
        Map<String, Integer> budgets = new java.util.HashMap<>();
        workflow.steps().forEach(step -> budgets.put(step.id(), workflow.maxAttempts(step)));
        in.setHeader("attemptBudgets", Json.write(budgets));
    }

    /** The steps a retry runs again, for its progress line (the log EIP, which writes the execution's MDC). */
    @SuppressWarnings("unchecked")
    private static void listRetriedSteps(Exchange exchange) {
        List<Map<String, Object>> reset = exchange.getProperty("resetSteps", List.class);
        exchange.setProperty(RETRIED_STEPS, String.join(", ", reset.stream().map(row -> (String) row.get("step_id")).sorted().toList()));
    }

    @SuppressWarnings("unchecked")
    private static void retried(Exchange exchange) {
        List<Map<String, Object>> reset = exchange.getProperty("resetSteps", List.class);
        ObjectNode view = Json.object();
        view.put("execution_id", exchange.getMessage().getHeader(Headers.EXECUTION_ID, String.class));
        view.put("status", "running");
        // by step id: the statement returns them in no particular order
        reset.stream().map(row -> (String) row.get("step_id")).sorted().forEach(view.withArray("retried_steps")::add);
        if (exchange.getProperty(ExecutionCancelApiRoutes.SENDS_WARNING) != null) {
            view.put("warning", exchange.getProperty(ExecutionCancelApiRoutes.SENDS_WARNING, String.class));
        }
        respond(exchange, 202, Json.write(view));
    }
}
