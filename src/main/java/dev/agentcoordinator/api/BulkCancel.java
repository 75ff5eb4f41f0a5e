package dev.agentcoordinator.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.engine.Headers;
import dev.agentcoordinator.engine.Json;
import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code POST /api/executions/cancel}: many executions cancelled in one call, each as {@code POST
 * /api/executions/{id}/cancel} cancels it (its steps stopped, its compensation started, its outcome event sent).
 * The body names them, {@code {"execution_ids": [...]}}, or names a workflow, {@code {"workflow_id", "version",
 * "limit"}}: its running executions (of that version), oldest first, at most {@code limit} (100; up to 1000) a call,
 * {@code "more": true} telling that others are left. The answer says of each execution whether it was cancelled.
 */
final class BulkCancel {
    static final String EXECUTION_IDS = "bulkCancelIds";
    static final int MAX = 1000;
    private static final int DEFAULT_LIMIT = 100;
    private static final Set<String> FIELDS = Set.of("execution_ids", "workflow_id", "version", "limit");
    /** Set when the request names a workflow: its running executions are looked up. */
    static final String BY_WORKFLOW = "bulkCancelByWorkflow";
    private static final String MORE = "bulkCancelMore";
    private static final String WARNING = "bulkCancelWarning";
    /** The execution a part of the split cancels. */
    static final String CANCELLING = "bulkCancelling";

    private BulkCancel() {
    }

