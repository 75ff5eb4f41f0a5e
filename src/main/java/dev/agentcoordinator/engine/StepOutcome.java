package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.definition.LoopSpec;
import dev.agentcoordinator.definition.Operator;
import dev.agentcoordinator.definition.WorkflowStep;

import java.util.Map;

/**
 * Turns an agent's reply into the one transition of the step row it answers:
 * complete, fail, retry later, or (loops) complete this iteration and start the next.
 * {@code ignoredFields} says which of the reply's fields were not read (null when none).
 */
public record StepOutcome(Transition transition, String outputJson, String error, String nextInputJson,
                          String sharedMemoryJson, String signalsJson, IgnoredFields.Ignored ignoredFields) {

    public enum Transition { COMPLETE, FAIL, RETRY, ITERATE }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(StepOutcome.class);

    /** execution_signals.signal_type is varchar(200), as an event's type: a longer one failed the reply's transaction. */
    static final int MAX_SIGNAL_TYPE_LENGTH = 200;

    /** The statuses a reply may carry: a result, an error, or a heartbeat. */
    public static final java.util.List<String> REPLY_STATUSES = java.util.List.of("ok", "error", "running");

    /**
     * A reply judged as a plain step's (no loop, no condition), by the step's id and the attempt headers on {@code in}
     * (ATTEMPT, MAX_ATTEMPTS, INPUT): a compensation's reply, or the reply of an attempt a cancel cut off.
     */
    static StepOutcome ofPlainStep(org.apache.camel.Message in, String replyText) {
        WorkflowStep plain = new WorkflowStep(in.getHeader(Headers.STEP_ID, String.class), null, null, null, null, null, null, null,
                null, null, null);
        return of(plain, replyText, in.getHeader(Headers.ATTEMPT, Integer.class), in.getHeader(Headers.MAX_ATTEMPTS, Integer.class),
                0, in.getHeader(Headers.INPUT, String.class));
    }

    /**
     * @param replyText   the reply body as received
     * @param attempt     the attempt the reply answers
     * @param maxAttempts attempts allowed for the step
     * @param iteration   loop iteration the reply answers, counted from where its loop's iterations started (0 for plain
     *                    steps; a retry of the execution starts them again at the iteration it resumes, see {@link Headers#LOOP_ROUND_START})
     * @param inputJson   the input that iteration ran with
     */
    public static StepOutcome of(WorkflowStep step, String replyText, int attempt, int maxAttempts, int iteration, String inputJson) {
        if (replyText == null || replyText.isBlank()) {
            return failure("agent reply is empty: a reply is a JSON object with a \"status\" (docs/agent-protocol.md)", true,
                    attempt, maxAttempts);
        }
        JsonNode reply;
        try {
            reply = Json.parseStrict(replyText);   // a key given twice is the agent's mistake, not the last one winning
        } catch (IllegalArgumentException e) {
            return failure("agent replied with malformed JSON: " + e.getMessage(), true, attempt, maxAttempts);
        }
        String unstorable = Json.unstorable(reply, Json.REPLY_MAX_DEPTH);
        if (unstorable != null) {
            return failure("agent reply " + unstorable, true, attempt, maxAttempts);
        }
        if (!reply.isObject()) {
            return failure("agent reply must be a JSON object, got " + reply.getNodeType().toString().toLowerCase(java.util.Locale.ROOT),
                    true, attempt, maxAttempts);
        }
        String status = reply.path("status").asText("");
        IgnoredFields.Ignored ignored = reply.isObject() ? ignoredFieldsOf(reply).orElse(null) : null;
        String dropped = droppedParts(reply);
        if (dropped != null) {
            ignored = withNote(ignored, dropped);
        }
        if ("error".equals(status)) {
            String error = errorText(reply.path("error"));
            Boolean readable = retryableOf(reply);
            if (readable == null) {   // "no", 0: not read as false, which only false says; named in a WARN line
                ignored = withNote(ignored, "\"retryable\": " + reply.get("retryable") + " is neither true nor false, and is"
                        + " taken as true (the attempt is retried while attempts are left)");
            }
            StepOutcome failed = failure(error, readable == null || readable, attempt, maxAttempts);
            // what it signals or shares goes to the execution's context all the same
            return new StepOutcome(failed.transition, null, error, null,
                    reply.path("shared_memory").isObject() ? Json.write(reply.get("shared_memory")) : "{}",
                    signals(reply.path("signals")), ignored);
        }
        if (!"ok".equals(status)) {
            return failure("agent reply has status " + (status.isEmpty() ? "(missing)" : '"' + status + '"')
                    + ", expected \"ok\" or \"error\" (or \"running\" for a heartbeat)"
                    + (status.isEmpty() && reply.isObject() ? IgnoredFields.REPLY.standInFor(reply, "status") : ""), true, attempt, maxAttempts)
                    .noting(ignored);
        }
        JsonNode output = reply.path("output");
        if (!output.isObject()) {
            output = output.isMissingNode() || output.isNull() ? Json.object() : Json.object().set("value", output);
        }
        String outputJson = Json.write(output);
        String sharedMemory = reply.path("shared_memory").isObject() ? Json.write(reply.get("shared_memory")) : "{}";
        String signals = signals(reply.path("signals"));
        LoopSpec loop = step.loop();
        if (loop == null || untilHolds(loop, output)) {
            return new StepOutcome(Transition.COMPLETE, outputJson, null, null, sharedMemory, signals, ignored);
        }
        if (iteration + 1 < loop.maxIterations()) {
            // a loop over several steps: the feedback alone, which the statement lays over its first step's last input
            String base = loop.repeatsFromAnother(step.id()) ? "{}" : inputJson;
            return new StepOutcome(Transition.ITERATE, outputJson, null, nextInput(loop, base, output), sharedMemory, signals, ignored);
        }
        if (Boolean.TRUE.equals(loop.failWhenExhausted())) {
            return new StepOutcome(Transition.FAIL, outputJson,
                    "loop ended after " + loop.maxIterations() + " iterations without satisfying its until condition ("
                            + untilAsItWas(loop, output) + ")", null,
                    sharedMemory, signals, ignored);
        }
        return new StepOutcome(Transition.COMPLETE, outputJson, null, null, sharedMemory, signals, ignored);
    }

    /**
     * A heartbeat, {@code {"status": "running"}}: the agent is still working on the attempt. Asked of
     * every reply, so the text is searched before it is parsed.
     */
    public static boolean isHeartbeat(String replyText) {
        if (replyText == null || !replyText.contains("\"running\"")) {
            return false;
        }
        try {
            // strict, as StepOutcome.of reads a reply: a "status" given twice is the agent's mistake, not a heartbeat
            return "running".equals(Json.parseStrict(replyText).path("status").asText());
        } catch (IllegalArgumentException malformed) {
            return false;
        }
    }

    /** A reply that says its work is done, {@code {"status": "ok", …}}; off the per-step path (asked of ignored replies). */
    public static boolean reportsSuccess(String replyText) {
        try {
            return replyText != null && "ok".equals(Json.parseStrict(replyText).path("status").asText());
        } catch (IllegalArgumentException malformed) {
            return false;
        }
    }

    /**
     * The {@code progress} a heartbeat carries, as JSON text; null when it has none (or it is JSON null).
     * Progress PostgreSQL cannot store as sent is not kept (a WARN naming the heartbeat's correlation id says so): the
     * heartbeat still counts, and the progress reported before stays. Only asked of heartbeats, off the per-step path.
     */
    public static String heartbeatProgress(String heartbeatText) {
        return heartbeatProgress(heartbeatText, null);
    }

    /** As {@link #heartbeatProgress(String)}, of the heartbeat with this correlation id. */
    public static String heartbeatProgress(String heartbeatText, Object correlationId) {
        return storableProgress(Json.parse(heartbeatText), "heartbeat", correlationId);
    }

    /**
     * The {@code progress} an error reply carries, as JSON text, or null (none, or not an error reply): kept as a
     * heartbeat's, so that a retry resumes from it. Off the per-step path: asked of replies that fail their attempt.
     */
    static String errorReplyProgress(String replyText, Object correlationId) {
        if (replyText == null || !replyText.contains("\"progress\"")) {
            return null;
        }
        JsonNode reply;
        try {
            reply = Json.parseStrict(replyText);
        } catch (IllegalArgumentException malformed) {
            return null;
        }
        return "error".equals(reply.path("status").asText()) ? storableProgress(reply, "error reply", correlationId) : null;
    }

    private static String storableProgress(JsonNode message, String kind, Object correlationId) {
        JsonNode progress = message.get("progress");
        if (progress == null || progress.isNull()) {
            return null;
        }
        String unstorable = Json.unstorable(progress);
        if (unstorable != null) {   // the progress reported before stays: a retry still gets the last good one
            LOG.warn("A {}'s progress {}: not kept, the progress reported before stays ({} {})", kind, LogText.oneLine(unstorable), kind,
                    correlationId == null ? "without a correlation id" : LogText.oneLine(correlationId.toString()));
            return null;
        }
        return Json.write(progress);
    }

    /**
     * What {@link #signals} and the shared memory drop of a reply, said in a WARN line, or null: a {@code shared_memory}
     * that is not an object, {@code signals} that are not a list, a signal without a {@code signal_type} string (a
     * {@code "type"} in its place). Without it an agent's signal vanished without a word. A reply posted over HTTP with
     * such parts is refused instead (its sender can send it again corrected).
     */
    public static String droppedParts(JsonNode reply) {
        java.util.List<String> dropped = new java.util.ArrayList<>(2);
        JsonNode shared = reply.path("shared_memory");
        if (!shared.isMissingNode() && !shared.isNull() && !shared.isObject()) {
            dropped.add("\"shared_memory\" is " + kindOf(shared) + ", not an object: dropped");
        }
        JsonNode signals = reply.path("signals");
        if (!signals.isMissingNode() && !signals.isNull() && !signals.isArray()) {
            dropped.add("\"signals\" is " + kindOf(signals) + ", not a list: dropped");
        } else if (signals.isArray()) {
            for (int i = 0; i < signals.size(); i++) {
                JsonNode signal = signals.get(i);
                if (!signal.path("signal_type").isTextual()) {
                    dropped.add("signals[" + i + "] has no \"signal_type\" string" + (signal.has("type") ? " (it has \"type\")" : "")
                            + ": dropped");
                } else if (signal.path("signal_type").textValue().length() > MAX_SIGNAL_TYPE_LENGTH) {
                    dropped.add("signals[" + i + "] has a \"signal_type\" of " + signal.path("signal_type").textValue().length()
                            + " characters, at most " + MAX_SIGNAL_TYPE_LENGTH + ": dropped");
                }
            }
        }
        return dropped.isEmpty() ? null : String.join("; ", dropped);
    }

    private static String kindOf(JsonNode value) {
        String kind = value.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        return (kind.startsWith("a") || kind.startsWith("o") ? "an " : "a ") + kind;
    }

    /** Only well-formed signals ({@code signal_type} a string of at most 200 characters) are kept; the rest is dropped. */
    private static String signals(JsonNode signals) {
        com.fasterxml.jackson.databind.node.ArrayNode kept = Json.MAPPER.createArrayNode();
        if (signals.isArray()) {
            for (JsonNode signal : signals) {
                if (signal.path("signal_type").isTextual() && signal.path("signal_type").textValue().length() <= MAX_SIGNAL_TYPE_LENGTH) {
                    kept.add(signal);
                }
            }
        }
        return Json.write(kept);
    }

    /** The agent's error as it wrote it (CONTRACT.md section 2): the attempt it failed is the row's own. */
    private static StepOutcome failure(String error, boolean retryable, int attempt, int maxAttempts) {
        boolean again = retryable && attempt < maxAttempts;
        return new StepOutcome(again ? Transition.RETRY : Transition.FAIL, null, error, null, "{}", "[]", null);
    }

    /**
     * An error reply's {@code retryable}: true when it is left out or null, else what it says as the boolean or as the
     * text {@code "true"} / {@code "false"}; null when it says neither (a number, another text).
     */
    public static Boolean retryableOf(JsonNode reply) {
        JsonNode value = reply.path("retryable");
        if (value.isMissingNode() || value.isNull()) {
            return true;
        }
        if (value.isBoolean()) {
            return value.booleanValue();
        }
        if (value.isTextual() && (value.textValue().equals("true") || value.textValue().equals("false"))) {
            return Boolean.valueOf(value.textValue());
        }
        return null;
    }

    private static IgnoredFields.Ignored withNote(IgnoredFields.Ignored ignored, String note) {
        return new IgnoredFields.Ignored(ignored == null ? note : ignored.text() + "; " + note, true);
    }

    /**
     * A reply's fields that are not read, with the field a misspelt one may stand for among those its status
     * reads (an ok reply's "errors" is not taken for "error").
     */
    public static java.util.Optional<IgnoredFields.Ignored> ignoredFieldsOf(JsonNode reply) {
        return IgnoredFields.REPLY.describe(reply, switch (reply.path("status").asText("")) {
            case "ok" -> OK_FIELDS;
            case "error" -> ERROR_FIELDS;
            case "running" -> HEARTBEAT_FIELDS;
            default -> IgnoredFields.REPLY_FIELDS;
        });
    }

    private static final java.util.List<String> OK_FIELDS = java.util.List.of("status", "output", "signals", "shared_memory");
    private static final java.util.List<String> ERROR_FIELDS = java.util.List.of("status", "error", "retryable", "signals", "shared_memory");
    private static final java.util.List<String> HEARTBEAT_FIELDS = java.util.List.of("status", "progress");

    /**
     * Names the reply's fields that were not read, if any: a WARN when one looks misspelt (an {@code "outputs"}
     * left the step's output empty), else a DEBUG line (probably the agent's own).
     */
    public void warnOfIgnoredFields(Object correlationId, String stepId) {
        if (ignoredFields != null && ignoredFields.misspelt()) {
            LOG.warn("Reply {} to step {}: {}", LogText.oneLine(correlationId), stepId, LogText.oneLine(ignoredFields.text()));
        } else if (ignoredFields != null) {
            LOG.debug("Reply {} to step {}: {}", LogText.oneLine(correlationId), stepId, LogText.oneLine(ignoredFields.text()));
        }
    }

    private StepOutcome noting(IgnoredFields.Ignored ignored) {
        return ignored == null ? this : new StepOutcome(transition, outputJson, error, nextInputJson, sharedMemoryJson, signalsJson, ignored);
    }

    /** The most characters of the value an until condition read that a progress line or a loop's error repeats. */
    static final int MAX_VERDICT_VALUE_CHARS = 200;

    /** The loop's until condition and what the output held, as the progress log tells it: {@code score gte 0.85, was 0.5}. */
    static String untilAsItWas(LoopSpec loop, JsonNode output) {
        LoopSpec.LoopCondition until = loop.until();
        JsonNode actual = Json.at(output, until.outputKey());
        String was = Json.isPresent(actual) ? actual.toString() : actual != null && actual.isNull() ? "null" : "absent";
        if (was.length() > MAX_VERDICT_VALUE_CHARS) {   // an output key may hold a whole document: it went into every progress line and the error
            int cut = Character.isHighSurrogate(was.charAt(MAX_VERDICT_VALUE_CHARS - 1)) ? MAX_VERDICT_VALUE_CHARS - 1 : MAX_VERDICT_VALUE_CHARS;
            was = was.substring(0, cut) + String.format(java.util.Locale.ROOT, "… (%,d characters)", was.length());
        }
        return until.outputKey() + " " + until.operator() + (until.value() == null ? "" : " " + until.value()) + ", was " + was;
    }

    /** As {@link #untilAsItWas(LoopSpec, JsonNode)}, of an output as JSON text. */
    static String untilAsItWas(LoopSpec loop, String outputJson) {
        return untilAsItWas(loop, Json.parse(outputJson));
    }

    private static boolean untilHolds(LoopSpec loop, JsonNode output) {
        LoopSpec.LoopCondition until = loop.until();
        Operator operator = Operator.parse(until.operator()).orElseThrow();
        return operator.test(Json.at(output, until.outputKey()), until.value());
    }

    /** The previous input, with the feedback keys taken from the previous iteration's output. */
    private static String nextInput(LoopSpec loop, String inputJson, JsonNode output) {
        ObjectNode next = Json.parse(inputJson).deepCopy() instanceof ObjectNode o ? o : Json.object();
        for (Map.Entry<String, String> feedback : loop.feedback().entrySet()) {
            JsonNode value = Json.at(output, feedback.getValue());
            if (!value.isMissingNode()) {
                next.set(feedback.getKey(), value);
            }
        }
        next.set(LoopSpec.PREVIOUS_ITERATION_OUTPUT, output);
        return Json.write(next);
    }

    /**
     * An error reply's message: its text, or what the agent wrote when that is not text (an object, a number) as JSON,
     * which was stored as an empty message.
     */
    static String errorText(JsonNode error) {
        if (error.isTextual()) {
            return error.asText().isBlank() ? NO_ERROR_MESSAGE : error.asText();
        }
        return error.isMissingNode() || error.isNull() ? NO_ERROR_MESSAGE : Json.write(error);
    }

    private static final String NO_ERROR_MESSAGE = "agent reported an error without a message";
}
