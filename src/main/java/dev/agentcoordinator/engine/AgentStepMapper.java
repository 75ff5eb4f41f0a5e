package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.LoopSpec;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.definition.WorkflowStep;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.ChoiceDefinition;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.agentcoordinator.engine.Headers.*;

/**
 * A step that asks one agent to perform one action. Its route decides (skip or run), records the
 * transition, then sends the request to {@code agent.<agent>}; its result route turns the reply
 * into one guarded transition and, once the step is settled, hands over to the step's done route.
 */
public class AgentStepMapper implements StepRouteMapper {
    protected final String replyQueue;
    private final CompletionStarts completions;

    public AgentStepMapper(String replyQueue, ExecutionFactsCache facts) {
        this.replyQueue = replyQueue;
        this.completions = new CompletionStarts(facts);
    }

    @Override
    public boolean handles(WorkflowStep step) {
        return !step.isLoop();
    }

    /** The JMS endpoint of an agent: fire-and-forget with JMSReplyTo set to the durable reply queue. */
    public static String agentEndpoint(String agentQueue) {
        return "jms:queue:" + agentQueue + "?exchangePattern=InOnly&preserveMessageQos=true";
    }

    @Override
    public void addRoutes(RouteBuilder routes, WorkflowDefinition workflow, WorkflowStep step) {
        String wf = workflow.id();
        StepPlanner planner = new StepPlanner(workflow, step);
        LockedStepStart lockedStart = step.locks().isEmpty() ? null : new LockedStepStart(workflow, step);
        ChoiceDefinition onDecision = routes.from(Endpoints.step(wf, step.id()))
                .routeId(Endpoints.routeId(wf, step.id()))
                .routeDescription(describe(step))
                .process(WorkflowRoutes.identity(workflow))
                .setHeader(STEP_ID, routes.constant(step.id()))
                .setHeader(WITH_SIGNALS, routes.constant(usesSignals(step) || step.config().includesContext()))
                .setHeader(WITH_SIGNAL_LIST, routes.constant(step.config().includesContext()))
                .choice().id(nodeId(workflow, step, "context"))
                    // its dependency's completion started it already (complete-and-start.sql): no decision left
                    .when(exchange -> CompletionStarts.startedRow(exchange, step.id()) != null)
                        .setBody(exchange -> CompletionStarts.startedRow(exchange, step.id()))
                    .endChoice()
                    // the single dependency that just completed brought the context along (complete-and-start.sql)
                    .when(routes.exchangeProperty(CONTEXT_ROWS).isNotNull())
                        .setBody(routes.exchangeProperty(CONTEXT_ROWS))
                        .removeProperty(CONTEXT_ROWS)
                    .endChoice()
                    .otherwise()
                        .to(Sql.rows("load-context")).id(nodeId(workflow, step, "load-context"))
                    .endChoice()
                .end()
                .process(exchange -> decide(planner, exchange, step, lockedStart)).id(nodeId(workflow, step, "decide"))
                .choice().id(nodeId(workflow, step, "skip-or-run"))
                    .when(routes.header(DECISION).isEqualTo(StepDecision.Kind.SKIP.name()))
                        .to(Sql.update("mark-skipped")).id(nodeId(workflow, step, "mark-skipped"))
                        .filter(Sql.applied())
                            .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "step ${header.stepId} skipped (${header.reason}) [execution ${header.executionId}]")
                            .to(Endpoints.done(wf, step.id()))
                        .end()
                    .endChoice()
                    .when(routes.header(DECISION).isEqualTo(StepDecision.Kind.DISPATCH.name()));
        addStart(onDecision, workflow, step, lockedStart);
        var dispatched = onDecision
                        .filter(Sql.returnedRow());
        sendRequest(dispatched.process(exchange -> prepareDispatch(exchange, step)), workflow, step,
                org.apache.camel.LoggingLevel.INFO, "dispatched to", "(attempt ${header.attempt})", "");
        dispatched.end();
        onDecision.endChoice()
                    .when(routes.header(DECISION).isEqualTo(StepDecision.Kind.STARTED_WITH_DEPENDENCY.name()));
        sendRequest(onDecision.process(exchange -> prepareDispatch(exchange, step)), workflow, step,
                org.apache.camel.LoggingLevel.INFO, "dispatched to", "(attempt ${header.attempt}, started with " + String.join(", ", step.dependsOn()) + ")", ".started");
        onDecision.endChoice()
                    .when(routes.header(DECISION).isEqualTo(StepDecision.Kind.RESEND_IF_STARTED_BY_THIS_MESSAGE.name()))
                        .to(Sql.row("find-step-row")).id(nodeId(workflow, step, "find-attempt"));
        var resent = onDecision.filter(AgentStepMapper::resendApplies);
        leaveResendToRetrySweep(resent.process(exchange -> prepareResend(exchange, step)), workflow, step,
                "(attempt ${header.attempt}, redelivery)", ".resend");
        resent.end();
        onDecision.endChoice()
                    .when(routes.header(DECISION).isEqualTo(StepDecision.Kind.PASS_ON.name()))
                        .to(Endpoints.done(wf, step.id())).id(nodeId(workflow, step, "pass-on"))
                    .endChoice()
                    .when(routes.header(DECISION).isEqualTo(StepDecision.Kind.FINISH_IF_OVER.name()))
                        .setBody(routes.constant(null))
                        .to(Endpoints.finish(wf)).id(nodeId(workflow, step, "finish-if-over"))
                    .endChoice()
                .end();

