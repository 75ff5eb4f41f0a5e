package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.definition.WorkflowCatalog;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Map;

/**
 * Builds the step request of CONTRACT.md section 2 from the headers of a dispatch and leaves only
 * the JMS headers an agent needs on the message.
 */
public final class StepRequests {

    private StepRequests() {
    }

    /** Correlation id of one attempt of one step row: the reply names exactly what it answers. */
    public static String correlationId(String rowId, int attempt) {
        return rowId + ":" + attempt;
    }

    /**
     * Correlation id of an attempt of a workflow step:
     * {@code <row>:<attempt>@<workflow>~v<version>/<step>/<max attempts>}. The suffix lets the reply be
     * judged and settled in one statement, without reading the step row first, by the routes of the
     * workflow version its execution runs on (ids are {@code [A-Za-z0-9_-]}, so no separator occurs
     * in them).
     */
    public static String correlationId(String rowId, int attempt, String workflowId, Integer version, String stepId,
                                       int maxAttempts) {
        return correlationId(rowId, attempt) + "@" + (version == null ? workflowId : WorkflowCatalog.versionKey(workflowId, version))
                + "/" + stepId + "/" + maxAttempts;
    }

    /**
     * What a reply's correlation id names; the workflow part is null for a plain {@code <row>:<attempt>},
     * the version null in the ids of coordinators before versions were kept.
     */
    public record Correlation(String rowId, int attempt, String workflowId, Integer version, String stepId, int maxAttempts) {
        public boolean namesStep() {
            return workflowId != null;
        }
    }

    /** Splits a correlation id back into its parts; null when it is not one of ours. */
    public static Correlation parseCorrelation(String correlationId) {
        if (correlationId == null) {
            return null;
        }
        int at = correlationId.indexOf('@');
        String attemptPart = at < 0 ? correlationId : correlationId.substring(0, at);
        int colon = attemptPart.lastIndexOf(':');
        if (colon <= 0) {
            return null;
        }
        try {
            String rowId = attemptPart.substring(0, colon);
            int attempt = Integer.parseInt(attemptPart.substring(colon + 1));
            if (at < 0) {
                return new Correlation(rowId, attempt, null, null, null, 0);
            }
            String[] step = correlationId.substring(at + 1).split("/", -1);
            if (step.length != 3 || step[0].isEmpty() || step[1].isEmpty()) {
                return null;
            }
            int tilde = step[0].indexOf("~v");
            String workflowId = tilde < 0 ? step[0] : step[0].substring(0, tilde);
            Integer version = tilde < 0 ? null : Integer.valueOf(step[0].substring(tilde + 2));
            if (workflowId.isEmpty()) {
                return null;
            }
            return new Correlation(rowId, attempt, workflowId, version, step[1], Integer.parseInt(step[2]));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * Replaces the message with the request for the attempt described by the headers. JMSReplyTo
     * names the durable reply queue; the endpoint must use preserveMessageQos so Camel keeps it on
     * an InOnly send instead of waiting for the reply itself.
     */
    public static void build(Exchange exchange, String replyQueue) {
        Message in = exchange.getMessage();
        int attempt = in.getHeader(Headers.ATTEMPT, Integer.class);
        ObjectNode request = Json.object();
        request.put("execution_id", in.getHeader(Headers.EXECUTION_ID, String.class));
        request.put("workflow_id", in.getHeader(Headers.WORKFLOW_ID, String.class));
        request.put("step_id", in.getHeader(Headers.STEP_ID, String.class));
        request.put("agent", in.getHeader(Headers.AGENT, String.class));
        request.put("action", in.getHeader(Headers.ACTION, String.class));
        boolean compensation = "compensation".equals(in.getHeader(Headers.KIND));
        if (compensation) {   // undoes step_id: an agent keying its work by step_id and attempt tells the two apart
            request.put("kind", "compensation");
        }
        request.put("attempt", attempt);
        request.put("iteration", in.getHeader(Headers.ITERATION, 0, Integer.class));
        Instant deadline = instant(in.getHeader(Headers.DEADLINE));
        if (deadline != null) {
            request.put("deadline", Json.time(deadline));
        }
        // input and context are JSON text that Jackson or PostgreSQL (jsonb) wrote: embedded as they
        // are, not parsed and written again on every request
        request.putRawValue("input", rawJson(in.getHeader(Headers.INPUT, String.class)));
        String context = in.getHeader(Headers.REQUEST_CONTEXT, String.class);
        if (context != null) {
            request.putRawValue("context", rawJson(context));
        }
        String progress = in.getHeader(Headers.PROGRESS, String.class);
        if (progress != null) {
            request.putRawValue("progress", rawJson(progress));   // a later attempt resumes from it
        }
        String rowId = in.getHeader(Headers.ROW_ID, String.class);
        Integer maxAttempts = in.getHeader(Headers.MAX_ATTEMPTS, Integer.class);
        String correlationId = maxAttempts == null || compensation
                ? correlationId(rowId, attempt)
                : correlationId(rowId, attempt, in.getHeader(Headers.WORKFLOW_ID, String.class),
                        in.getHeader(Headers.WORKFLOW_VERSION, Integer.class), in.getHeader(Headers.STEP_ID, String.class), maxAttempts);
        in.removeHeaders("*");
        in.setHeader(Headers.CORRELATION_ID, correlationId);
        in.setHeader("JMSReplyTo", replyQueue);
        in.setHeader("JMSDeliveryMode", jakarta.jms.DeliveryMode.PERSISTENT);
        in.setBody(Json.write(request));
    }

    /** JSON text to embed; null or blank (a column never written) is an empty object, as {@link Json#parse} reads it. */
    private static com.fasterxml.jackson.databind.util.RawValue rawJson(String json) {
        return new com.fasterxml.jackson.databind.util.RawValue(json == null || json.isBlank() ? "{}" : json);
    }

    static Instant instant(Object value) {
        if (value instanceof Timestamp t) {
            return t.toInstant();
        }
        if (value instanceof OffsetDateTime o) {
            return o.toInstant();
        }
        if (value instanceof Instant i) {
            return i;
        }
        return value == null ? null : Instant.parse(value.toString());
    }
}
