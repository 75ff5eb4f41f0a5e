package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowCatalog;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.PredicateBuilder;
import org.apache.camel.builder.RouteBuilder;

import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.Headers.*;

/**
 * Time-driven transitions, read from and written to PostgreSQL so that any instance can do them and
 * none is lost in a crash: attempts past their deadline, retries whose backoff has elapsed,
 * executions past their whole-execution timeout, executions left with nothing in flight (running or
 * compensating) after a transition whose follow-up did not run. Also publishes outcome events, and
 * sends those left unsent.
 */
public class SupervisorRoutes extends RouteBuilder {
    private final WorkflowCatalog catalog;
    private final String replyQueue;
    private final long periodMs;
    private final ReplyBacklog replyBacklog;
    /** Exchange property of the retry sweep: whether the request is one sent again (its lease ran out or was made due). */
    private static final String RESENT = "resent";
    /** The requests this sweep sends again that the broker refused before (see {@link RepeatedRefusals}). */
    private final RepeatedRefusals refusals = new RepeatedRefusals();

    /**
     * Sweep periods in which no row of an execution changed, and nothing of it was in flight, before
     * it counts as stalled (10 s at the default period): when nothing goes wrong, what follows a
     * transition runs within milliseconds of it.
     */
    static final int STALLED_AFTER_PERIODS = 50;
    /** How often the reply-backlog holds are shared (ReplyBacklog): well within its QUIET_MS, so a coordinator starting knows the others' before its first sweep. */
    static final long SHARE_HOLD_MS = 500;

    /** The workflows' facts cache: an execution that stopped running by a timeout or a cancel is forgotten there. */
    private final ExecutionFactsCache facts;

    public SupervisorRoutes(WorkflowCatalog catalog, String replyQueue, long periodMs, ReplyBacklog replyBacklog,
                            ExecutionFactsCache facts) {
        this.facts = facts;
        this.catalog = catalog;
        this.replyQueue = replyQueue;
        this.periodMs = periodMs;
        this.replyBacklog = replyBacklog;
    }

