package dev.agentcoordinator.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.engine.DatabaseOutageErrors;
import dev.agentcoordinator.engine.DatabaseUnreachable;
import dev.agentcoordinator.engine.Endpoints;
import dev.agentcoordinator.engine.EventDecoder;
import dev.agentcoordinator.engine.Headers;
import dev.agentcoordinator.engine.IgnoredFields;
import dev.agentcoordinator.engine.InvalidEventException;
import dev.agentcoordinator.engine.Json;
import dev.agentcoordinator.engine.QueuedRequests;
import dev.agentcoordinator.engine.ReloadNotices;
import dev.agentcoordinator.engine.RouteKeys;
import dev.agentcoordinator.engine.Sql;
import dev.agentcoordinator.engine.StepOutcome;
import dev.agentcoordinator.engine.StepRequests;
import dev.agentcoordinator.engine.WorkflowReload;
import dev.agentcoordinator.messages.AgentMessageCodec;
import dev.agentcoordinator.messages.MessageRoutes;
import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestBindingMode;
import org.apache.camel.model.rest.RestParamType;
import org.springframework.dao.DataAccessException;

import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The HTTP API (Rest DSL on the Camel Main HTTP server). Reads come straight from the state tables;
 * writes go through the same routes as messages do (an event posted here is put on agent.events).
 */
public class ApiRoutes extends RouteBuilder {
    /** Exchange property: the status of the execution a retry was asked of, as read before the reset. */
    private static final String RETRIED_STATUS = "retriedStatus";
    /** Exchange property: the steps a retry runs again, by id. */
    private static final String RETRIED_STEPS = "retriedSteps";
    /** Exchange property: the status whose outcome event an execution has yet to send, when a retry was refused. */
    private static final String UNSENT_OUTCOME = "unsentOutcome";
    private static final String JSON = "application/json";
    /** A step reply posted here that settles its attempt: the attempt's request, to take off its agent's queue. */
    private static final String ANSWERED_REQUEST = "answeredRequest";
    /** Every status workflow_executions.status takes (CONTRACT.md section 3, and the compensation's). */
    static final List<String> EXECUTION_STATUSES = List.of("pending", "running", "completed", "failed", "cancelled",
            "compensating", "compensated", "compensation_failed");
    private final WorkflowCatalog catalog;
    private final String replyQueue;

    /** Whether the broker is known to be unreachable now (BrokerOutageWatch): a send would wait for it, unbounded. */
    private final java.util.function.BooleanSupplier brokerUnreachable;
    /** coordinator.input.max-json-tokens: a posted event or step reply of more tokens is a 413. */
    private final int maxTokens;

    public ApiRoutes(WorkflowCatalog catalog, String replyQueue, java.util.function.BooleanSupplier brokerUnreachable, int maxTokens) {
        this.catalog = catalog;
        this.maxTokens = maxTokens;
        this.replyQueue = replyQueue;
        this.brokerUnreachable = brokerUnreachable;
    }

    /**
     * Before a call that sends to the broker: while the broker is known to be unreachable, a 503 at once (the JMS
     * failure's answer, below), not a send that waits for the client's reconnection: a call answered after a minute,
     * or not at all once the HTTP server closed the idle connection, whose event was then delivered or not.
     */
    private void refuseWhileBrokerUnreachable(Exchange exchange) throws jakarta.jms.JMSException {
        if (brokerUnreachable.getAsBoolean()) {
            throw new jakarta.jms.JMSException("the broker is known to be unreachable: not waiting for it");
        }
    }

