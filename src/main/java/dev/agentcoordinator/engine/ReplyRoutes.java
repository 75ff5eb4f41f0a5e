package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.definition.WorkflowStep;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

import static dev.agentcoordinator.engine.Headers.*;

/**
 * Replies from every agent arrive on one durable queue, consumed by competing consumers, so any
 * coordinator instance handles any reply. The correlation id names the step row and attempt; a
 * reply for anything but the attempt in flight is recorded in ignored_replies and changes nothing.
 * When the correlation id also names the workflow step (see {@link StepRequests#correlationId(String,
 * int, String, Integer, String, int)}), the reply goes straight to the step's guarded transition of
 * the workflow version its execution runs on; only a reply
 * that finds its attempt no longer in flight, a loop's reply and a compensation's reply read the step
 * row first. A heartbeat ({@code {"status": "running"}}) settles nothing: it moves the deadline of the
 * attempt in flight, whatever kind of row that is; when the attempt is no longer in flight it is dropped, and
 * an agent that gave the heartbeat a JMSReplyTo is told to stop ({@link HeartbeatStops}).
 */
public class ReplyRoutes extends RouteBuilder {
    static final String REPLY_TEXT = "replyText";
    /** The line an ignored reply is logged with (IgnoredReplyLines), null: at DEBUG only. */
    private static final String IGNORED_LINE = "ignoredReplyLine";
    static final String IGNORE_REASON = "ignoreReason";
    /** The error of the steps a cancel by request stopped (cancel_execution's reason). */
    public static final String CANCELLED_BY_REQUEST = "execution cancelled by request";
    /** Header: set when a reply is ignored as expected (an agent answering after its execution was cancelled). */
    private static final String IGNORED_AS_EXPECTED = "ignoredAsExpected";
    /** Header set when a reply is for an attempt before the step's current one. */
    private static final String EARLIER_ATTEMPT = "earlierAttempt";
    /** Set by a result route when its guarded transition changed the step row. */
    static final String TRANSITION_APPLIED = "transitionApplied";
    static final String RESULT_ENDPOINT = "resultEndpoint";
    /** The route a reply found settled walks on to (its step's done route): what followed may not have run. */
    static final String AFTER_DUPLICATE = "afterDuplicate";
    private static final String BY_STEP_ROW = "direct:coordinator.reply-by-step-row";
    private static final String HEARTBEAT = "direct:coordinator.heartbeat";
    private static final String STOP_WORK = "direct:coordinator.stop-work";
    private static final String RELEASE_HELD = "direct:coordinator.release-held-compensation";
    /** Header: the reply answers an attempt a cancel cut off, whose step's compensation is held for it (V47). */
    private static final String RELEASES_HOLD = "releasesHold";
    /** Header: a success reported for an earlier attempt of a step that declares a compensate (the execution was retried). */
    private static final String EARLIER_SUCCESS_WITH_UNDO = "earlierSuccessWithUndo";
    public static final String ROUTE_ID = "coordinator.replies";
    /** ignored_replies.correlation_id's length (V1). */
    static final int MAX_RECORDED_CORRELATION_ID = 255;

    private final WorkflowCatalog catalog;
    private final String replyQueue;
    private final int consumers;
    private final int maxConsumers;
    private final ReplyBacklog backlog;
    private final IgnoredReplyLines ignoredLines = new IgnoredReplyLines();
    private final int maxTokens;
    private final int maxBytes;

    public ReplyRoutes(WorkflowCatalog catalog, String replyQueue, int consumers, int maxConsumers, ReplyBacklog backlog, int maxTokens,
                       int maxBytes) {
        this.catalog = catalog;
        this.maxTokens = maxTokens;
        this.maxBytes = maxBytes;
        this.replyQueue = replyQueue;
        this.consumers = consumers;
        this.maxConsumers = maxConsumers;
        this.backlog = backlog;
    }