        ContextNeeds needs = ContextNeeds.ofDependents(workflow, step);
        DependentStarts starts = new DependentStarts(workflow, step);
        JoinArrivalsInCompletion arrivals = new JoinArrivalsInCompletion(workflow, step);
        ChoiceDefinition onOutcome = routes.from(Endpoints.result(wf, step.id()))
                .routeId(Endpoints.routeId(wf, step.id() + ".result"))
                .routeDescription("reply of " + step.agent() + "." + step.action())
                // a step without dependents may end the execution in its completion's statement
                .setHeader(FINISH, routes.constant(workflow.dependentsOf(step.id()).isEmpty()))
                .setHeader(PARTIAL_SUCCESS, routes.constant(workflow.config().partialSuccessAllowed()))
                .setHeader(TOLERATED_FAILURES, routes.constant(WorkflowRoutes.toleratedFailuresJson(workflow)))
                .process(exchange -> classify(exchange, step, needs)).id(nodeId(workflow, step, "classify-reply"))
                .process(exchange -> completions.plan(exchange, starts, arrivals, needs.context())).id(nodeId(workflow, step, "plan-dependent-starts"))
                .choice().id(nodeId(workflow, step, "outcome"));
        String done = Endpoints.done(wf, step.id());
        java.util.Set<String> repeated = workflow.repeatedSteps();
        java.util.function.Predicate<String> runsAgain = id -> repeated.contains(id) || workflow.step(id).isEmpty();
        transition(onOutcome, StepOutcome.Transition.COMPLETE, Sql.rows("complete-and-start"), Sql.returnedRows(),
                nodeId(workflow, step, "complete"), "step ${header.stepId} completed", done,
                exchange -> completions.take(exchange, step, runsAgain));
        transition(onOutcome, StepOutcome.Transition.RETRY, Sql.row("retry-step-later"), Sql.returnedRow(),
                nodeId(workflow, step, "retry-later"), "step ${header.stepId} will retry: ${header.error}", null, null);
        transition(onOutcome, StepOutcome.Transition.FAIL, Sql.row("fail-step"), Sql.returnedRow(),
                nodeId(workflow, step, "fail"), "step ${header.stepId} failed: ${header.error}", done, null);
        addIterationBranch(onOutcome, workflow, step);
        onOutcome.end();
    }

    /**
     * pending -> running. A step with locks takes them in the same transaction (or waits for them,
     * staying pending); a step with {@code include_context} keeps its request's context with the row.
     */
    private static void addStart(ChoiceDefinition onDispatch, WorkflowDefinition workflow, WorkflowStep step,
                                 LockedStepStart lockedStart) {
        if (lockedStart == null) {
            onDispatch.to(Sql.row(step.config().includesContext() ? "mark-running-with-context" : "mark-running"))
                    .id(nodeId(workflow, step, "mark-running"));
            return;
        }
        onDispatch.process(lockedStart::start).id(nodeId(workflow, step, "lock-and-mark-running"))
                .filter(org.apache.camel.builder.Builder.header(LockedStepStart.LOCK_OUTCOME).isEqualTo("waiting"))
                    .filter(org.apache.camel.builder.Builder.header(LockRoutes.LOCK_RETRY).isNull())
                        .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "step ${header.stepId} waits for ${header.reason} [execution ${header.executionId}]")
                    .end()
                .end()
                .filter(org.apache.camel.builder.Builder.header(LockedStepStart.LOCK_OUTCOME).isEqualTo("failed"))
                    .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "step ${header.stepId} failed: ${header.error} [execution ${header.executionId}]")
                    .to(Endpoints.done(workflow.id(), step.id()))
                    // what the done route left (a compensation's rows, a dependent's started row) is not
                    // this step's: the dispatch that follows the start must find nothing to send
                    .setBody(org.apache.camel.builder.Builder.constant(null))
                .end();
    }

    /**
     * One branch of the result route: the guarded statement of a transition; when it applied, the
     * reply counts as taken (see ReplyRoutes), what the statement returned is taken over
     * ({@code alsoTake}, then {@link #takeSettledAttempt}), the transition is logged and, for a
     * settled step, {@code thenTo} (its done route) runs.
     */
    private static void transition(ChoiceDefinition onOutcome, StepOutcome.Transition transition, String statement,
                                   org.apache.camel.Predicate applied, String nodeId, String logText, String thenTo,
                                   org.apache.camel.Processor alsoTake) {
        var whenApplied = onOutcome.when(transitionIs(transition))
                .to(statement).id(nodeId)
                .filter(applied)
                    .setProperty(ReplyRoutes.TRANSITION_APPLIED, org.apache.camel.builder.Builder.constant(true));
        if (alsoTake != null) {
            whenApplied.process(alsoTake);
        }
        whenApplied.process(AgentStepMapper::takeSettledAttempt)
                    .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, logText + " [execution ${header.executionId}]");
        if (thenTo != null) {
            whenApplied.to(thenTo);
        }
        whenApplied.end().endChoice();
    }

    /**
     * What a transition statement returned: the execution (a reply that named its step came without
     * it) and, from complete-and-start.sql, the context its dependents decide on, carried as
     * {@link Headers#CONTEXT_ROWS}. (The metrics read the attempt's start from the statement's result.)
     */
    @SuppressWarnings("unchecked")
    static void takeSettledAttempt(Exchange exchange) {
        Message in = exchange.getMessage();
        Object body = in.getBody();
        List<Map<String, Object>> rows = body instanceof List<?> list ? (List<Map<String, Object>>) list : null;
        Map<String, Object> row = rows != null ? rows.get(0) : (Map<String, Object>) body;
        in.setHeader(EXECUTION_ID, row.get("execution_id"));
        if (rows != null && row.get("execution_status") != null) {
            exchange.setProperty(CONTEXT_ROWS, rows);
        }
        in.setBody(null);
    }

    /**
     * Logs the dispatch ({@code verb} agent, {@code how}: attempt and why) and sends the attempt's request, whose headers
     * {@link #prepareDispatch} set, to the step's agent; then clears the request's lease of an attempt that no
     * message started (V27), or, when the send failed, makes that lease due at once ({@link RequestLeases#send}).
     */
    protected void sendRequest(org.apache.camel.model.ProcessorDefinition<?> at, WorkflowDefinition workflow, WorkflowStep step,
                             org.apache.camel.LoggingLevel level, String verb, String how, String nodeSuffix) {
        sendRequest(at, workflow, step, step.agent(), level, "step ${header.stepId} " + verb + " agent." + step.agent() + " " + how, nodeSuffix);
    }

    /**
     * As above, to {@code agent}'s queue, logging {@code logText}, the nodes named after {@code step}: a loop's next
     * iteration too, whose first step may be another's (its refused send noted, a lease cleared as any).
     */
    protected void sendRequest(org.apache.camel.model.ProcessorDefinition<?> at, WorkflowDefinition workflow, WorkflowStep step,
                             String agent, org.apache.camel.LoggingLevel level, String logText, String nodeSuffix) {
        var built = at.log(level, Endpoints.PROGRESS_LOG, logText + " [execution ${header.executionId}]")
                .process(exchange -> {
                    SentRequests.record(exchange);
                    RequestLeases.rememberUnlessMessageStarted(exchange);
                    StepRequests.build(exchange, replyQueue);
                });
        RequestLeases.send(built, sending -> sending.to(agentEndpoint(Endpoints.agentQueue(agent)))
                        .id(nodeId(workflow, step, "agent." + agent + nodeSuffix)),
                        nodeId(workflow, step, "request-unsent" + nodeSuffix))
                .filter(RequestLeases.remembered())
                    .process(RequestLeases::asParameters)
                    .to(Sql.update("request-sent")).id(nodeId(workflow, step, "request-sent" + nodeSuffix))
                .end();
    }

    /**
     * The request of an attempt that this message started and its earlier delivery's rollback took away: not sent from
     * here, where it would leave with this message's commit, after a reply may have settled the attempt since the
     * message read its row. Its lease is made due at once (request-due.sql, only while that attempt still runs),
     * and the retry sweep sends it within a sweep period, holding the row while it sends (request-still-due.sql). A
     * redelivery the broker flagged as such sends it as a first send, its deadline from that send
     * ({@link #deliveredBeforeAsTheCause}): the request never left, and its attempt's time did not run for its agent.
     * Recorded in {@link SentRequests}: another pass of this message must not make it due again once the sweep sent it.
     */
    protected static void leaveResendToRetrySweep(org.apache.camel.model.ProcessorDefinition<?> at, WorkflowDefinition workflow,
                                                  WorkflowStep step, String how, String nodeSuffix) {
        makeDueForTheRetrySweep(at, nodeId(workflow, step, "request-due" + nodeSuffix))
                .filter(Sql.applied())
                    .process(SentRequests::record)
                    .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "step ${header.stepId}: its request to agent."
                            + step.agent() + " is sent again by the retry sweep " + how + " [execution ${header.executionId}]")
                .end();
    }

    /**
     * Makes the lease of the running attempt in {@link Headers#ROW_ID} and {@link Headers#ATTEMPT}, which this message
     * started and its earlier delivery's rollback took the request of, due at once (request-due.sql, node {@code nodeId}),
     * as a first send when the broker flagged the message redelivered: a step's, a loop iteration's and an undo's alike.
     */
    static <T extends org.apache.camel.model.ProcessorDefinition<T>> T makeDueForTheRetrySweep(
            org.apache.camel.model.ProcessorDefinition<T> at, String nodeId) {
        return at.setBody(org.apache.camel.builder.Builder.constant(null))
                .process(exchange -> exchange.getMessage().setHeader(NEVER_LEFT, deliveredBeforeAsTheCause(exchange)))
                .to(Sql.update("request-due")).id(nodeId);
    }

    /**
     * The consumed message is the one that started the attempt (its id is the cause), and the broker delivered it
     * before without its acknowledgement: that delivery's transaction rolled back, and the request it sent with it.
     * Not a replay the broker did not flag (it forgets the flag when it restarts), nor one whose headers are another
     * message's (a fan-in's join carries its first arrival's): the request may have left with another commit.
     */
    static boolean deliveredBeforeAsTheCause(Exchange exchange) {
        Message in = exchange.getMessage();
        Object cause = in.getHeader(CAUSE_MESSAGE_ID);
        return cause != null && cause.equals(ConsumedMessageId.of(in))
                && Boolean.TRUE.equals(in.getHeader("JMSRedelivered", Boolean.class));
    }

    /** Loops add their iterate branch here; a plain step has none. */
    protected void addIterationBranch(ChoiceDefinition onOutcome, WorkflowDefinition workflow, WorkflowStep step) {
    }

    protected static org.apache.camel.Predicate transitionIs(StepOutcome.Transition transition) {
        return org.apache.camel.builder.Builder.header(TRANSITION).isEqualTo(transition.name());
    }

    /**
     * Node ids are unique in the whole CamelContext, so they carry the workflow too. A workflow's own
     * nodes are {@code <workflow>~start.*} and {@code ~finish.*}: no step id holds a ~ (RouteIdsTest).
     */
    protected static String nodeId(WorkflowDefinition workflow, WorkflowStep step, String what) {
        return workflow.id() + "." + step.id() + "." + what;
    }

    static boolean usesSignals(WorkflowStep step) {
        return step.inputMapping().values().stream().anyMatch(m -> m.fromSignal() != null);
    }

    /**
     * What complete-step.sql reads back for the dependents of a step, which decide on the context it
     * returns: a step with this one as its only dependency always, a fan-in when that context shows
     * every one of its dependencies settled ({@link DependencyGate#settledInCarriedContext}).
     */
    record ContextNeeds(boolean context, boolean signals, boolean signalList) {
        static ContextNeeds ofDependents(WorkflowDefinition workflow, WorkflowStep step) {
            List<WorkflowStep> deciders = workflow.dependentsOf(step.id());
            return new ContextNeeds(!deciders.isEmpty(),
                    deciders.stream().anyMatch(d -> usesSignals(d) || d.config().includesContext()),
                    deciders.stream().anyMatch(d -> d.config().includesContext()));
        }
    }

    private static String describe(WorkflowStep step) {
        String text = step.agent() + "." + step.action();
        if (!step.dependsOn().isEmpty()) {
            text += " after " + String.join(", ", step.dependsOn());
        }
        if (step.condition() != null) {
            text += " when " + step.condition().step() + "." + step.condition().outputKey() + " "
                    + step.condition().operator() + (step.condition().value() == null ? "" : " " + step.condition().value());
        }
        LoopSpec loop = step.loop();
        if (loop != null && loop.until() != null) {   // Hawtio shows the loop a reply route may go round
            text += ", again until " + loop.until().outputKey() + " " + loop.until().operator()
                    + (loop.until().value() == null ? "" : " " + loop.until().value()) + " (at most " + loop.maxIterations() + " iterations"
                    + (loop.repeatsFromAnother(step.id()) ? ", each from " + loop.repeatFrom() : "") + ")";
        }
        return step.description() == null ? text : step.description() + " (" + text + ")";
    }

    @SuppressWarnings("unchecked")
    private static void decide(StepPlanner planner, Exchange exchange, WorkflowStep step, LockedStepStart lockedStart) {
        Message in = exchange.getMessage();
        Map<String, Object> started = CompletionStarts.startedRow(exchange, step.id());
        if (started != null) {   // the body is its started row, as mark-running returns one
            in.setHeader(DECISION, StepDecision.Kind.STARTED_WITH_DEPENDENCY.name());
            in.setHeader(ROW_ID, started.get("row_id"));
            in.setHeader(INPUT, started.get("input"));
            return;
        }
        List<Map<String, Object>> rows = in.getBody(List.class);
        StepDecision decision = planner.decide(rows);
        in.setHeader(DECISION, decision.kind().name());
        presentEvenIfNull(in, CAUSE_MESSAGE_ID);   // a timer or HTTP call started this: mark-running records NULL
        in.setHeader(ROW_ID, decision.rowId());
        in.setHeader(REASON, decision.reason());
        in.setHeader(INPUT, decision.inputJson());
        if (decision.kind() == StepDecision.Kind.DISPATCH) {
            if (step.config().includesContext()) {
                in.setHeader(REQUEST_CONTEXT, RequestContexts.render(rows));
            } else {
                in.removeHeader(REQUEST_CONTEXT);   // a locked start stores it with the row (mark-running-with-locks)
            }
            if (lockedStart != null) {
                ExecutionContext.fromRows(rows).ifPresent(context -> lockedStart.resolve(context, in));
            }
        }
        in.setBody(null);
    }

    /**
     * The chain of a message that may have run before: redelivered, or a reply found settled and
     * walking on from its step (ReplyRoutes: the broker forgets the redelivered flag when it
     * restarts, and the earlier delivery may have died before its requests and events left).
     */
    static boolean replayed(Exchange exchange) {
        return redelivered(exchange) || exchange.getMessage().getHeader(ReplyRoutes.AFTER_DUPLICATE) != null;
    }

    /** Redelivered by the broker, or a fan-in recovered by the aggregation repository. */
    static boolean redelivered(Exchange exchange) {
        Message in = exchange.getMessage();
        return Boolean.TRUE.equals(in.getHeader("JMSRedelivered", Boolean.class))
                || Boolean.TRUE.equals(in.getHeader(Exchange.REDELIVERED, Boolean.class))
                || exchange.isExternalRedelivered();
    }

    /** Copies what mark-running returned (attempt, iteration, deadline) into the dispatch headers. */
    @SuppressWarnings("unchecked")
    static void prepareDispatch(Exchange exchange, WorkflowStep step) {
        Message in = exchange.getMessage();
        Map<String, Object> row = in.getBody(Map.class);
        in.setHeader(AGENT, step.agent());
        in.setHeader(ACTION, step.action());
        attemptHeaders(in, row);
        // only what this attempt's row (or its decision) says: a header of these names from the reply or
        // call that led here (an agent's JMS property, an HTTP parameter) never reaches the request
        if (row.get("context") != null) {
            in.setHeader(REQUEST_CONTEXT, row.get("context"));
        } else if (!step.config().includesContext()) {
            in.removeHeader(REQUEST_CONTEXT);
        }
        if (row.get("progress") != null) {   // what an earlier attempt reported: a retry resumes from it
            in.setHeader(PROGRESS, row.get("progress"));
        } else {
            in.removeHeader(PROGRESS);
        }
        if (row.get("input") != null) {   // a loop's later iteration run again: the input its feedback gave it
            in.setHeader(INPUT, row.get("input"));
        }
    }

    /** A root row that start-execution.sql created running: its dispatch headers, as mark-running would give them. */
    @SuppressWarnings("unchecked")
    static void prepareStartedRoot(Exchange exchange) {
        Message in = exchange.getMessage();
        in.removeHeader(PROGRESS);   // not from the event's JMS properties: a root that starts with its execution has neither
        in.removeHeader(REQUEST_CONTEXT);
        Map<String, Object> row = in.getBody(Map.class);
        in.setHeader(ROW_ID, row.get("row_id"));
        in.setHeader(STEP_ID, row.get("step_id"));
        in.setHeader(AGENT, row.get("agent"));
        in.setHeader(ACTION, row.get("action"));
        in.setHeader(INPUT, row.get("input"));
        attemptHeaders(in, row);
    }

    /** The attempt a statement started: number, budget (absent for a loop's next iteration), iteration, deadline. */
    private static void attemptHeaders(Message in, Map<String, Object> row) {
        in.setHeader(ATTEMPT, ((Number) row.getOrDefault("attempt", 1)).intValue());
        if (row.get("max_attempts") != null) {
            in.setHeader(MAX_ATTEMPTS, ((Number) row.get("max_attempts")).intValue());
        }
        in.setHeader(ITERATION, ((Number) row.getOrDefault("iteration", 0)).intValue());
        in.setHeader(DEADLINE, row.get("deadline"));
    }

    /**
     * A message has only the attempt it started itself (dispatched_by) sent again, and only while it runs: its
     * earlier delivery's rollback took that request away ({@link #leaveResendToRetrySweep}). Redelivered or not (the broker forgets the flag
     * when it restarts): a redelivered message that finds a step another message started (whose request
     * left with that message) or one settled since it read the context sends nothing. Nor does a message
     * that sent the request already, on another branch ({@link SentRequests}).
     */
    @SuppressWarnings("unchecked")
    static boolean resendApplies(Exchange exchange) {
        Message in = exchange.getMessage();
        Map<String, Object> row = in.getBody(Map.class);
        if (row == null || SentRequests.sentBefore(exchange, in.getHeader(ROW_ID))) {
            return false;
        }
        Object cause = in.getHeader(CAUSE_MESSAGE_ID);
        return cause != null && cause.equals(row.get("dispatched_by")) && "running".equals(row.get("status"));
    }

    @SuppressWarnings("unchecked")
    static void prepareResend(Exchange exchange, WorkflowStep step) {
        // the attempt in flight as find-step-row.sql returns it: as a dispatch, plus the input it ran with
        exchange.getMessage().setHeader(INPUT, exchange.getMessage().getBody(Map.class).get("input"));
        prepareDispatch(exchange, step);
    }

    private static void classify(Exchange exchange, WorkflowStep step, ContextNeeds needs) {
        Message in = exchange.getMessage();
        in.setHeader(KIND, "step");
        in.setHeader(WITH_CONTEXT, needs.context());
        in.setHeader(WITH_SIGNALS, needs.signals());
        in.setHeader(WITH_SIGNAL_LIST, needs.signalList());
        StepOutcome outcome = StepOutcome.of(step, in.getBody(String.class),
                in.getHeader(ATTEMPT, Integer.class), in.getHeader(MAX_ATTEMPTS, Integer.class),
                in.getHeader(ITERATION, 0, Integer.class) - in.getHeader(Headers.LOOP_ROUND_START, 0, Integer.class),
                in.getHeader(INPUT, String.class));
        outcome.warnOfIgnoredFields(in.getHeader(CORRELATION_ID), in.getHeader(STEP_ID, String.class));
        in.setHeader(TRANSITION, outcome.transition().name());
        if (outcome.transition() == StepOutcome.Transition.ITERATE) {   // for the progress line of the next iteration
            in.setHeader(LOOP_VERDICT, StepOutcome.untilAsItWas(step.loop(), outcome.outputJson()));
        }
        in.setHeader(OUTPUT, outcome.outputJson());
        in.setHeader(ERROR, outcome.error());
        in.setHeader(NEXT_INPUT, outcome.nextInputJson());
        in.setHeader(Headers.REPLY_PROGRESS, outcome.outputJson() == null
                ? StepOutcome.errorReplyProgress(in.getBody(String.class), in.getHeader(CORRELATION_ID)) : null);
        in.setBody(null); // the outcome is in the headers now (and camel-sql is faster without a body)
        in.setHeader(NEXT_ROW_ID, UUID.randomUUID().toString());
        in.setHeader(SHARED_MEMORY, outcome.sharedMemoryJson());
        in.setHeader(SIGNALS, outcome.signalsJson());
    }
}