    @Override
    public void configure() {
        restConfiguration().component("platform-http").bindingMode(RestBindingMode.off);

        // an outage is the client's to retry: 503 (more specific than DatabaseOutageErrors' Exception, so this one applies)
        onException(DataAccessException.class, SQLException.class)
                .onWhen(e -> DatabaseUnreachable.causes(e.getException()))
                .handled(true)
                .log(LoggingLevel.WARN, DatabaseOutageErrors.LOG_NAME,
                        "route ${routeId} answered 503, database unreachable: ${exception.message}")
                .process(e -> {
                    respond(e, 503, ExecutionViews.error("the database cannot be reached; try again later"));
                    e.getMessage().setHeader("Retry-After", "5");
                });

        // as for the database: a broker that cannot be reached is the client's to retry
        onException(org.springframework.jms.JmsException.class, jakarta.jms.JMSException.class, jakarta.jms.JMSRuntimeException.class)
                .handled(true)
                .log(LoggingLevel.WARN, "dev.agentcoordinator.api", "route ${routeId} answered 503, broker unreachable: ${exception.message}")
                .process(e -> {
                    // a message is stored (pending) before its send: posted again with this id, it is sent then
                    String messageId = e.getProperty("messageId", String.class);
                    respond(e, 503, messageId == null ? ExecutionViews.error("the broker cannot be reached; try again later")
                            : Json.write(Json.object().put("error", "the broker cannot be reached; post the message again with this"
                                    + " message_id (before its response timeout) later").put("message_id", messageId)));
                    e.getMessage().setHeader("Retry-After", "5");
                });

        // anything else is a fault of the coordinator: logged with its stack trace, answered in JSON with
        // the exchange id that finds it in the log (Camel would answer an empty 500)
        onException(Exception.class)
                .handled(true)
                .log(LoggingLevel.ERROR, "dev.agentcoordinator.api",
                        "route ${routeId} failed (exchange ${exchangeId}): ${exception.stacktrace}")
                .process(e -> respond(e, 500, ExecutionViews.error("internal error (exchange " + e.getExchangeId()
                        + ", see the coordinator's log)")));

        // (respond() drops the request's headers, which would otherwise go back as response headers)
        onException(InvalidEventException.class, IllegalArgumentException.class)
                .handled(true)
                .process(e -> respond(e, 400, ExecutionViews.error(e.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class).getMessage())));
        // a body of more JSON tokens than are read is too large, as one over the HTTP server's byte limit (Camel matches
        // the cause first: an event refused for its tokens comes here too)
        onException(Json.TooManyTokensException.class)
                .handled(true)
                .process(e -> respond(e, 413, ExecutionViews.error(e.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class).getMessage())));
        onException(dev.agentcoordinator.messages.AgentMessageConflictException.class)
                .handled(true)
                .process(e -> respond(e, 409, ExecutionViews.error(e.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class).getMessage())));

        // PostgreSQL cannot store U+0000 in text: a path or query parameter holding it is the client's
        // mistake (400), not a statement that failed (500)
        interceptFrom().process(ApiRoutes::queryParametersFromTheQueryOnly).process(ApiRoutes::refuseNulInParameters);

        rest("/api").description("Agent Coordinator API")
                .get("/executions/{id}").description("status of an execution and every step, with each step's attempts (spec: getExecutionStatus)")
                    .param().name("outputs").type(RestParamType.query).required(false).dataType("boolean").defaultValue("true")
                        .description("false: without the trigger payload, the result and each step's input, output and progress"
                                + " (a poll of an execution whose steps return megabytes)").endParam()
                    .produces(JSON).to("direct:api.get-execution")
                .get("/executions").description("executions, newest first; filters workflow_id, status; limit per page; after: the next of the page before")
                    .param().name("workflow_id").type(RestParamType.query).required(false).dataType("string")
                        .description("only executions of this workflow").endParam()
                    .param().name("status").type(RestParamType.query).required(false).dataType("string")
                        .allowableValues(EXECUTION_STATUSES).description("only executions with this status").endParam()
                    .param().name("limit").type(RestParamType.query).required(false).dataType("integer").defaultValue("50")
                        .description("executions per page, 1 to 1000").endParam()
                    .param().name("after").type(RestParamType.query).required(false).dataType("string")
                        .description("the \"next\" of the page before").endParam()
                    .produces(JSON).to("direct:api.list-executions")
                .post("/executions/{id}/cancel").description("cancels a running execution")
                    .produces(JSON).to("direct:api.post-cancel-execution")
                .post("/executions/cancel").description("cancels many running executions, each as /executions/{id}/cancel does:"
                        + " those named ({\"execution_ids\": [...]}, up to 1000), or a workflow's running ones, oldest first"
                        + " ({\"workflow_id\", \"version\", \"limit\"}: of that version, up to limit (100, at most 1000) a call,"
                        + " \"more\" telling that others are left)")
                    .consumes(JSON).produces(JSON).to("direct:api.cancel-executions")
                .post("/executions/{id}/retry").description("re-runs the failed and skipped steps of a failed execution, or goes on with a cancelled one")
                    .produces(JSON).to("direct:api.retry-execution")
                .post("/executions/{id}/steps/{step}/reply").description("a step reply from outside its agent (a person, a webhook):"
                        + " queued for the step's attempt in flight as its agent's reply would be, or its compensation's once it is undone")
                    .consumes(JSON).produces(JSON).to("direct:api.post-step-reply")
                .post("/events").description("puts an event on agent.events; answers 202 with its event_id")
                    .consumes(JSON).produces(JSON).to("direct:api.post-event")
                .get("/events").description("events received, newest first, each with the execution it started and its status;"
                        + " filter type; limit per page; after: the next of the page before")
                    .param().name("type").type(RestParamType.query).required(false).dataType("string")
                        .description("only events of this type").endParam()
                    .param().name("limit").type(RestParamType.query).required(false).dataType("integer").defaultValue("50")
                        .description("events per page, 1 to 1000").endParam()
                    .param().name("after").type(RestParamType.query).required(false).dataType("string")
                        .description("the \"next\" of the page before").endParam()
                    .produces(JSON).to("direct:api.list-events")
                .get("/events/{id}").description("an event as the coordinator received it: execution_id names the execution it started"
                        + " (null when no workflow starts on its type); 404 until it has been taken off agent.events;"
                        + " dead_letters: the events of this event_id it refused")
                    .produces(JSON).to("direct:api.get-event")
                .get("/workflows").description("the loaded workflow definitions, and the other versions kept for the executions that started on them")
                    .produces(JSON).to("direct:api.list-workflows")
                .post("/workflows/reload").description("loads the workflow folder again: new workflows start on their triggers, a"
                        + " workflow given a new version starts its new executions on it (those in flight end on theirs), one whose"
                        + " file is gone starts nothing more; 422 naming every problem, and nothing changes, when a file is wrong; once"
                        + " reloaded, the other coordinators on the broker and database reload theirs (other_coordinators: their answers)")
                    .produces(JSON).to("direct:api.reload-workflows")
                .post("/messages").description("sends an agent-to-agent message (spec: sendAgentMessage); answers 202 with its message_id")
                    .consumes(JSON).produces(JSON).to("direct:api.post-message")
                .get("/messages/{id}").description("an agent message: status (pending, delivered, responded, timed_out) and response")
                    .produces(JSON).to("direct:api.get-message")
                .get("/locks").description("current resource lock holders")
                    .produces(JSON).to("direct:api.list-locks")
                .delete("/locks/{lock_id}").description("frees a lock by hand (recorded in lock_events): one kept for an attempt a cancel"
                        + " cut off whose agent is known gone, or left by a holder that no longer runs; not one whose step runs (409)")
                    .produces(JSON).to("direct:api.release-lock")
                .get("/agents").description("every agent the loaded workflows name: the workflows that name it, its attempts"
                        + " in flight, the requests waiting on its queue and the consumers listening there (unattended: requests"
                        + " wait and no agent listens)")
                    .produces(JSON).to("direct:api.list-agents")
                .get("/dead-letters").description("the events on agent.events.DLQ, oldest first, each with why it was refused;"
                        + " read, not taken off the queue")
                    .param().name("event_id").type(RestParamType.query).required(false).dataType("string")
                        .description("only the dead letters of this event_id").endParam()
                    .param().name("limit").type(RestParamType.query).required(false).dataType("integer").defaultValue("50")
                        .description("dead letters per answer, 1 to 1000").endParam()
                    .param().name("after").type(RestParamType.query).required(false).dataType("string")
                        .description("the \"next\" of the answer before").endParam()
                    .produces(JSON).to("direct:api.list-dead-letters")
                .get("/dead-letters/{id}").description("one dead letter (its message_id), with its whole body")
                    .produces(JSON).to("direct:api.get-dead-letter")
                .post("/dead-letters/{id}/retry").description("puts a dead letter (its message_id) back on agent.events as it came,"
                        + " for an event refused by a fault fixed since; 409 for one that would be refused again as it is")
                    .produces(JSON).to("direct:api.retry-dead-letter")
                .delete("/dead-letters/{id}").description("discards a dead letter (its message_id)")
                    .produces(JSON).to("direct:api.discard-dead-letter");
        OpenApiOperations.describe(getRestCollection());

        from("direct:api.get-execution").routeId("api.get-execution")
                .setHeader(Headers.EXECUTION_ID, header("id"))
                .process(ApiRoutes::withOutputsOrNot)
                .to(Sql.apiRow("get-execution"))
                .choice()
                    .when(body().isNull()).process(e -> respond(e, 404, ExecutionViews.error("no execution " + e.getMessage().getHeader("id"))))
                    .otherwise()
                        .setProperty("execution", body())
                        .to(Sql.apiRows("get-execution-steps"))
                        .setProperty("steps", body())
                        .to(Sql.apiRows("get-execution-attempts"))
                        .setProperty("attempts", body())
                        .to(Sql.apiRows("get-execution-ignored-replies"))
                        .process(e -> respond(e, 200, ExecutionViews.execution(e.getProperty("execution", Map.class),
                                e.getProperty("steps", List.class), e.getProperty("attempts", List.class), e.getMessage().getBody(List.class),
                                definitionOf(e.getProperty("execution", Map.class)), e.getMessage().getHeader(WITH_OUTPUTS, Boolean.class))))
                .end();

        from("direct:api.list-executions").routeId("api.list-executions")
                .process(ApiRoutes::listFilters)
                .to(Sql.apiRows("list-executions"))
                .process(e -> respond(e, 200, ExecutionViews.page("executions", e.getMessage().getBody(List.class), e.getMessage().getHeader("limit", Integer.class),
                        e.getProperty(LISTING_WARNING, String.class))));

        from("direct:api.list-events").routeId("api.list-events")
                .process(ApiRoutes::eventFilters)
                .to(Sql.apiRows("list-events"))
                .process(e -> respond(e, 200, ExecutionViews.page("events", e.getMessage().getBody(List.class),
                        e.getMessage().getHeader("limit", Integer.class), e.getProperty(LISTING_WARNING, String.class))));

        from("direct:api.post-event").routeId("api.post-event")
                .process(this::refuseWhileBrokerUnreachable)
                .process(this::stampEvent)
                .to("jms:queue:" + Endpoints.EVENTS_QUEUE + "?exchangePattern=InOnly")
                .process(e -> {
                    ObjectNode accepted = Json.object().put("event_id", e.getProperty("eventId", String.class));
                    if (e.getProperty("eventWarning") != null) {
                        accepted.put("warning", e.getProperty("eventWarning", String.class));
                    }
                    respond(e, 202, Json.write(accepted));
                });

        from("direct:api.post-step-reply").routeId("api.post-step-reply")
                .process(this::refuseWhileBrokerUnreachable)
                .process(this::checkStepReply)
                .setHeader(Headers.EXECUTION_ID, header("id"))
                .setHeader(Headers.STEP_ID, header("step"))
                .setBody(constant(null))
                .to(Sql.apiRow("find-step-in-flight"))
                .choice()
                    .when(body().isNull())
                        .process(e -> respond(e, 404, ExecutionViews.error("no execution " + e.getMessage().getHeader("id"))))
                    .when(e -> stepRow(e).get("row_id") == null)
                        .process(e -> respond(e, 404, ExecutionViews.error("execution " + e.getMessage().getHeader("id")
                                + " has no step " + e.getMessage().getHeader("step"))))
                    .when(e -> answeredKind(e) == null)
                        .process(e -> respond(e, 409, ExecutionViews.error("step " + e.getMessage().getHeader("step") + " of execution "
                                + e.getMessage().getHeader("id") + " is " + stepRow(e).get("status") + compensationState(stepRow(e))
                                + ", not waiting for a reply")))
                    .otherwise()
                        .process(ApiRoutes::addressStepReply)
                        .to("jms:queue:" + replyQueue + "?exchangePattern=InOnly")
                        // answered here: its request, when no agent has taken it yet, is not for an agent to do any more
                        .filter(exchangeProperty(ANSWERED_REQUEST).isNotNull())
                            .bean(QueuedRequests.REGISTRY_NAME, "withdraw(${exchangeProperty." + ANSWERED_REQUEST + "})")
                        .end()
                        .process(e -> respond(e, 202, e.getProperty("accepted", String.class)))
                .end();

        from("direct:api.get-event").routeId("api.get-event")
                .setHeader("eventId", header("id"))
                .to(Sql.apiRow("get-agent-event"))
                .process(DeadLetterAnswers::eventWithItsDeadLetters);

        from("direct:api.list-dead-letters").routeId("api.list-dead-letters")
                .process(DeadLetterAnswers::list);

        from("direct:api.get-dead-letter").routeId("api.get-dead-letter")
                .process(DeadLetterAnswers::one);

        from("direct:api.retry-dead-letter").routeId("api.retry-dead-letter")
                // an event whose event_id another event has taken since would be refused again: looked up first
                .process(DeadLetterAnswers::eventOfTheDeadLetter)
                .filter(header(Headers.EVENT_KEY).isNotNull())
                    .to(Sql.apiRow("find-event"))
                    .process(DeadLetterAnswers::noteATakenEventId)
                .end()
                .process(e -> DeadLetterAnswers.take(e, true));

        from("direct:api.discard-dead-letter").routeId("api.discard-dead-letter")
                .process(e -> DeadLetterAnswers.take(e, false));

        from("direct:api.list-workflows").routeId("api.list-workflows")
                .to(Sql.apiRows("executions-in-flight-by-version"))
                .process(e -> respond(e, 200, workflowsView(e.getMessage().getBody(List.class))));
        from("direct:api.reload-workflows").routeId("api.reload-workflows")
                .process(ApiRoutes::reloadWorkflows);

        from("direct:api.post-message").routeId("api.post-message")
                .process(this::refuseWhileBrokerUnreachable)
                .process(e -> Utf8Body.decode(e.getMessage()))
                .process(MessageRoutes::acceptFromHttp)
                .setProperty("messageId", header("messageId"))
                .setProperty("messageWarning", header(AgentMessageCodec.IGNORED_FIELDS))
                .to(MessageRoutes.ACCEPT)
                .process(e -> {
                    ObjectNode accepted = Json.object().put("message_id", e.getProperty("messageId", String.class));
                    if (e.getProperty("messageWarning") instanceof IgnoredFields.Ignored ignored) {
                        accepted.put("warning", ignored.text());
                    }
                    respond(e, 202, Json.write(accepted));
                });

        from("direct:api.get-message").routeId("api.get-message")
                .setHeader("messageId", header("id"))
                .to(Sql.apiRow("get-agent-message"))
                .choice()
                    .when(body().isNull()).process(e -> respond(e, 404, ExecutionViews.error("no message " + e.getMessage().getHeader("id"))))
                    .otherwise().process(e -> respond(e, 200, Json.write(ExecutionViews.fromDatabase(e.getMessage().getBody(String.class)))))
                .end();

        from("direct:api.list-agents").routeId("api.list-agents")
                .to(Sql.apiRows("agent-attempts-running"))
                .process(this::listAgents);

        from("direct:api.list-locks").routeId("api.list-locks")
                .to(Sql.apiRow("list-locks"))
                .process(e -> respond(e, 200, Json.write(Json.object().set("locks", ExecutionViews.fromDatabase(e.getMessage().getBody(String.class))))));

        from("direct:api.release-lock").routeId("api.release-lock")
                .setHeader("lockId", header("lock_id"))
                .to(Sql.apiRow("release-lock-by-hand"))
                .choice()
                    .when(body().isNull())
                        .process(e -> respond(e, 404, ExecutionViews.error("no lock " + e.getMessage().getHeader("lock_id")
                                + " is held (GET /api/locks lists those that are)")))
                    .when(simple("${body[released]} == false"))
                        .process(e -> respond(e, 409, ExecutionViews.error("lock " + e.getMessage().getHeader("lock_id") + " is held by step "
                                + e.getMessage().getBody(Map.class).get("step_id") + " of execution " + e.getMessage().getBody(Map.class).get("execution_id")
                                + ", which runs: its agent works on the resource under it; cancel the execution first")))
                    .otherwise()
                        .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "lock ${body[resource_type]}/${body[resource_id]}"
                                + " of step ${body[step_id]} of execution ${body[execution_id]} released by hand (DELETE /api/locks)")
                        .process(e -> {
                            Map<?, ?> row = e.getMessage().getBody(Map.class);
                            respond(e, 200, Json.write(Json.object().put("lock_id", (String) row.get("lock_id"))
                                    .put("resource_type", (String) row.get("resource_type")).put("resource_id", (String) row.get("resource_id"))
                                    .put("execution_id", (String) row.get("execution_id")).put("step_id", (String) row.get("step_id"))
                                    .put("released", true)));
                        })
                .end();

        // the REST DSL inlines the route it names into its own (camel.rest.inlineRoutes): the cancel a bulk cancel
        // calls for each execution is a route of its own, which this one calls too
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
                        .setHeader(WITH_OUTPUTS, constant(true))   // get-execution.sql reads the payload and result only then
                        .to(Sql.apiRow("get-execution"))
                        .process(ApiRoutes::notCancelled)
                    .otherwise()
                        // the requests no agent has taken yet are taken back (best effort, see QueuedRequests)
                        .bean(QueuedRequests.REGISTRY_NAME, "withdraw(${body})")
                        .process(this::routeToItsVersion)
                        .setHeader(Headers.STATUS, simple("${body[status]}"))
                        .setProperty("status", simple("${body[status]}"))
                        .setHeader("failures", simple("${body[failures]}"))
                        // who stopped it, and when: the line an operator looks for (a compensation logs its own after it)
                        .log(LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "execution ${header.executionId} of ${header.workflowId} "
                                + "cancelled by request (${body[settled_steps]} unsettled steps stopped or skipped)")
                        .doTry()
                            // the broker known to be down: no send that waits through the reconnection (40 s and more
                            // before the answer, a client's timeout run out on a committed cancel); the sweeps finish it
                            .process(this::refuseWhileBrokerUnreachable)
                            .to(Endpoints.AFTER_SETTLED)
                        .doCatch(Exception.class)
                            // the cancel is committed: what follows it is not the client's to redo. (A failure in
                            // the engine's routes never reaches this builder's onException: their error handler
                            // deals with it first, and Camel then leaves it alone in the caller; doCatch sees it.)
                            .log(LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "execution ${exchangeProperty.executionId} is "
                                    + "${exchangeProperty.status}, but what follows did not run: ${exchangeProperty.CamelExceptionCaught} "
                                    + "(a sweep finishes it: the compensation, or the outcome event)")
                        .end()
                        .process(e -> respond(e, 200, Json.write(Map.of("execution_id", e.getProperty("executionId", String.class),
                                "status", e.getProperty("status", String.class)))))
                .end();

        from("direct:api.cancel-executions").routeId("api.cancel-executions")
                .process(BulkCancel::readRequest)
                .filter(header(BulkCancel.BY_WORKFLOW).isNotNull())
                    .to(Sql.apiRows("find-cancellable-executions"))
                    .process(BulkCancel::keepPage)
                    .process(e -> BulkCancel.warnOfAnUnknownWorkflow(e, catalog.all().stream().map(WorkflowDefinition::id).toList()))
                .end()
                .split(header(BulkCancel.EXECUTION_IDS), new BulkCancel.Outcomes())
                    .setProperty(BulkCancel.CANCELLING, body())
                    .setHeader("id", body())
                    .to("direct:api.cancel-execution")
                .end()
                .process(BulkCancel::respond);

        from("direct:api.retry-execution").routeId("api.retry-execution")
                .process(e -> keepOnlyHeaders(e, "id"))
                .setHeader(Headers.EXECUTION_ID, header("id"))
                .setHeader(WITH_OUTPUTS, constant(true))   // get-execution.sql reads the payload and result only then
                .to(Sql.apiRow("get-execution"))
                .choice()
                    .when(body().isNull()).process(e -> respond(e, 404, ExecutionViews.error("no execution " + e.getMessage().getHeader("id"))))
                    .otherwise()
                        .process(this::prepareRetry)
                        .to("direct:api.retry-steps")
                .end();

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
                                .setHeader(WITH_OUTPUTS, constant(true))   // get-execution.sql reads the payload and result only then
                                .to(Sql.apiRow("get-execution"))
                                .process(ApiRoutes::notRetried)
                            .otherwise()
                                .setProperty("resetSteps", body())
                                .process(ApiRoutes::listRetriedSteps)
                                .log(LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "execution ${header.executionId} of ${header.workflowId} "
                                        + "retried by request (was ${exchangeProperty." + RETRIED_STATUS + "}): ${exchangeProperty."
                                        + RETRIED_STEPS + "} run again")
                                .doTry()
                                    .process(this::refuseWhileBrokerUnreachable)   // as the cancel's, above
                                    .split(body())
                                        .setHeader(Headers.STEP_ID, simple("${body[step_id]}"))
                                        .setBody(constant(null))
                                        .log("execution ${header.executionId}: step ${header.stepId} will run again")
                                        .toD("direct:wf.${header.routeKey}.${header.stepId}")
                                    .end()
                                .endDoTry()
                                .doCatch(Exception.class)
                                    // the reset is committed: a second retry would only be refused (not failed)
                                    .log(LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "execution ${header.executionId}: its reset "
                                            + "steps did not all start: ${exchangeProperty.CamelExceptionCaught} (the stalled-execution sweep starts them)")
                                .end()
                                .process(ApiRoutes::retried)
                        .end()
                .end();
    }

    /**
     * POST /api/workflows/reload: what changed, or every problem of the folder (then nothing changed); once this
     * coordinator reloaded, the other coordinators on its broker and database reload theirs too ({@link ReloadNotices}).
     */
    private static void reloadWorkflows(Exchange exchange) {
        WorkflowReload reload = exchange.getContext().getRegistry().findSingleByType(WorkflowReload.class);
        ReloadNotices others = exchange.getContext().getRegistry().findSingleByType(ReloadNotices.class);
        if (reload == null || others == null) {
            respond(exchange, 503, Json.object().put("error", "this coordinator is still starting: reload its workflows once it is ready").toString());
            return;
        }
        WorkflowReload.Answer answer = reload.reloadAnswering();
        if (answer.reloaded()) {
            answer.body().set("other_coordinators", others.tellOthers());
        }
        respond(exchange, answer.status(), answer.body().toString());
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
        if (brokerUnreachable.getAsBoolean()) {   // its requests would wait for the reconnection: 40 s and more
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

    /** {@code inFlight}: executions running or compensating, by workflow and version (executions-in-flight-by-version.sql). */
    private String workflowsView(List<Map<String, Object>> inFlight) {
        Map<String, Object> view = new java.util.LinkedHashMap<>();
        // each with the version it runs as, also when its file names none (1)
        view.put("workflows", catalog.all().stream().map(workflow -> {
            ObjectNode definition = Json.MAPPER.valueToTree(workflow);
            return definition.has("version") ? definition : definition.put("version", workflow.versionOrDefault());
        }).toList());
        view.put("kept_versions", keptVersions(inFlight));
        return Json.write(view);
    }

    /** The other versions this coordinator runs for executions that started on them (see WorkflowVersions). */
    /**
     * The versions kept for the executions on them, each with how many still run or compensate: one with none goes at
     * the next retirement sweeps (coordinator.versions.retire-period-ms).
     */
    private List<ObjectNode> keptVersions(List<Map<String, Object>> inFlight) {
        Map<String, Long> running = new java.util.HashMap<>();
        inFlight.forEach(row -> running.put(row.get("workflow_id") + "@" + row.get("workflow_version"), ((Number) row.get("in_flight")).longValue()));
        return catalog.retained().stream()
                .sorted(java.util.Comparator.comparing(WorkflowDefinition::id))
                .map(kept -> {
                    String workflowId = WorkflowCatalog.workflowIdOf(kept.id());
                    return Json.object().put("workflow_id", workflowId).put("version", kept.versionOrDefault())
                            .put("routes", "wf." + kept.id() + ".*")
                            .put("executions_in_flight", running.getOrDefault(workflowId + "@" + kept.versionOrDefault(), 0L));
                })
                .toList();
    }

    /** Sets the workflow id and version of the execution row in the body, and the routes of that version (when they can be had). */
    @SuppressWarnings("unchecked")
    private void routeToItsVersion(Exchange exchange) {
        Message in = exchange.getMessage();
        Map<String, Object> execution = in.getBody(Map.class);
        in.setHeader(Headers.WORKFLOW_ID, execution.get("workflow_id"));
        in.setHeader(Headers.WORKFLOW_VERSION, ((Number) execution.get("workflow_version")).intValue());
        RouteKeys.routeTo(in, catalog);
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
        routeToItsVersion(exchange);
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
        respond(exchange, 202, Json.write(view));
    }

    private static void listFilters(Exchange exchange) {
        Message in = exchange.getMessage();
        unknownParameters(exchange, LISTING_PARAMETERS).ifPresent(warning -> exchange.setProperty(LISTING_WARNING, warning));
        in.setHeader("workflowFilter", blankToNull(in.getHeader("workflow_id", String.class)));
        String status = blankToNull(in.getHeader("status", String.class));
        if (status != null && !EXECUTION_STATUSES.contains(status)) {
            // a misspelt status (complete, error) would list nothing, as if no execution had it
            throw new IllegalArgumentException("status must be one of " + String.join(", ", EXECUTION_STATUSES)
                    + ", got \"" + status + "\"");
        }
        in.setHeader("statusFilter", status);
        pageOf(in, "executions");
    }

    /** Header of GET /api/executions/{id}: whether the answer carries payloads and outputs ({@code ?outputs=false}: not). */
    static final String WITH_OUTPUTS = "withOutputs";

    private static void withOutputsOrNot(Exchange exchange) {
        Message in = exchange.getMessage();
        String outputs = blankToNull(in.getHeader("outputs", String.class));
        if (outputs != null && !outputs.equals("true") && !outputs.equals("false")) {
            throw new IllegalArgumentException("outputs must be true or false, got \"" + outputs + "\"");
        }
        in.setHeader(WITH_OUTPUTS, !"false".equals(outputs));
    }

    /** GET /api/events: a type (as events carry it), and the page. */
    private static void eventFilters(Exchange exchange) {
        Message in = exchange.getMessage();
        unknownParameters(exchange, EVENT_LISTING_PARAMETERS).ifPresent(warning -> exchange.setProperty(LISTING_WARNING, warning));
        in.setHeader("typeFilter", blankToNull(in.getHeader("type", String.class)));
        pageOf(in, "events");
    }

    /** A listing's page: its {@code limit}, and where the page before ended ({@code after}). */
    private static void pageOf(Message in, String listing) {
        in.setHeader("limit", limit(in));
        String after = blankToNull(in.getHeader("after", String.class));
        ListingCursor cursor = after == null ? null : ListingCursor.read(listing, after);
        in.setHeader("afterMicros", cursor == null ? null : cursor.afterMicros());
        in.setHeader("afterId", cursor == null ? null : cursor.afterId());
    }

    /** A listing's {@code limit}: 1 to 1000, 50 when it is not given. */
    static int limit(Message in) {
        // an empty limit (?limit=, as the README's template shows it) is the default, as the other filters' are
        String limit = java.util.Objects.requireNonNullElse(blankToNull(in.getHeader("limit", String.class)), "50");
        int parsed;
        try {
            parsed = Integer.parseInt(limit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(limit.trim().matches("[+-]?\\d+") ? "limit must be between 1 and 1000"
                    : "limit must be a number, got \"" + limit + "\"");
        }
        if (parsed < 1 || parsed > 1000) {
            throw new IllegalArgumentException("limit must be between 1 and 1000");
        }
        return parsed;
    }

    /** The listing's query parameters: a misspelt one (?wf=) lists every execution, unfiltered, so it is named. */
    private static final List<String> LISTING_PARAMETERS = List.of("workflow_id", "status", "limit", "after");
    private static final List<String> EVENT_LISTING_PARAMETERS = List.of("type", "limit", "after");
    private static final String LISTING_WARNING = "listingWarning";

    /**
     * The query parameters a listing does not take, named for a "warning" of its answer: still answered
     * (a cache-buster such as {@code ?_=…} is no mistake), but a misspelt filter is not left unsaid.
     */
    static java.util.Optional<String> unknownParameters(Exchange exchange, List<String> known) {
        String query = exchange.getMessage().getHeader(Exchange.HTTP_QUERY, String.class);
        if (query == null || query.isEmpty()) {
            return java.util.Optional.empty();
        }
        java.util.Set<String> unknown = new java.util.LinkedHashSet<>();
        for (String pair : query.split("&")) {
            String name = pair.split("=", 2)[0];
            try {
                name = java.net.URLDecoder.decode(name, java.nio.charset.StandardCharsets.UTF_8);
            } catch (IllegalArgumentException undecodable) {
                // named as it came
            }
            if (!name.isEmpty() && !known.contains(name)) {
                unknown.add(name);
            }
        }
        if (unknown.isEmpty()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("query parameter" + (unknown.size() == 1 ? " " : "s ")
                + unknown.stream().map(n -> '"' + n + '"').collect(java.util.stream.Collectors.joining(", "))
                + " ignored: the listing takes " + String.join(", ", known));
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

    /** The filters and paging the routes read from the query string, and from nowhere else. */
    private static final List<String> QUERY_PARAMETERS = List.of("workflow_id", "status", "limit", "after", "type", "event_id");

    /**
     * platform-http gives a request's headers and its query parameters alike as the message's headers: a request
     * header {@code status: failed} (a proxy's, a client library's) filtered a listing as {@code ?status=failed} would,
     * and a parameter given twice in the query reached a route as a list only for some names. These are read from the
     * query string itself.
     */
    static void queryParametersFromTheQueryOnly(Exchange exchange) {
        Message in = exchange.getMessage();
        QUERY_PARAMETERS.forEach(in::removeHeader);
        String query = in.getHeader(Exchange.HTTP_QUERY, String.class);
        if (query == null || query.isEmpty()) {
            return;
        }
        for (String pair : query.split("&")) {
            String[] nameAndValue = pair.split("=", 2);
            String name = decodeQueryPart(nameAndValue[0]);
            if (!QUERY_PARAMETERS.contains(name)) {
                continue;
            }
            if (in.getHeader(name) != null) {
                throw new IllegalArgumentException("parameter " + name + " is given more than once (in the path, the query"
                        + " or a header): give it once");
            }
            in.setHeader(name, nameAndValue.length > 1 ? decodeQueryPart(nameAndValue[1]) : "");
        }
    }

    private static String decodeQueryPart(String part) {
        try {
            return java.net.URLDecoder.decode(part, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException badEscape) {
            throw new IllegalArgumentException("query parameter \"" + part + "\" is not percent-encoded correctly: "
                    + badEscape.getMessage());
        }
    }

    private static void refuseNulInParameters(Exchange exchange) {
        exchange.getMessage().getHeaders().forEach((name, value) -> {
            if (value instanceof String text && text.indexOf('\u0000') >= 0) {
                throw new IllegalArgumentException("parameter " + name + " contains the character U+0000 (\\u0000),"
                        + " which PostgreSQL cannot store");
            }
            // platform-http gathers a name given twice (path and query, or a header of that name) into a list
            if (value instanceof java.util.Collection<?> && SINGLE_VALUED_PARAMETERS.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                throw new IllegalArgumentException("parameter " + name + " is given more than once (in the path, the query"
                        + " or a header): give it once");
            }
        });
    }

    /** The path parameters the routes read as one value each (the query's are read once, queryParametersFromTheQueryOnly). */
    private static final java.util.Set<String> SINGLE_VALUED_PARAMETERS = java.util.Set.of("id", "step");

    /**
     * "no loaded workflow starts on …" for an event type no loaded workflow is triggered by, with the trigger it may
     * stand for: such an event is stored and starts nothing, which is right for an event nobody chains and a typo
     * for one meant to start a workflow (this coordinator's workflows; another release beside it may have others).
     */
    private java.util.Optional<String> startsNothing(String type) {
        if (catalog.byTrigger(type).isPresent()) {
            return java.util.Optional.empty();
        }
        Map<String, String> triggers = new java.util.HashMap<>();
        catalog.all().forEach(workflow -> triggers.put(workflow.trigger().toLowerCase(java.util.Locale.ROOT), workflow.trigger()));
        String closest = dev.agentcoordinator.definition.Spelling.closest(type, triggers.keySet(), 2).map(triggers::get)
                .map(trigger -> ": did you mean \"" + trigger + "\"?").orElse("");
        return java.util.Optional.of("no loaded workflow starts on \"" + type + "\": the event is stored and starts nothing" + closest);
    }

    /** Checks the event and gives it an event_id when it has none, so the caller can follow it. */
    private void stampEvent(Exchange exchange) {
        Message in = exchange.getMessage();
        Utf8Body.decode(in);
        JsonNode event = EventDecoder.parse(in.getBody(String.class), maxTokens);
        List<String> warnings = new java.util.ArrayList<>();
        // before the stamp, so that an "eventId" is told to stand for the event_id the event lacked
        IgnoredFields.EVENT.describe(event).ifPresent(ignored -> warnings.add(ignored.text()));
        startsNothing(event.get("type").asText()).ifPresent(warnings::add);
        if (!warnings.isEmpty()) {
            exchange.setProperty("eventWarning", String.join("; ", warnings));
        }
        ObjectNode stamped = (ObjectNode) event;
        if (!stamped.hasNonNull("event_id")) {
            stamped.put("event_id", UUID.randomUUID().toString());
        }
        exchange.setProperty("eventId", stamped.get("event_id").asText());
        in.removeHeaders("*");
        in.setBody(Json.write(stamped));
    }

    /**
     * The body of a posted step reply, checked as the reply route will read it: a JSON object whose
     * {@code status} is ok, error or running (a heartbeat).
     */
    private void checkStepReply(Exchange exchange) {
        Utf8Body.decode(exchange.getMessage());
        JsonNode reply = stepReply(exchange.getMessage().getBody(String.class), maxTokens);
        exchange.setProperty("stepReply", Json.write(reply));
        StepOutcome.ignoredFieldsOf(reply).ifPresent(ignored -> exchange.setProperty("replyWarning", ignored.text()));
    }

    private static JsonNode stepReply(String body, int maxTokens) {
        JsonNode reply;
        try {
            reply = Json.parseStrict(body == null || body.isBlank() ? "null" : body, maxTokens);
        } catch (Json.TooManyTokensException e) {
            throw new Json.TooManyTokensException("the step reply", maxTokens);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the step reply is " + e.getMessage());   // "not valid JSON: <what, where>"
        }
        String unstorable = Json.unstorable(reply);
        if (unstorable != null) {
            throw new IllegalArgumentException("the step reply " + unstorable);
        }
        String status = reply.path("status").asText("");
        if (!reply.isObject() || !StepOutcome.REPLY_STATUSES.contains(status)) {
            String found = !reply.isObject() ? "got " + reply.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)
                    : !reply.has("status") ? "it has no \"status\"" : "its \"status\" is " + reply.get("status");
            throw new IllegalArgumentException("a step reply is a JSON object with \"status\": \"ok\" (and \"output\"),"
                    + " \"error\" (and \"error\", \"retryable\") or \"running\" (a heartbeat), as an agent sends it: " + found
                    + (reply.isObject() && !reply.has("status") ? IgnoredFields.REPLY.standInFor(reply, "status") : ""));
        }
        if ("error".equals(status) && StepOutcome.retryableOf(reply) == null) {
            throw new IllegalArgumentException("\"retryable\" is true or false (left out: true), got " + reply.get("retryable"));
        }
        return reply;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> stepRow(Exchange exchange) {
        return exchange.getMessage().getBody(Map.class);
    }

    /** The definition an execution runs on, when this coordinator has it (its steps' dependencies, for the view). */
    private WorkflowDefinition definitionOf(Map<String, Object> execution) {
        Object version = execution.get("workflow_version");
        return catalog.forVersion((String) execution.get("workflow_id"), version == null ? null : ((Number) version).intValue()).orElse(null);
    }

    /**
     * What a reply posted for a step answers: the step's attempt in flight ("step"), else, once the step is being
     * undone, its compensation's ("compensation": a person doing the undo, as for an approval); null when neither
     * waits for a reply.
     */
    private static String answeredKind(Exchange exchange) {
        Map<String, Object> step = stepRow(exchange);
        if ("running".equals(step.get("status"))
                // a cancel cut the attempt off, and its step's compensation waits for its reply (V47): a person's answer decides
                || ("failed".equals(step.get("status")) && Boolean.TRUE.equals(step.get("compensation_held")))) {
            return "step";
        }
        return "running".equals(step.get("compensation_status")) ? "compensation" : null;
    }

    /** The compensation of a step that waits for no reply, for the 409: " and its compensation is …", or nothing. */
    private static String compensationState(Map<String, Object> step) {
        if (step.get("compensation_status") == null) {
            return "";
        }
        return " and its compensation is " + (Boolean.TRUE.equals(step.get("compensation_retrying"))
                ? "waiting for its next attempt" : step.get("compensation_status"));
    }

    /**
     * The reply goes to the reply queue as the agent's would: correlated with the attempt in flight, the step's or
     * its compensation's ({@link #answeredKind}).
     */
    private static void addressStepReply(Exchange exchange) {
        Message in = exchange.getMessage();
        Map<String, Object> step = stepRow(exchange);
        boolean compensation = "compensation".equals(answeredKind(exchange));
        String rowId = (String) step.get(compensation ? "compensation_row_id" : "row_id");
        int attempt = ((Number) step.get(compensation ? "compensation_attempt" : "attempt")).intValue();
        String stepId = in.getHeader(Headers.STEP_ID, String.class);
        ObjectNode accepted = Json.object().put("execution_id", (String) step.get("execution_id")).put("step_id", stepId);
        if (compensation) {
            accepted.put("kind", "compensation");
        }
        accepted.put("attempt", attempt)
                // which run of a loop's step it settles (a compensation's request says 0 too)
                .put("iteration", compensation ? 0 : ((Number) step.get("iteration")).intValue());
        if (exchange.getProperty("replyWarning") != null) {
            accepted.put("warning", exchange.getProperty("replyWarning", String.class));
        }
        exchange.setProperty("accepted", Json.write(accepted));
        in.removeHeaders("*");
        // the correlation id the agent's request had: the reply (a heartbeat too) is judged and counted as the
        // agent's, with its workflow and step (a plain <row>:<attempt> counted heartbeats under "unknown");
        // a compensation's request had <row>:<attempt>
        in.setHeader(Headers.CORRELATION_ID, compensation ? StepRequests.correlationId(rowId, attempt)
                : StepRequests.correlationId(rowId, attempt, (String) step.get("workflow_id"),
                        ((Number) step.get("workflow_version")).intValue(), stepId, ((Number) step.get("max_attempts")).intValue()));
        in.setBody(exchange.getProperty("stepReply", String.class));
        if (!StepOutcome.isHeartbeat(in.getBody(String.class))) {
            exchange.setProperty(ANSWERED_REQUEST, Map.of("workflow_id", step.get("workflow_id"),
                    "workflow_version", step.get("workflow_version"), "execution_id", step.get("execution_id"),
                    "kind", compensation ? "compensation" : "step", "step_id", stepId, "request", rowId + ":" + attempt));
        }
    }

    /**
     * Drops every header of the HTTP request but the named path parameters, and its body. The platform-http
     * consumer copies each query parameter and request header into a Camel header, and the routes a cancel
     * or a retry hands over to read headers of the engine's own names (progress, requestContext,
     * causeMessageId…): {@code ?progress=…} was pasted into the step requests sent to agents. A form body
     * becomes a Map body, where camel-sql looks for parameters before the headers: {@code -d executionId=B}
     * cancelled B.
     */
    private static void keepOnlyHeaders(Exchange exchange, String... names) {
        exchange.getMessage().setBody(null);
        Map<String, Object> headers = exchange.getMessage().getHeaders();
        Map<String, Object> kept = new java.util.HashMap<>();
        for (String name : names) {
            if (headers.get(name) != null) {
                kept.put(name, headers.get(name));
            }
        }
        headers.clear();
        headers.putAll(kept);
    }

    static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }

    static void respond(Exchange exchange, int status, String json) {
        Message in = exchange.getMessage();
        in.removeHeaders("*");
        in.setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        in.setHeader(Exchange.CONTENT_TYPE, JSON);
        in.setBody(json);
    }
}
