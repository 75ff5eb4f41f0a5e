package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.locks.LockPriorities;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.PredicateBuilder;
import org.apache.camel.builder.RouteBuilder;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.agentcoordinator.engine.Headers.*;

/**
 * The saga of a workflow whose steps declare {@code compensate}: {@code wf.<id>~compensate} runs the
 * compensations that are ready (reverse dependency order, see {@link CompensationPlanner}) over the
 * agents' queues, and settles the execution compensated / compensation_failed once all have
 * settled; {@code wf.<id>~compensation-result} applies an agent's reply like a step's.
 */
final class CompensationRoutes {
    /** Header: the compensation runs already, and its request is sent again (a redelivery of the message that started it). */
    private static final String RESENT = "compensationResent";
    /** Header: how a compensation that does not run yet starts: {@code locked} (its step declares locks) or {@code plain}. */
    private static final String START = "compensationStart";
    /** Property: the execution's context the plan read, which a compensation's locks are named from. */
    private static final String CONTEXT = "compensationContext";

    /** Header: the execution had already settled its compensation when this message came (a replay). */
    private static final String SETTLED_ALREADY = "compensationSettledAlready";
    private final WorkflowDefinition workflow;
    private final String replyQueue;
    private final CompensationPlanner planner;
    /** The starts of the compensations whose steps declare locks, by step id. */
    private final Map<String, LockedStepStart> lockedStarts = new java.util.HashMap<>();

    /** The agents' lock priorities: compensations that start together and take locks are tried highest first. */
    private final LockPriorities priorities;

    CompensationRoutes(WorkflowDefinition workflow, String replyQueue, LockPriorities priorities) {
        this.workflow = workflow;
        this.replyQueue = replyQueue;
        this.priorities = priorities;
        this.planner = new CompensationPlanner(workflow);
        workflow.steps().stream().filter(step -> step.compensate() != null && !step.locks().isEmpty())
                .forEach(step -> lockedStarts.put(step.id(), LockedStepStart.ofCompensation(workflow, step)));
    }