    /**
     * Why a reply's correlation id names no attempt; with a hint when the ':' between the step row and the attempt is
     * missing, as a STOMP client that does not escape ':' in header values (as {@code \c}) sends it: the broker drops it.
     */
    static String unnamedAttempt(String correlationId) {
        if (correlationId == null) {   // a reply sent without one: "correlation id null" told the agent's author nothing
            return "a reply without a correlation id names no step attempt: copy the request's correlation id into its reply";
        }
        String reason = "correlation id " + correlationId + " does not name a step attempt";
        if (correlationId != null && correlationId.contains("@") && !correlationId.substring(0, correlationId.indexOf('@')).contains(":")) {
            reason += " (the ':' before its attempt number is missing: a STOMP client must send ':' in a header value as"
                    + " \\c, docs/agent-protocol.md)";
        }
        return reason;
    }

    /**
     * The reply's text, kept in {@link #REPLY_TEXT}. A reply sent as bytes that are not UTF-8 is read as an error reply
     * naming the first such byte, as a reply that is not JSON fails its attempt (retried while attempts are left),
     * rather than settling the step with U+FFFD in place of what the agent sent.
     */
    static void keepReplyText(Exchange exchange) {
        keepReplyText(exchange, Json.DEFAULT_MAX_TOKENS, Utf8Text.DEFAULT_MAX_BYTES);
    }

    /**
     * As {@link #keepReplyText(Exchange)}, a reply of more than {@code maxTokens} JSON tokens read as an error reply that
     * names the bound, counted as a stream before any tree is built. Such an error, as one for a reply too long, is not
     * retried: the agent's next attempt would most likely answer as much again.
     */
    static void keepReplyText(Exchange exchange, int maxTokens) {
        keepReplyText(exchange, maxTokens, Utf8Text.DEFAULT_MAX_BYTES);
    }

    /** As {@link #keepReplyText(Exchange, int)}, a body of more than {@code maxBytes} refused unread, not retried either. */
    static void keepReplyText(Exchange exchange, int maxTokens, int maxBytes) {
        String text;
        try {
            text = Utf8Text.of(exchange.getMessage(), maxBytes);
        } catch (Utf8Text.TooManyBytesException tooLong) {
            Utf8Text.dropUnreadBody(exchange);
            text = Json.write(Json.object().put("status", "error").put("error", "agent reply is " + tooLong.getMessage())
                    .put("retryable", false));
        } catch (IllegalArgumentException notText) {
            text = Json.write(Json.object().put("status", "error").put("error", "agent reply is " + notText.getMessage()
                    + " (bodies are UTF-8 JSON text)"));
        }
        if (text != null && text.length() > Json.MAX_MESSAGE_CHARS) {   // an error reply naming its length, not parsed
            text = Json.write(Json.object().put("status", "error").put("error", String.format(java.util.Locale.ROOT,
                    "agent reply is %,d characters long: at most %,d are read", text.length(), Json.MAX_MESSAGE_CHARS))
                    .put("retryable", false));
        } else if (Json.hasMoreTokensThan(text, maxTokens)) {
            text = Json.write(Json.object().put("status", "error").put("error",
                    new Json.TooManyTokensException("agent reply", maxTokens).getMessage()).put("retryable", false));
        }
        if (text != null && text.indexOf('\uFFFD') >= 0) {
            // the broker decodes a STOMP frame without content-length itself, and puts U+FFFD for bytes that are not UTF-8
            org.slf4j.LoggerFactory.getLogger(Endpoints.PROGRESS_LOG).warn("reply {} holds U+FFFD (\uFFFD), which stands in for"
                    + " bytes that were not UTF-8 when an agent sends a STOMP frame without content-length: kept as it is;"
                    + " an agent should encode its replies in UTF-8 (docs/agent-protocol.md)",
                    exchange.getMessage().getHeader("JMSCorrelationID"));
        }
        exchange.setProperty(REPLY_TEXT, text);
    }