    /** Reads the request body into the headers the route goes on with; refuses (400) what it cannot read. */
    static void readRequest(Exchange exchange) {
        Message in = exchange.getMessage();
        String body = in.getBody(String.class);
        JsonNode request;
        try {
            request = Json.parse(body == null || body.isBlank() ? "null" : body);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the cancel request is " + e.getMessage());
        }
        if (!request.isObject()) {
            throw new IllegalArgumentException("the cancel request is a JSON object: {\"execution_ids\": [...]}"
                    + " or {\"workflow_id\": ..., \"version\": ..., \"limit\": ...}");
        }
        List<String> unknown = new ArrayList<>();
        request.fieldNames().forEachRemaining(name -> {
            if (!FIELDS.contains(name)) {
                unknown.add(name);
            }
        });
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown field(s) " + unknown + " (known: execution_ids, workflow_id, version, limit)");
        }
        String unstorable = Json.unstorable(request);   // U+0000 in a workflow_id failed in PostgreSQL: a 500, not a 400
        if (unstorable != null) {
            throw new IllegalArgumentException("the cancel request " + unstorable);
        }
        boolean named = request.has("execution_ids");
        boolean ofAWorkflow = request.has("workflow_id");
        if (named == ofAWorkflow) {
            throw new IllegalArgumentException("name the executions to cancel either by \"execution_ids\" or by \"workflow_id\""
                    + " (with \"version\" and \"limit\"), " + (named ? "not both" : "found neither"));
        }
        in.removeHeaders("*");
        in.setBody(null);
        if (named) {
            in.setHeader(EXECUTION_IDS, executionIds(request.get("execution_ids"), request));
            return;
        }
        JsonNode workflow = request.get("workflow_id");
        if (!workflow.isTextual() || workflow.asText().isBlank()) {
            throw new IllegalArgumentException("\"workflow_id\" is a workflow's id (a string), got " + workflow);
        }
        in.setHeader(BY_WORKFLOW, true);
        in.setHeader(Headers.WORKFLOW_ID, workflow.asText());
        in.setHeader(Headers.WORKFLOW_VERSION, request.has("version") ? positive(request.get("version"), "version", Integer.MAX_VALUE) : null);
        in.setHeader("limit", request.has("limit") ? positive(request.get("limit"), "limit", MAX) : DEFAULT_LIMIT);
    }

    private static List<String> executionIds(JsonNode ids, JsonNode request) {
        if (request.has("version") || request.has("limit")) {
            throw new IllegalArgumentException("\"version\" and \"limit\" go with \"workflow_id\", not with \"execution_ids\"");
        }
        if (!ids.isArray() || ids.isEmpty() || ids.size() > MAX) {
            throw new IllegalArgumentException("\"execution_ids\" is a list of 1 to " + MAX + " execution ids, got "
                    + (ids.isArray() ? ids.size() + " of them" : ids.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
        }
        Set<String> distinct = new LinkedHashSet<>();
        for (JsonNode id : ids) {
            if (!id.isTextual() || id.asText().isBlank()) {
                throw new IllegalArgumentException("\"execution_ids\" holds execution ids (strings), got " + id);
            }
            distinct.add(id.asText());
        }
        return List.copyOf(distinct);
    }

    private static int positive(JsonNode value, String field, int max) {
        if (!value.canConvertToExactIntegral() || !value.canConvertToInt() || value.asInt() < 1 || value.asInt() > max) {
            throw new IllegalArgumentException("\"" + field + "\" is an integer from 1" + (max == MAX ? " to " + MAX : "") + ", got " + value);
        }
        return value.asInt();
    }

    /** After find-cancellable-executions.sql (one more row than the limit when more are left): the ids to cancel. */
    @SuppressWarnings("unchecked")
    static void keepPage(Exchange exchange) {
        Message in = exchange.getMessage();
        List<Map<String, Object>> rows = in.getBody(List.class);
        int limit = in.getHeader("limit", Integer.class);
        List<String> ids = rows.stream().limit(limit).map(row -> (String) row.get("id")).toList();
        in.setHeader(EXECUTION_IDS, ids);
        exchange.setProperty(MORE, rows.size() > limit);
    }

    /**
     * A workflow no loaded definition has, with nothing of it running, is named in a warning (a misspelt id was
     * answered as if the workflow had nothing to cancel).
     */
    static void warnOfAnUnknownWorkflow(Exchange exchange, java.util.Collection<String> loaded) {
        String workflowId = exchange.getMessage().getHeader(Headers.WORKFLOW_ID, String.class);
        List<?> ids = exchange.getMessage().getHeader(EXECUTION_IDS, List.class);
        if (ids.isEmpty() && !loaded.contains(workflowId)) {
            exchange.setProperty(WARNING, "no loaded workflow has the id \"" + workflowId + "\""
                    + dev.agentcoordinator.definition.Spelling.closest(workflowId, loaded, Math.min(2, workflowId.length() / 3))
                            .map(meant -> ": did you mean \"" + meant + "\"?").orElse(""));
        }
    }

    /**
     * Collects each cancel's answer (its HTTP status and body, as POST /api/executions/{id}/cancel gave them) into the
     * body of the aggregate: {@code {"cancelled": [...], "not_cancelled": [...]}}.
     */
    static final class Outcomes implements AggregationStrategy {
        @Override
        public Exchange aggregate(Exchange collected, Exchange one) {
            String id = one.getProperty(CANCELLING, String.class);
            int status = one.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, 500, Integer.class);
            JsonNode answer = Json.parse(one.getMessage().getBody(String.class));
            Exchange into = collected == null ? one : collected;
            ObjectNode outcomes = collected == null ? emptyOutcomes() : into.getMessage().getBody(ObjectNode.class);
            if (status == 200) {
                ((ArrayNode) outcomes.get("cancelled")).add(answer);
            } else {
                ((ArrayNode) outcomes.get("not_cancelled")).addObject().put("execution_id", id).put("status_code", status)
                        .put("error", answer.path("error").asText());
            }
            into.getMessage().setBody(outcomes);
            return into;
        }
    }

    private static ObjectNode emptyOutcomes() {
        ObjectNode outcomes = Json.object();
        outcomes.putArray("cancelled");
        outcomes.putArray("not_cancelled");
        return outcomes;
    }

    /** The answer (after the split; its body the outcomes, or none when nothing was to cancel), and whether more are left. */
    static void respond(Exchange exchange) {
        ObjectNode outcomes = exchange.getMessage().getBody() instanceof ObjectNode collected ? collected : emptyOutcomes();
        outcomes.put("more", Boolean.TRUE.equals(exchange.getProperty(MORE, Boolean.class)));
        if (exchange.getProperty(WARNING) != null) {
            outcomes.put("warning", exchange.getProperty(WARNING, String.class));
        }
        JsonResponse.respond(exchange, 200, Json.write(outcomes));
    }
}