    void addRoutes(RouteBuilder routes) {
        String wf = workflow.id();
        var redelivered = routes.from(Endpoints.compensate(wf))
                .routeId("wf." + wf + "~compensate")
                .routeDescription("undoes completed steps of a failed or cancelled execution, last first")
                .process(WorkflowRoutes.identity(workflow))
                .to(Sql.rows("load-compensation-context")).id(wf + "~compensate.load-context")
                .setProperty("context", routes.body())
                .setBody(routes.constant(null))
                .to(Sql.rows("load-compensations")).id(wf + "~compensate.load-compensations")
                .process(this::plan)
                // a replayed reply (its first delivery settled the execution, then died before its JMS commit, which
                // took the outcome event with it, its outbox row already removed) finds the execution settled: publish
                // the outcome again, as a step's replayed reply does (its event_id makes a second one harmless)
                .filter(PredicateBuilder.and(routes.header(SETTLED_ALREADY).isEqualTo(true), AgentStepMapper::replayed))
                    .to(Sql.row("find-settled-execution")).id(wf + "~compensate.find-settled-execution")
                    .filter(PredicateBuilder.and(Sql.returnedRow(),
                            routes.simple("${body[status]} in 'compensated,compensation_failed'")))
                        .setHeader(STATUS, routes.simple("${body[status]}"))
                        .setHeader("results", routes.simple("${body[results]}"))
                        .setHeader("failures", routes.simple("${body[failures]}"))
                        .to(Endpoints.PUBLISH_OUTCOME)
                    .end()
                    .setBody(routes.constant(List.of()))   // nothing to dispatch
                .end()
                .choice()
                    .when(routes.header("settle").isEqualTo(true))
                        .to(Sql.row("settle-compensation")).id(wf + "~compensate.settle")
                        .filter(Sql.returnedRow())
                            .setHeader(STATUS, routes.simple("${body[status]}"))
                            .setHeader("failures", routes.simple("${body[failures]}"))
                            .choice()
                                // what its compensation could not undo needs a human
                                .when(routes.header(STATUS).isEqualTo("compensation_failed"))
                                    .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "execution ${header.executionId} of " + WorkflowCatalog.describeRouteKey(wf) + " ${header.status}")
                                .endChoice()
                                .otherwise()
                                    .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "execution ${header.executionId} of " + WorkflowCatalog.describeRouteKey(wf) + " ${header.status}")
                            .end()
                            .to(Endpoints.PUBLISH_OUTCOME)
                        .end()
                    .endChoice()
                    .otherwise()
                        .process(SentRequests::shareAcrossBranches)
                        // stopped at the first undo that fails (the split's exception is raised again, as without):
                        // the message rolls back, and an undo started after that failure would commit its attempt (its
                        // deadline running) while its request went with the rollback; the redelivery leaves it to the
                        // retry sweep, which sends it only while it has time left
                        .split(routes.body()).stopOnException()
                            .process(this::dispatchHeaders)
                            .choice()
                                .when(routes.header(START).isEqualTo("plain"))
                                    .to(Sql.row("mark-compensation-running")).id(wf + "~compensate.mark-running")
                                // sent again for a redelivery: by the retry sweep, which holds the row while it sends, and only
                                // while it still runs (sent from here, it left with this message's commit, which may come
                                // after its reply settled it); nothing to send from here
                                .when(routes.header(RESENT).isEqualTo(true))
                                    // a pass nested in this one's split (a locked undo that failed) may have made it due
                                    // already, after this pass planned it, and the sweep sent it since
                                    .filter(exchange -> !SentRequests.sentBefore(exchange, exchange.getMessage().getHeader(ROW_ID)));
        // as a step's (request-due.sql): a redelivery the broker flagged sends it as a first send, its deadline from that send
        var dispatch = AgentStepMapper.makeDueForTheRetrySweep(redelivered, wf + "~compensate.request-due")
                                        .filter(Sql.applied())
                                            // another pass of this message (a nested ~compensate) must not make it due again
                                            // after the sweep sent it: that would send it twice (SentRequests, plan())
                                            .process(SentRequests::record)
                                            .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG,
                                                    "compensation of ${header.stepId}: its request is sent again by the retry sweep (redelivery) [execution ${header.executionId}]")
                                        .end()
                                    .end()
                                    .setBody(routes.constant(null))
                                .endChoice()
                                .when(routes.header(START).isEqualTo("locked"))
                                    .process(this::startWithLocks).id(wf + "~compensate.lock-and-mark-running")
                                    .filter(routes.header(LockedStepStart.LOCK_OUTCOME).isEqualTo("waiting"))
                                        .filter(routes.header(LockRoutes.LOCK_RETRY).isNotEqualTo(routes.header(STEP_ID)))   // its first wait
                                            .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG,
                                                    "compensation of ${header.stepId} waits for ${header.reason} [execution ${header.executionId}]")
                                        .end()
                                    .end()
                                    .filter(routes.header(LockedStepStart.LOCK_OUTCOME).isEqualTo("failed"))
                                        .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG,
                                                "compensation of ${header.stepId} failed: ${header.error} [execution ${header.executionId}]")
                                        .to(Endpoints.compensate(wf))
                                        // what the saga's next pass left is not this compensation's: nothing to send
                                        .setBody(routes.constant(null))
                                    .end()
                            .end()
                            .filter(Sql.returnedRow())
                                .process(CompensationRoutes::prepareDispatch)
                                .setProperty("agentQueue", routes.simple("agent.${header.agent}"))
                                .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG,
                                        "compensation of ${header.stepId} dispatched to agent.${header.agent} [execution ${header.executionId}]")
                                .process(exchange -> {
                                    SentRequests.record(exchange);
                                    RequestLeases.rememberUnlessMessageStarted(exchange);
                                    StepRequests.build(exchange, replyQueue);
                                });
        // a failed send of a leased request makes its lease due at once (RequestLeases.send)
        RequestLeases.send(dispatch, sending -> sending.toD("jms:queue:${exchangeProperty.agentQueue}?exchangePattern=InOnly&preserveMessageQos=true")
                        .id(wf + "~compensate.dispatch"), wf + "~compensate.request-unsent")
                                .filter(RequestLeases.remembered())
                                    .process(RequestLeases::asParameters)
                                    .to(Sql.update("request-sent")).id(wf + "~compensate.request-sent")
                                .end();
        dispatch
                            .end()
                        .end()
                    .endChoice()
                .end();

        routes.from(Endpoints.compensationResult(wf))
                .routeId("wf." + wf + "~compensation-result")
                .routeDescription("reply of a compensating action")
                .process(this::classify)
                .choice()
                    .when(routes.header(TRANSITION).isEqualTo(StepOutcome.Transition.COMPLETE.name()))
                        .to(Sql.rows("complete-step")).id(wf + "~compensation.complete")
                        .filter(Sql.returnedRows())
                            .setProperty(ReplyRoutes.TRANSITION_APPLIED, routes.constant(true))
                            .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "compensation of ${header.stepId} completed [execution ${header.executionId}]")
                            .to(Endpoints.compensate(wf))
                        .end()
                    .endChoice()
                    .when(routes.header(TRANSITION).isEqualTo(StepOutcome.Transition.RETRY.name()))
                        .to(Sql.row("retry-step-later")).id(wf + "~compensation.retry-later")
                        .filter(Sql.returnedRow())
                            .setProperty(ReplyRoutes.TRANSITION_APPLIED, routes.constant(true))
                        .end()
                    .endChoice()
                    .otherwise()
                        .to(Sql.row("fail-step")).id(wf + "~compensation.fail")
                        .filter(Sql.returnedRow())
                            .setProperty(ReplyRoutes.TRANSITION_APPLIED, routes.constant(true))
                            .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "compensation of ${header.stepId} failed: ${header.error} [execution ${header.executionId}]")
                            .to(Endpoints.compensate(wf))
                        .end()
                    .endChoice()
                .end();
    }

    /**
     * Undos that become ready together go out highest priority first among those that take their step's locks, as steps
     * that start together do ({@link WorkflowRoutes#lockersByPriority}): the lower undo took the free lock and the
     * higher one preempted it a moment after its request went out (the verifier's test).
     */
    private List<CompensationPlanner.Dispatch> lockersByPriority(List<CompensationPlanner.Dispatch> dispatches) {
        return WorkflowRoutes.lockersByPriority(dispatches, d -> d.running() == null && lockedStarts.containsKey(d.stepId()),
                d -> priorities.of(workflow.step(d.stepId()).orElseThrow().compensate().agent()));
    }

    @SuppressWarnings("unchecked")
    private void plan(Exchange exchange) {
        List<Map<String, Object>> contextRows = exchange.getProperty("context", List.class);
        Optional<ExecutionContext> context = ExecutionContext.fromRows(contextRows);
        List<Map<String, Object>> compensations = exchange.getMessage().getBody(List.class);
        CompensationPlanner.Plan plan = context.isEmpty() || compensations.isEmpty()
                ? new CompensationPlanner.Plan(false, List.of())
                : planner.plan(compensations, context.get(), exchange.getMessage().getHeader(CAUSE_MESSAGE_ID, String.class));
        exchange.getMessage().setHeader("settle", plan.settle());
        Object executionStatus = contextRows == null || contextRows.isEmpty() ? null : contextRows.get(0).get("execution_status");
        exchange.getMessage().setHeader(SETTLED_ALREADY,
                "compensated".equals(executionStatus) || "compensation_failed".equals(executionStatus));
        context.ifPresent(read -> exchange.setProperty(CONTEXT, read));
        // a compensation this message sent on another branch already is not sent again (SentRequests)
        exchange.getMessage().setBody(lockersByPriority(plan.dispatches().stream()
                .filter(dispatch -> dispatch.running() == null || !SentRequests.sentBefore(exchange, dispatch.rowId()))
                .toList()));
    }

    /** The compensation's row and input; one sent again has its running row as the body, as mark-compensation-running returns it. */
    private void dispatchHeaders(Exchange exchange) {
        Message in = exchange.getMessage();
        CompensationPlanner.Dispatch dispatch = in.getBody(CompensationPlanner.Dispatch.class);
        in.setHeader(ROW_ID, dispatch.rowId());
        in.setHeader(STEP_ID, dispatch.stepId());
        presentEvenIfNull(in, CAUSE_MESSAGE_ID);   // a timer or HTTP call started it: mark-compensation-running records NULL
        in.removeHeader(LockedStepStart.LOCK_OUTCOME);   // a step's locked start may have led here
        if (dispatch.running() == null) {
            in.removeHeader(RESENT);
            in.setHeader(START, lockedStarts.containsKey(dispatch.stepId()) ? "locked" : "plain");
            in.setHeader(INPUT, dispatch.inputJson());
            in.setBody(null);
        } else {
            in.removeHeader(START);
            in.setHeader(RESENT, true);
            in.setHeader(ATTEMPT, ((Number) dispatch.running().get("attempt")).intValue());
            in.setHeader(INPUT, dispatch.running().get("input"));
            in.setBody(dispatch.running());
            in.setHeader(SQL_ROW_COUNT, 1);
        }
    }

    /**
     * pending -> running for a compensation whose step declares locks: it takes them (named from the context the
     * plan read) in the same transaction, or stays pending, waiting for them; the lock sweep brings it back here.
     */
    private void startWithLocks(Exchange exchange) throws java.sql.SQLException {
        Message in = exchange.getMessage();
        // those of a step whose locked start led here are not this compensation's
        in.removeHeader(LockedStepStart.LOCK_ERROR);
        in.removeHeader(LockedStepStart.LOCK_REQUESTS);
        LockedStepStart start = lockedStarts.get(in.getHeader(STEP_ID, String.class));
        start.resolve(exchange.getProperty(CONTEXT, ExecutionContext.class), in);
        start.start(exchange);
    }

    @SuppressWarnings("unchecked")
    private static void prepareDispatch(Exchange exchange) {
        Message in = exchange.getMessage();
        Map<String, Object> row = in.getBody(Map.class);
        in.setHeader(AGENT, row.get("agent"));
        in.setHeader(ACTION, row.get("action"));
        in.setHeader(ATTEMPT, ((Number) row.get("attempt")).intValue());
        in.setHeader(ITERATION, 0);
        in.setHeader(DEADLINE, row.get("deadline"));
        in.setHeader(KIND, "compensation");
        // a compensation's request carries neither: not from the reply or call that led here
        in.removeHeader(PROGRESS);
        in.removeHeader(REQUEST_CONTEXT);
    }

    /** A compensation's reply is judged like a plain step's (no loop): complete, retry or fail. */
    private void classify(Exchange exchange) {
        Message in = exchange.getMessage();
        StepOutcome outcome = StepOutcome.ofPlainStep(in, in.getBody(String.class));
        outcome.warnOfIgnoredFields(in.getHeader(CORRELATION_ID), in.getHeader(STEP_ID, String.class));
        in.setHeader(TRANSITION, outcome.transition().name());
        in.setHeader(OUTPUT, outcome.outputJson());
        in.setHeader(ERROR, outcome.error());
        in.setHeader(SHARED_MEMORY, "{}");
        in.setHeader(SIGNALS, "[]");
        in.setHeader(Headers.REPLY_PROGRESS, null);   // a compensation's request carries none
        in.setHeader(KIND, "compensation");
        in.setHeader(WITH_CONTEXT, false);
        in.setHeader(WITH_SIGNALS, false);
        in.setHeader(WITH_SIGNAL_LIST, false);
        in.setBody(null);
    }
}