    @Override
    public void configure() {
        from("jms:queue:" + replyQueue + "?transacted=true&disableReplyTo=true&concurrentConsumers=" + consumers
                        + "&maxConcurrentConsumers=" + maxConsumers)
                .routeId(ROUTE_ID)
                .routeDescription("agent replies: the attempt in flight settles, anything else is recorded and ignored")
                // stopped or suspended by an operator, it leaves the replies queued: the timeout sweeps hold meanwhile
                .routePolicy(backlog.operatorStops())
                // an agent's own JMS properties are not the engine's headers (progress, requestContext, ...): only
                // the JMS headers and the broker's arrival time are read from a reply
                .removeHeaders("*", "JMS*", ReplyBacklog.INGRESS_TIMESTAMP)
                // set, null included, for every statement that settles or extends an attempt on a reply
                .process(ReplyArrival::stamp)
                // a BytesMessage reply (STOMP with content-length) is UTF-8 text, whatever the JVM's default charset
                .setProperty(org.apache.camel.Exchange.CHARSET_NAME, constant("UTF-8"))
                // before the text: a reply refused unread loses its JMS message, and with it the broker's id of it
                .process(ConsumedMessageId::setAsCause)
                .process(exchange -> keepReplyText(exchange, maxTokens, maxBytes))
                .process(this::readCorrelation)
                .choice()
                    .when(header(ROW_ID).isNull())
                        .process(exchange -> exchange.getMessage().setHeader(IGNORE_REASON,
                                unnamedAttempt(exchange.getMessage().getHeader("JMSCorrelationID", String.class))))
                        .to("direct:coordinator.ignore-reply")
                    .when(exchange -> StepOutcome.isHeartbeat(exchange.getProperty(REPLY_TEXT, String.class)))
                        .to(HEARTBEAT)
                    .when(header(RESULT_ENDPOINT).isNotNull())
                        .setBody(exchangeProperty(REPLY_TEXT))
                        .toD("${header.resultEndpoint}")
                        .filter(exchangeProperty(TRANSITION_APPLIED).isNull())
                            .to(BY_STEP_ROW)
                        .end()
                    .endChoice()
                    .otherwise()
                        .to(BY_STEP_ROW)
                .end();

        from(BY_STEP_ROW)
                .routeId("coordinator.reply-by-step-row")
                .routeDescription("a reply judged against its step row: the attempt in flight settles, anything else is recorded and ignored")
                .setBody(constant(null))
                .to(Sql.row("find-step-row")).id("find-step")
                .process(this::judge)
                .choice()
                    .when(header(RELEASES_HOLD).isNotNull())
                        .to(RELEASE_HELD)
                    .when(header(IGNORE_REASON).isNotNull())
                        .to("direct:coordinator.ignore-reply")
                    .otherwise()
                        .setBody(exchangeProperty(REPLY_TEXT))
                        .toD("${header.resultEndpoint}")
                        // the attempt settled between the read above and the transition, which changed nothing: by
                        // a duplicate that raced this reply, or by a cancel or a timeout that committed meanwhile. The
                        // row read again names which (a reply that lost to a cancel is expected: an INFO line)
                        .filter(exchangeProperty(TRANSITION_APPLIED).isNull())
                            .setBody(constant(null))
                            .to(Sql.row("find-step-row")).id("find-step-again")
                            .process(this::judge)
                            .choice()
                                .when(header(RELEASES_HOLD).isNotNull())
                                    .to(RELEASE_HELD)
                                .otherwise()
                                    .filter(header(IGNORE_REASON).isNull())
                                        .setHeader(IGNORE_REASON, simple("duplicate reply for attempt ${header.attempt} of step ${header.stepId}:"
                                                + " another reply settled that attempt first"))
                                    .end()
                                    .to("direct:coordinator.ignore-reply")
                            .end()
                        .end()
                .end();

        from(RELEASE_HELD)
                .routeId("coordinator.release-held-compensation")
                .routeDescription("the reply of an attempt a cancel cut off: its step's held compensation undoes what its agent"
                        + " reports done, or is skipped")
                .process(ReplyRoutes::readHeldOutcome)
                .to(Sql.row("release-held-compensation")).id("release-held-compensation")
                .choice()
                    .when(Sql.returnedRow())
                        .setHeader(STATUS, simple("${body[status]}"))
                        .choice()
                            .when(header(STATUS).isEqualTo("pending"))
                                .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "step ${header.stepId}: its agent reports"
                                        + " attempt ${header.replyAttempt} done after the cancel; it is undone [execution ${header.executionId}]")
                            .otherwise()
                                .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "step ${header.stepId}: its agent reports"
                                        + " attempt ${header.replyAttempt} not done after the cancel; nothing of it to undo [execution ${header.executionId}]")
                        .end()
                        .toD("direct:wf.${header.routeKey}~compensate")
                    .endChoice()
                    .otherwise()
                        // released first, by its deadline or its request taken back: recorded as judged
                        .to("direct:coordinator.ignore-reply")
                .end();

        from(HEARTBEAT)
                .routeId("coordinator.heartbeat")
                .routeDescription("a heartbeat of the agent working on an attempt: the attempt's deadline moves to its timeout from now,"
                        + " and the progress it reports is kept for the step's later attempts")
                .process(exchange -> exchange.getMessage().setHeader(PROGRESS,
                        StepOutcome.heartbeatProgress(exchange.getProperty(REPLY_TEXT, String.class), exchange.getMessage().getHeader(CORRELATION_ID))))
                .to(Sql.row("extend-attempt")).id("extend-attempt")
                .choice()
                    .when(Sql.returnedRow())
                        .log(org.apache.camel.LoggingLevel.DEBUG, Endpoints.PROGRESS_LOG, "heartbeat for attempt ${header.replyAttempt} of step"
                                + " ${body[step_id]}: deadline now ${body[deadline]} [execution ${body[execution_id]}]")
                    .endChoice()
                    .otherwise()
                        // sent before the reply, taken after it by another consumer, or for an attempt that
                        // timed out, was cancelled or superseded: an agent that gave a JMSReplyTo is told to stop
                        .log(org.apache.camel.LoggingLevel.DEBUG, Endpoints.PROGRESS_LOG, "heartbeat dropped: attempt"
                                + " ${header.JMSCorrelationID} is not in flight")
                        .filter(exchange -> HeartbeatStops.answerable(exchange.getMessage().getHeader("JMSReplyTo"), replyQueue))
                            .to(STOP_WORK)
                        .end()
                .end();

        from(STOP_WORK)
                .routeId("coordinator.stop-work")
                .routeDescription("tells the agent behind a heartbeat whose attempt is no longer in flight to stop working on it")
                .setBody(constant(null))
                .to(Sql.row("find-stopped-attempt")).id("find-stopped-attempt")
                .process(HeartbeatStops::toStopMessage)
                .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "agent told to stop attempt ${header.JMSCorrelationID}: ${exchangeProperty.stopReason}")
                // a stop that cannot be delivered (the agent's answer queue is gone with its connection)
                // must not roll the heartbeat back for redelivery: the agent is gone or learns from its reply
                .doTry()
                    .to(HeartbeatStops.SEND).id("send-stop")
                .doCatch(Exception.class)
                    .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "stop for attempt ${header.JMSCorrelationID}"
                            + " not delivered: ${exception.message}")
                .end();

        from("direct:coordinator.ignore-reply")
                .routeId("coordinator.ignore-reply")
                .routeDescription("records a reply that no step is waiting for")
                .setHeader("correlationId", header(CORRELATION_ID))
                .process(ReplyRoutes::nameUnknownStep)
                // a reply to an attempt before the step's current one: expected when that attempt was cancelled by
                // request (the execution was cancelled, then retried), which only its record in step_attempts says
                .filter(header(EARLIER_ATTEMPT).isNotNull())
                    .to(Sql.row("find-attempt-error"))
                    .process(ReplyRoutes::expectedIfCancelled)
                .end()
                // an agent that finishes after a cancel is doing what it should: worth a line, not a warning; an agent
                // that answers one attempt again and again, a line at most every 30 s
                // (per attempt and level: an INFO line, a reply after a cancel, does not hold back the attempt's first WARN,
                // its agent reporting done what is not undone)
                .process(exchange -> exchange.setProperty(IGNORED_LINE, ignoredLines.lineFor(attemptOf(exchange.getMessage())
                                + (exchange.getMessage().getHeader(IGNORED_AS_EXPECTED) != null ? " INFO" : " WARN"),
                        exchange.getMessage().getHeader(IGNORE_REASON, String.class))))
                .choice()
                    .when(exchangeProperty(IGNORED_LINE).isNull())
                        .log(org.apache.camel.LoggingLevel.DEBUG, Endpoints.PROGRESS_LOG, "reply ignored: ${header.ignoreReason}")
                    .when(header(IGNORED_AS_EXPECTED).isNotNull())
                        .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "reply ignored: ${exchangeProperty." + IGNORED_LINE + "}")
                    .otherwise()
                        .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "reply ignored: ${exchangeProperty." + IGNORED_LINE + "}")
                .end()
                .process(ReplyRoutes::recordableBody)
                .to(Sql.update("record-ignored-reply"))
                .filter(header(AFTER_DUPLICATE).isNotNull())
                    .toD("${header.afterDuplicate}")
                .end();
    }

    /**
     * The most characters of an ignored reply's body kept in ignored_replies, as many as the dead-letter view shows of an
     * event's: a late or duplicate reply changes nothing, and an agent that answered each attempt twice with 15 MB wrote
     * 15 MB a row, kept until retention.
     */
    static final int MAX_RECORDED_BODY = 4096;

    /** The body recorded with an ignored reply: the first {@link #MAX_RECORDED_BODY} characters, the reason saying so when cut. */
    private static void recordableBody(Exchange exchange) {
        Message in = exchange.getMessage();
        String text = exchange.getProperty(REPLY_TEXT, String.class);
        if (text != null && text.length() > MAX_RECORDED_BODY) {
            int end = Character.isHighSurrogate(text.charAt(MAX_RECORDED_BODY - 1)) ? MAX_RECORDED_BODY - 1 : MAX_RECORDED_BODY;
            in.setHeader(IGNORE_REASON, in.getHeader(IGNORE_REASON) + String.format(java.util.Locale.ROOT,
                    "; body cut to its first %,d of %,d characters", end, text.length()));
            text = text.substring(0, end);
        }
        in.setHeader("replyBody", text);
    }

    /** " of step s", or " of the compensation of step s" for an undo's attempt (its step may have completed long before). */
    private static String attemptOf(boolean compensation, String stepId) {
        return (compensation ? " of the compensation of step " : " of step ") + stepId;
    }

    /** The attempt an ignored reply answers, for {@link IgnoredReplyLines}: its {@code <row>:<attempt>}, or its correlation id. */
    private static String attemptOf(Message in) {
        Object row = in.getHeader(ROW_ID);
        return row == null ? String.valueOf(in.getHeader("JMSCorrelationID")) : row + ":" + in.getHeader("replyAttempt");
    }

    /**
     * When the broker stamped the reply, for the reason it was ignored: whether a reply the timeout sweep beat was sent
     * in time, or one a cancel beat came after it, is then told by the record, not by the agent's own log.
     */
    private static String arrival(Message in) {
        Long arrivedAt = in.getHeader(REPLY_ARRIVED_AT, Long.class);
        return arrivedAt == null ? "" : " (it reached the broker at " + Json.time(Instant.ofEpochMilli(arrivedAt)) + ")";
    }

    /** Whether the reply on {@code in} reached the broker after {@code deadline} (a timestamp; null: none). */
    static boolean arrivedPastDeadline(Message in, Object deadline) {
        Long arrivedAt = in.getHeader(REPLY_ARRIVED_AT, Long.class);
        return arrivedAt != null && deadline instanceof java.util.Date due && arrivedAt > due.getTime();
    }

    /** After find-attempt-error.sql (the body: the earlier attempt's error, or null): a cancel by request explains the reply. */
    private static void expectedIfCancelled(Exchange exchange) {
        Message in = exchange.getMessage();
        if (CANCELLED_BY_REQUEST.equals(in.getBody(String.class))) {
            boolean notUndone = in.getHeader(EARLIER_SUCCESS_WITH_UNDO) != null;
            if (!notUndone) {
                in.setHeader(IGNORED_AS_EXPECTED, true);
            }
            in.setHeader(IGNORE_REASON, in.getHeader(IGNORE_REASON) + " (attempt " + in.getHeader("replyAttempt") + ": "
                    + CANCELLED_BY_REQUEST + ")" + (notUndone ? "; its agent reports it done, and it is not undone: its compensation"
                    + " no longer waited for a reply, and the execution was retried since (undo it by hand if it must be)" : ""));
        }
        in.removeHeader(EARLIER_SUCCESS_WITH_UNDO);
        in.setBody(null);
    }

    /**
     * A reply whose correlation id names no step attempt has no execution or step: the insert still
     * needs those parameters (as NULL), or it fails and the reply is redelivered forever.
     */
    private static void nameUnknownStep(Exchange exchange) {
        if (exchange.getMessage().getHeader("correlationId") instanceof String correlationId) {
            exchange.getMessage().setHeader("correlationId", recordable(correlationId));
        }
        presentEvenIfNull(exchange.getMessage(), EXECUTION_ID);
        presentEvenIfNull(exchange.getMessage(), STEP_ID);
        presentEvenIfNull(exchange.getMessage(), ROW_ID);   // record-ignored-reply.sql names the row a reply answers
    }

    /**
     * A correlation id as ignored_replies can keep it (the agent's to write): U+0000 and unpaired surrogates as U+FFFD,
     * at most {@link #MAX_RECORDED_CORRELATION_ID} characters, cut short with "…" (a surrogate pair never split). Either
     * failed the insert at every delivery, an ERROR with its stack trace each time, until the broker dead-lettered the
     * reply (300 replies: 181,404 log lines in a minute).
     */
    static String recordable(String correlationId) {
        StringBuilder text = new StringBuilder(correlationId.length());
        correlationId.codePoints().forEach(c -> text.appendCodePoint(c == 0 || (c >= 0xD800 && c <= 0xDFFF) ? 0xFFFD : c));
        if (text.length() <= MAX_RECORDED_CORRELATION_ID) {
            return text.toString();
        }
        int cut = MAX_RECORDED_CORRELATION_ID - 1;
        if (Character.isHighSurrogate(text.charAt(cut - 1))) {
            cut--;
        }
        return text.substring(0, cut) + "\u2026";
    }

    /**
     * Row and attempt from the correlation id; when it also names a plain step of a loaded workflow,
     * everything its result route needs to settle the attempt without reading the row. A loop's reply
     * needs the row (its iteration and input), so it is judged against it.
     */
    private void readCorrelation(Exchange exchange) {
        Message in = exchange.getMessage();
        backlog.track(exchange, in.getHeader(CAUSE_MESSAGE_ID, String.class));
        if (in.getHeader(CORRELATION_ID) instanceof String id && id.indexOf('\0') >= 0) {
            // no attempt has it, and PostgreSQL takes no U+0000 as a parameter: looked up as it was, and recorded in the
            // reason that quotes it, it failed every delivery, an ERROR each time, until the broker dead-lettered the reply
            in.setHeader(CORRELATION_ID, id.replace('\0', '\uFFFD'));
        }
        StepRequests.Correlation correlation = StepRequests.parseCorrelation(in.getHeader(CORRELATION_ID, String.class));
        in.setHeader(ROW_ID, correlation == null ? null : correlation.rowId());
        in.setHeader("replyAttempt", correlation == null ? null : correlation.attempt());
        // the reply text is kept in REPLY_TEXT; camel-sql looks parameters up in a Map body first,
        // and a text body sends it down a slow type-conversion path on every parameter
        in.setBody(null);
        if (correlation == null || !correlation.namesStep()) {
            return;
        }
        catalog.forVersion(correlation.workflowId(), correlation.version()).ifPresent(workflow -> workflow.step(correlation.stepId())
                .filter(step -> !step.isLoop())
                .ifPresent(step -> {
                    in.setHeader(WORKFLOW_ID, correlation.workflowId());
                    in.setHeader(WORKFLOW_VERSION, workflow.versionOrDefault());
                    in.setHeader(ROUTE_KEY, workflow.id());
                    in.setHeader(STEP_ID, step.id());
                    in.setHeader(ATTEMPT, correlation.attempt());
                    in.setHeader(MAX_ATTEMPTS, correlation.maxAttempts());
                    in.setHeader(ITERATION, 0);
                    in.setHeader(AGENT, step.agent());
                    in.setHeader(ACTION, step.action());
                    in.setHeader(RESULT_ENDPOINT, Endpoints.result(workflow.id(), step.id()));
                }));
    }

    /**
     * For release-held-compensation.sql: whether the reply reports its attempt done ({@code heldDone}), and its output.
     * It is judged as a plain step's reply (a loop's too: what its agent did in that iteration).
     */
    private static void readHeldOutcome(Exchange exchange) {
        Message in = exchange.getMessage();
        StepOutcome outcome = StepOutcome.ofPlainStep(in, exchange.getProperty(REPLY_TEXT, String.class));
        boolean done = outcome.transition() == StepOutcome.Transition.COMPLETE;
        in.setHeader("heldDone", done);
        in.setHeader(OUTPUT, done ? outcome.outputJson() : null);
        in.setBody(null);
    }

    /** Whether a step row's error says its attempt was cut off by its execution's end: a cancel, or the execution's timeout. */
    static boolean cutOffByItsExecution(Object error) {
        return CANCELLED_BY_REQUEST.equals(error) || (error instanceof String text && text.startsWith("workflow timed out after "));
    }

    /** Accepts the reply only for the attempt in flight of a step of a known workflow. */
    @SuppressWarnings("unchecked")
    private void judge(Exchange exchange) {
        Message in = exchange.getMessage();
        Map<String, Object> row = in.getBody(Map.class);
        if (row == null) {
            in.setHeader(IGNORE_REASON, "no step attempt " + in.getHeader(CORRELATION_ID) + " exists");
            return;
        }
        String workflowId = (String) row.get("workflow_id");
        String stepId = (String) row.get("step_id");
        int attempt = ((Number) row.get("attempt")).intValue();
        StepStatus status = StepStatus.of((String) row.get("status"));
        in.setHeader(EXECUTION_ID, row.get("execution_id"));
        in.setHeader(WORKFLOW_ID, workflowId);
        in.setHeader(STEP_ID, stepId);
        in.setHeader(ATTEMPT, attempt);
        in.setHeader(MAX_ATTEMPTS, ((Number) row.get("max_attempts")).intValue());
        in.setHeader(ITERATION, ((Number) row.get("iteration")).intValue());
        in.setHeader(Headers.LOOP_ROUND_START, row.get("loop_round_start"));
        in.setHeader(INPUT, row.get("input"));
        in.setHeader(ATTEMPT_STARTED_AT, row.get("attempt_started_at"));
        in.setHeader(AGENT, row.get("agent"));
        in.setHeader(ACTION, row.get("action"));
        boolean compensation = "compensation".equals(row.get("kind"));
        Integer version = row.get("workflow_version") == null ? null : ((Number) row.get("workflow_version")).intValue();
        Optional<WorkflowDefinition> workflow = catalog.forVersion(workflowId, version);
        Optional<WorkflowStep> step = workflow.flatMap(w -> w.step(stepId));
        boolean known = step.isPresent();
        int replyAttempt = in.getHeader("replyAttempt", Integer.class);
        String routes = workflow.map(WorkflowDefinition::id).orElse(workflowId);
        in.setHeader(WORKFLOW_VERSION, workflow.map(WorkflowDefinition::versionOrDefault).orElse(version));
        in.setHeader(ROUTE_KEY, routes);
        in.setHeader(RESULT_ENDPOINT, compensation ? Endpoints.compensationResult(routes) : Endpoints.result(routes, stepId));
        if (!known) {
            in.setHeader(IGNORE_REASON, "workflow " + workflowId + (version == null ? "" : " version " + version)
                    + " step " + stepId + " is not loaded on this coordinator");
        } else if (status == StepStatus.RUNNING && replyAttempt == attempt && arrivedPastDeadline(in, row.get("deadline"))) {
            // an attempt's deadline is no later than its execution's (V46): when it is that one, the execution times out
            boolean executions = row.get("deadline").equals(row.get("execution_deadline"));
            in.setHeader(IGNORE_REASON, "late reply for attempt " + replyAttempt + attemptOf(compensation, stepId) + ": it reached the broker at "
                    + Json.time(Instant.ofEpochMilli(in.getHeader(REPLY_ARRIVED_AT, Long.class))) + ", after the attempt's deadline "
                    + Json.time(((java.util.Date) row.get("deadline")).toInstant())
                    + (executions ? ", its execution's; the execution times out" : "; the attempt is timed out"));
        } else if (status != StepStatus.RUNNING || replyAttempt != attempt) {
            Object error = row.get("error");
            if (CANCELLED_BY_REQUEST.equals(error) && replyAttempt == attempt) {
                in.setHeader(IGNORED_AS_EXPECTED, true);
            } else if (replyAttempt < attempt) {
                in.setHeader(EARLIER_ATTEMPT, true);
                if (!compensation && step.get().compensate() != null
                        && StepOutcome.reportsSuccess(exchange.getProperty(REPLY_TEXT, String.class))) {
                    // an attempt a cancel cut off, the execution retried since: what it reports done is not undone
                    in.setHeader(EARLIER_SUCCESS_WITH_UNDO, true);
                }
            }
            // an attempt past the step's latest was never sent: a correlation id the agent made up or changed, not a late reply
            String reason = (replyAttempt > attempt ? "reply for attempt " + replyAttempt + ", never sent," : "late or duplicate reply for attempt "
                    + replyAttempt) + attemptOf(compensation, stepId) + arrival(in)
                    + ", which is " + status.db() + " at attempt " + attempt + (error == null ? "" : " (" + error + ")");
            if (compensation && status == StepStatus.FAILED && replyAttempt == attempt
                    && StepOutcome.reportsSuccess(exchange.getProperty(REPLY_TEXT, String.class))) {
                // the saga counts this undo as failed (compensation_failed): an operator must not undo it by hand again
                reason += "; its agent reports the undo done after all: the execution still ends as if it failed (check"
                        + " before undoing step " + stepId + " by hand)";
            }
            boolean cutOffWithItsUndo = !compensation && status == StepStatus.FAILED && replyAttempt == attempt
                    && step.get().compensate() != null && cutOffByItsExecution(error);
            if (cutOffWithItsUndo && Boolean.TRUE.equals(row.get("compensation_held"))) {
                // its compensation waits for this reply (V47); should another release come first, the reason below stands
                in.setHeader(RELEASES_HOLD, true);
            }
            if (cutOffWithItsUndo && CANCELLED_BY_REQUEST.equals(error) && Boolean.TRUE.equals(row.get("reported_done"))
                    && StepOutcome.reportsSuccess(exchange.getProperty(REPLY_TEXT, String.class))) {
                // an earlier reply of this attempt reported it done after the cancel: that one had it undone (an INFO)
                reason += "; an earlier reply reported it done after the cancel, and it is undone with that reply's output";
            } else if (cutOffWithItsUndo && StepOutcome.reportsSuccess(exchange.getProperty(REPLY_TEXT, String.class))) {
                // what the agent did stands: a WARN, not the INFO of a reply that only came after a cancel
                in.removeHeader(IGNORED_AS_EXPECTED);
                reason += CANCELLED_BY_REQUEST.equals(error)
                        ? "; its agent reports it done, and it is not undone: its compensation no longer waited for a reply (an"
                          + " earlier reply, the attempt's deadline or its request taken back off the queue settled it; undo it by"
                          + " hand if it must be)"
                        : "; its agent reports it done, and it is not undone: a step in flight when its execution timed out gets"
                          + " no compensation (undo it by hand if it must be)";
            } else if (!compensation && status == StepStatus.FAILED && replyAttempt == attempt && step.get().compensate() != null
                    && error instanceof String text && text.startsWith("attempt " + attempt + " timed out")
                    && StepOutcome.reportsSuccess(exchange.getProperty(REPLY_TEXT, String.class))) {
                // the step failed by its last attempt's timeout: a saga undoes the steps that completed, not this one
                reason += "; its agent reports it done, and it is not undone: a step whose last attempt timed out gets no"
                        + " compensation (undo it by hand if it must be)";
            }
            in.setHeader(IGNORE_REASON, reason);
            // The step settled but what follows may not have run (a crash right after the commit):
            // running it again is harmless, every next step starts only from pending.
            if (status.isSettled() && replyAttempt == attempt) {
                in.setHeader(AFTER_DUPLICATE, compensation ? Endpoints.compensate(routes)
                        : step.get().isLoop() ? Endpoints.iterationResend(routes, stepId)
                        : Endpoints.done(routes, stepId));
            }
        }
    }
}