    @Override
    public void configure() {
        replyBacklog.shareWithOtherCoordinators();
        from("timer:coordinator-reply-holds?delay=" + SHARE_HOLD_MS + "&period=" + SHARE_HOLD_MS)
                .routeId("coordinator.reply-hold-sharing")
                .routeDescription("shares this coordinator's reply-backlog hold with the others, and reads theirs")
                .process(exchange -> {
                    java.util.OptionalLong own = replyBacklog.shareOwnHold();
                    exchange.getMessage().setHeader("publish", own.isPresent());
                    exchange.getMessage().setHeader(HOLD_MS, own.orElse(0));
                })
                .to(Sql.row("reply-backlog-holds"))
                // one column: camel-sql's SelectOne gives its value
                .process(exchange -> replyBacklog.othersHold(exchange.getMessage().getBody(Long.class)));

        from(Endpoints.sweep(periodMs, 4))
                .routeId("coordinator.attempt-timeouts")
                .routeDescription("attempts past their deadline retry later or fail")
                .process(this::holdForReplyBacklog)
                .setHeader(SWEEP_LIMIT, constant(Endpoints.SWEEP_ROWS))
                .to(Sql.rows("expire-attempts"))
                .bean(QueuedRequests.REGISTRY_NAME, "withdrawAll(${body})")
                .split(body())
                    .setProperty("retriesLater", simple("${body[retries_later]}"))
                    .process(this::rowToHeaders)
                    .choice()
                        .when(exchangeProperty("retriesLater").isEqualTo(true))
                            .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "${header.kind} ${header.stepId}: ${header.error};"
                                    + " its next attempt follows its backoff [execution ${header.executionId}]")
                        .otherwise()
                            .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "${header.kind} ${header.stepId}: ${header.error};"
                                    + " no attempts left: it failed [execution ${header.executionId}]")
                    .end()
                    .filter(PredicateBuilder.and(header(STATUS).isEqualTo("failed"), header(ROUTE_KEY).isNotNull()))
                        .choice()
                            .when(header("kind").isEqualTo("compensation"))
                                .toD("direct:wf.${header.routeKey}~compensate")
                            .otherwise()
                                .toD("direct:wf.${header.routeKey}.${header.stepId}.done")
                        .end()
                    .end()
                .end();

        var retried = from(Endpoints.sweep(periodMs, 5))
                .routeId("coordinator.retries")
                .routeDescription("dispatches the next attempt of steps whose backoff has elapsed, and requests not known to have left")
                // the broker cannot be reached: an attempt started now would run its time out before its request left
                .filter(exchange -> !replyBacklog.isBrokerUnreachable())
                .setHeader(SWEEP_LIMIT, constant(Endpoints.SWEEP_ROWS))
                .to(Sql.rows("start-due-retries"))
                .split(body())
                    .setProperty(RESENT, simple("${body[resent]}"))
                    .process(this::rowToHeaders)
                    // still running, unsent and in time when its turn in the batch comes; a first send's deadline
                    // runs from now (the statement's batch may have taken longer than the attempt's timeout)
                    .setHeader(RESENT, exchangeProperty(RESENT))
                    // the broker blocked the last send to this agent's queue: its requests wait for a later run (their
                    // leases stay due), not each hold the sweeps' thread for the send's bound
                    .filter(exchange -> !refusals.blockedRecently(Endpoints.agentQueue(exchange.getMessage().getHeader(AGENT, String.class))))
                    // the check, the send and request-sent.sql in one transaction: the check's row lock is held until
                    // the request has left, so a reply that settles the attempt meanwhile waits for the send rather than
                    // have the agent get a request of an attempt already settled (one sweep thread: one connection)
                    .policy(new OneDatabaseTransaction())
                    .to(Sql.row("request-still-due"))
                    .filter(Sql.returnedRow())
                    .process(exchange -> {
                        Message in = exchange.getMessage();
                        in.setHeader(DEADLINE, in.getBody());   // one column: camel-sql's SelectOne gives its value
                        in.setBody(null);
                    })
                    .setProperty("agentQueue", simple("agent.${header.agent}"))
                    .setProperty(RequestLeases.WHAT, simple("${header.kind} ${header.stepId} (attempt ${header.attempt}) [execution ${header.executionId}]"))
                    .choice()
                        // (one the broker refused before is told by refusals, at most every 30 s)
                        .when(exchange -> Boolean.TRUE.equals(exchange.getProperty(RESENT))
                                && !refusals.refusedBefore(RepeatedRefusals.key(exchange.getMessage().getHeader(ROW_ID),
                                        exchange.getMessage().getHeader(ATTEMPT))))
                            .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "${header.kind} ${header.stepId} (attempt ${header.attempt}): "
                                    + "its request was not known to have left; sent again [execution ${header.executionId}]")
                        .when(exchangeProperty(RESENT).isEqualTo(true))
                            .log(org.apache.camel.LoggingLevel.DEBUG, Endpoints.PROGRESS_LOG, "${exchangeProperty." + RequestLeases.WHAT + "}: sent again")
                        .otherwise()
                            .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "${header.kind} ${header.stepId} retried (attempt ${header.attempt}) [execution ${header.executionId}]")
                    .end()
                    .process(RequestLeases::remember)
                    .process(exchange -> StepRequests.build(exchange, replyQueue));
        // a failed send makes the lease due at once (RequestLeases.send): the next run sends it again, once the broker answers
        RequestLeases.send(retried, sending -> sending.toD("jms:queue:${exchangeProperty.agentQueue}?exchangePattern=InOnly&preserveMessageQos=true"),
                        "coordinator.retries.request-unsent", refusals)
                    .filter(RequestLeases.remembered())   // not after a refusal told by refusals: nothing went
                        .process(RequestLeases::asParameters)
                        .process(this::forgetRefusals)
                        .to(Sql.update("request-sent"))
                    .end();
        retried.end();

        from(Endpoints.sweep(periodMs, 6))
                .routeId("coordinator.execution-timeouts")
                .routeDescription("executions past their timeout end failed")
                .process(this::holdForReplyBacklog)
                .setHeader(SWEEP_LIMIT, constant(Endpoints.SWEEP_ROWS))
                .to(Sql.rows("expire-executions"))
                .bean(QueuedRequests.REGISTRY_NAME, "withdrawAll(${body})")
                .split(body())
                    .process(this::rowToHeaders)
                    .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "execution ${header.executionId} of ${header.workflowId}: ${header.error}")
                    .to(Endpoints.AFTER_SETTLED)
                .end();

        from(Endpoints.sweep(periodMs, 10))
                .routeId("coordinator.held-compensations")
                .routeDescription("compensations held for an attempt a cancel cut off: past its deadline with no reply, nothing of it is undone")
                .process(this::holdForReplyBacklog)
                .setHeader(SWEEP_LIMIT, constant(Endpoints.SWEEP_ROWS))
                .to(Sql.rows("release-expired-holds"))
                .split(body())
                    .process(this::rowToHeaders)
                    .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "step ${header.stepId}: no reply from the attempt"
                            + " the cancel cut off by its deadline; nothing of it to undo [execution ${header.executionId}]")
                    .filter(header(ROUTE_KEY).isNotNull())
                        .toD("direct:wf.${header.routeKey}~compensate")
                    .end()
                .end();

        from(QueuedRequests.RELEASE_WITHDRAWN)
                .routeId("coordinator.release-withdrawn-attempt")
                .routeDescription("an attempt a cancel cut off whose request was taken back before an agent took it: its step's held"
                        + " compensation has nothing to undo, and the locks kept for it are free")
                .setBody(constant(null))
                // as a reply that says nothing was done
                .setHeader("heldDone", constant(false))
                .process(exchange -> {
                    for (String absent : List.of(OUTPUT, ROW_ID)) {
                        Headers.presentEvenIfNull(exchange.getMessage(), absent);
                    }
                })
                .to(Sql.row("release-held-compensation"))
                .choice()
                    .when(Sql.returnedRow())
                        // a compensation skipped frees the locks itself (release_held_compensation); one that runs takes them
                        .process(this::rowToHeaders)
                        .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "step ${header.stepId}: its request was taken"
                                + " back before an agent took it; nothing of it to undo [execution ${header.executionId}]")
                        .filter(header(ROUTE_KEY).isNotNull())
                            .toD("direct:wf.${header.routeKey}~compensate")
                        .end()
                    .endChoice()
                    .otherwise()
                        .to(Sql.update("release-cut-off-locks"))
                        .filter(header(Headers.SQL_UPDATE_COUNT).isGreaterThan(0))
                            .log(org.apache.camel.LoggingLevel.DEBUG, Endpoints.PROGRESS_LOG, "step ${header.stepId}: its request was taken"
                                    + " back before an agent took it; the locks kept for it are free [execution ${header.executionId}]")
                        .end()
                .end();

        stallSweep(7, "coordinator.stalled-compensations", "executions left compensating with nothing in flight compensate on",
                "find-stalled-compensations")
                    .process(this::rowToHeaders)
                    .filter(header(ROUTE_KEY).isNotNull())
                        .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG,
                                "execution ${header.executionId} of ${header.workflowId} was left compensating with nothing in flight; compensating on")
                        .toD("direct:wf.${header.routeKey}~compensate")
                    .end()
                .end();

        stallSweep(8, "coordinator.stalled-executions", "running executions with nothing in flight: their pending steps decide again",
                "find-stalled-executions")
                    .setProperty("pendingSteps", simple("${body[pending_steps]}"))
                    .process(this::rowToHeaders)
                    .filter(header(ROUTE_KEY).isNotNull())
                        .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "execution ${header.executionId} of "
                                + "${header.workflowId} had nothing in flight; its pending steps ${exchangeProperty.pendingSteps} decide again")
                        .process(exchange -> exchange.getMessage().setBody(
                                Json.MAPPER.readValue(exchange.getProperty("pendingSteps", String.class), String[].class)))
                        .choice()
                            .when(simple("${body.length} == 0"))
                                .toD("direct:wf.${header.routeKey}~finish")
                            .otherwise()
                                .split(body())
                                    .setHeader(STEP_ID, body())
                                    .setBody(constant(null))
                                    .toD("direct:wf.${header.routeKey}.${header.stepId}")
                                .end()
                        .end()
                    .end()
                .end();

        from(Endpoints.AFTER_SETTLED)
                .routeId("coordinator.after-settled")
                .routeDescription("an execution that stopped running: compensate it, or publish its outcome")
                // the ~finish route forgets what it settles; a whole-execution timeout or a cancel comes here only, and its
                // facts stayed cached until the cache's budget pushed them out (a soak: 1,087 of them after an hour)
                .process(exchange -> facts.forget(exchange.getMessage().getHeader(EXECUTION_ID, String.class)))
                .choice()
                    .when(PredicateBuilder.and(header(STATUS).isEqualTo("compensating"), header(ROUTE_KEY).isNotNull()))
                        .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "execution ${header.executionId} of ${header.workflowId} compensating")
                        .toD("direct:wf.${header.routeKey}~compensate")
                    .otherwise()
                        .to(Endpoints.PUBLISH_OUTCOME)
                .end();

        OutcomeEvents outcomes = new OutcomeEvents(catalog);
        from(Endpoints.PUBLISH_OUTCOME)
                .routeId("coordinator.publish-outcome")
                .routeDescription("publishes onSuccess / onFailure to agent.events")
                .setProperty("results", header("results"))
                .setProperty("failures", header("failures"))
                .setProperty("outcomeOf", header(EXECUTION_ID))
                .setProperty("outcomeStatus", header(STATUS))
                // a failure after a retry of the execution is a new outcome, told apart by the retry count
                .filter(outcomes::announcesFailure)
                    .to(Sql.row("get-execution-retries"))
                    .setProperty(OutcomeEvents.RETRIES, body())   // SelectOne of one column: the value itself
                .end()
                .bean(outcomes, "build")
                .filter(body().isNotNull())
                    // InOnly: an outcome published on an HTTP request's exchange (a cancel) would otherwise wait
                    // for a reply to the event that never comes (20 s, then fail)
                    .to("jms:queue:" + Endpoints.EVENTS_QUEUE + "?exchangePattern=InOnly")
                    // sent: no longer the outbox's to send (V18)
                    .setHeader(EXECUTION_ID, exchangeProperty("outcomeOf"))
                    .setHeader(STATUS, exchangeProperty("outcomeStatus"))
                    .setBody(constant(null))
                    .to(Sql.update("remove-sent-outcome"))
                .end();

        stallSweep(9, "coordinator.unsent-outcomes", "sends the onSuccess / onFailure events left unsent when their execution settled",
                "find-unsent-outcomes")
                    .setHeader("results", simple("${body[results]}"))
                    .process(this::rowToHeaders)
                    .filter(header(ROUTE_KEY).isNotNull())
                        .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "execution ${header.executionId} of "
                                + "${header.workflowId} is ${header.status} and its outcome event was not sent; sending it")
                        .to(Endpoints.PUBLISH_OUTCOME)
                    .end()
                .end();
    }

    /**
     * A sweep over what a transition left undone, one exchange per row of {@code statement}. It runs
     * every stall period, no more often than what it finds can appear (and the stalled-execution
     * statement looks at every running execution).
     */
    private org.apache.camel.model.SplitDefinition stallSweep(int slot, String routeId, String description, String statement) {
        long stallMs = STALLED_AFTER_PERIODS * periodMs;
        return from(Endpoints.sweep(stallMs, slot))
                .routeId(routeId)
                .routeDescription(description)
                // as the retries': an attempt started while the broker cannot be reached runs its time out before its
                // request leaves (a chaos run: its reply came after its deadline, ignored, and the attempt was spent)
                .filter(exchange -> !replyBacklog.isBrokerUnreachable())
                .setHeader(SWEEP_LIMIT, constant(Endpoints.SWEEP_ROWS))
                .setHeader("stallMs", constant(stallMs))
                .to(Sql.rows(statement))
                .split(body());
    }

    /** After a request went: its attempt's refusals, if any, are forgotten (the body holds the lease's parameters). */
    @SuppressWarnings("unchecked")
    private void forgetRefusals(Exchange exchange) {
        Map<String, Object> lease = exchange.getMessage().getBody(Map.class);
        refusals.sent(RepeatedRefusals.key(lease.get(ROW_ID), lease.get(ATTEMPT)));
    }

    /**
     * Timeouts wait for replies that are queued but not yet taken (see {@link ReplyBacklog}); while
     * the backlog is not known yet, this sweep is skipped.
     */
    private void holdForReplyBacklog(Exchange exchange) {
        replyBacklog.holdSweep(exchange);
    }

    private void rowToHeaders(Exchange exchange) {
        rowToHeaders(exchange, catalog);
    }

    /**
     * Copies a row of a supervisor statement into the headers the step routes and SQL use, with the
     * routes of the workflow version its execution runs on ({@link Headers#ROUTE_KEY}; absent when this
     * coordinator does not have that version).
     */
    @SuppressWarnings("unchecked")
    static void rowToHeaders(Exchange exchange, WorkflowCatalog catalog) {
        Message in = exchange.getMessage();
        Map<String, Object> row = in.getBody(Map.class);
        put(in, ROW_ID, row.get("row_id"));
        put(in, EXECUTION_ID, row.get("execution_id"));
        put(in, WORKFLOW_ID, row.get("workflow_id"));
        put(in, WORKFLOW_VERSION, row.get("workflow_version"));
        RouteKeys.routeTo(in, catalog);
        put(in, STEP_ID, row.get("step_id"));
        put(in, STATUS, row.get("status"));
        put(in, AGENT, row.get("agent"));
        put(in, ACTION, row.get("action"));
        put(in, ATTEMPT, row.get("attempt"));
        put(in, MAX_ATTEMPTS, row.get("max_attempts"));
        put(in, ITERATION, row.get("iteration"));
        put(in, INPUT, row.get("input"));
        put(in, DEADLINE, row.get("deadline"));
        put(in, ERROR, row.get("error"));
        put(in, "failures", row.get("failures"));
        put(in, "kind", row.get("kind"));
        put(in, REQUEST_CONTEXT, row.get("context"));
        put(in, PROGRESS, row.get("progress"));
        in.setBody(null);
    }

    private static void put(Message in, String header, Object value) {
        if (value != null) {
            in.setHeader(header, value instanceof Number n && !(value instanceof Long) ? n.intValue() : value);
        }
    }
}
