package dev.agentcoordinator.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.engine.Headers;
import dev.agentcoordinator.engine.IgnoredFields;
import dev.agentcoordinator.engine.Json;
import dev.agentcoordinator.engine.QueuedRequests;
import dev.agentcoordinator.engine.Sql;
import dev.agentcoordinator.engine.StepOutcome;
import dev.agentcoordinator.engine.StepRequests;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

import java.util.Map;

import static dev.agentcoordinator.api.JsonResponse.respond;

/** POST /api/executions/{id}/steps/{step}/reply: a step reply from outside its agent (a person, a webhook). */
final class StepReplyApiRoutes extends ApiRouteBuilder {
    /** A step reply posted here that settles its attempt: the attempt's request, to take off its agent's queue. */
    private static final String ANSWERED_REQUEST = "answeredRequest";
    private final String replyQueue;
    private final BrokerSendGuard brokerSendGuard;
    /** coordinator.input.max-json-tokens: a posted step reply of more tokens is a 413. */
    private final int maxTokens;
    /** The send to the reply queue, bounded while the broker holds it back. */
    private final BoundedBrokerSend sends;

    StepReplyApiRoutes(String replyQueue, BrokerSendGuard brokerSendGuard, int maxTokens, BoundedBrokerSend sends) {
        this.replyQueue = replyQueue;
        this.brokerSendGuard = brokerSendGuard;
        this.maxTokens = maxTokens;
        this.sends = sends;
    }

    @Override
    protected void configureResource() {
        api()
                .post("/executions/{id}/steps/{step}/reply").description("a step reply from outside its agent (a person, a webhook):"
                        + " queued for the step's attempt in flight as its agent's reply would be, or its compensation's once it is undone")
                    .consumes(JSON).produces(JSON).to("direct:api.post-step-reply");

        from("direct:api.post-step-reply").routeId("api.post-step-reply")
                .process(brokerSendGuard)
                .process(this::checkStepReply)
                .setHeader(Headers.EXECUTION_ID, header("id"))
                .setHeader(Headers.STEP_ID, header("step"))
                .setBody(constant(null))
                .to(Sql.apiRow("find-step-in-flight"))
                .choice()
                    .when(body().isNull())
                        .process(ExecutionApiRoutes::noSuchExecution)
                    .when(e -> stepRow(e).get("row_id") == null)
                        .process(e -> respond(e, 404, ExecutionViews.error("execution " + e.getMessage().getHeader("id")
                                + " has no step " + e.getMessage().getHeader("step"))))
                    .when(e -> answeredKind(e) == null)
                        .process(e -> respond(e, 409, ExecutionViews.error("step " + e.getMessage().getHeader("step") + " of execution "
                                + e.getMessage().getHeader("id") + " is " + stepRow(e).get("status") + compensationState(stepRow(e))
                                + ", not waiting for a reply")))
                    .otherwise()
                        .process(StepReplyApiRoutes::addressStepReply)
                        // a reply that arrives twice settles its attempt once: the second is recorded and ignored
                        .process(sends.sendTo("jms:queue:" + replyQueue + "?exchangePattern=InOnly", "post the reply again"
                                + " later (a second reply for the attempt is recorded and ignored; a 409 then says the first settled it)"))
                        // answered here: its request, when no agent has taken it yet, is not for an agent to do any more
                        .filter(exchangeProperty(ANSWERED_REQUEST).isNotNull())
                            .bean(QueuedRequests.REGISTRY_NAME, "withdraw(${exchangeProperty." + ANSWERED_REQUEST + "})")
                        .end()
                        .process(e -> respond(e, 202, e.getProperty("accepted", String.class)))
                .end();
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
        String dropped = StepOutcome.droppedParts(reply);
        if (dropped != null) {
            // queued, they would be dropped with a WARN line only the operator sees, and the step settled without them
            throw new IllegalArgumentException("the step reply would lose what it carries: " + dropped.replace(": dropped", "")
                    + " (\"signals\" is a list of {\"signal_type\", \"data\"}, \"shared_memory\" an object)");
        }
        return reply;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> stepRow(Exchange exchange) {
        return exchange.getMessage().getBody(Map.class);
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
}
