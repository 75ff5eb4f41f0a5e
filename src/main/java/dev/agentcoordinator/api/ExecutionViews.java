package dev.agentcoordinator.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.engine.Json;

import java.sql.Timestamp;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Turns rows of the state tables into the JSON documents of the HTTP API. */
final class ExecutionViews {
    /** The column list_executions gives each row's position in (see {@link ListingCursor}). */
    private static final String PAGE_CURSOR = "page_cursor";
    private static final String COMPENSATION = "compensation";
    private static final Set<String> JSON_COLUMNS = Set.of("trigger_payload", "result", "input", "output", "progress");

    private ExecutionViews() {
    }

    /**
     * The spec's getExecutionStatus: the execution, with every step row, each with its attempts (rows of
     * get-execution-attempts.sql, first attempt first), and its compensations apart.
     */
    /** Ignored replies shown with an execution, the newest (get-execution-ignored-replies.sql reads one more). */
    static final int IGNORED_REPLIES_SHOWN = 20;

    static String execution(Map<String, Object> execution, List<Map<String, Object>> steps, List<Map<String, Object>> attempts,
                            List<Map<String, Object>> ignoredReplies, WorkflowDefinition definition, boolean withOutputs) {
        Map<List<Object>, ArrayNode> attemptsByStep = new HashMap<>();
        for (Map<String, Object> attempt : attempts) {
            Map<String, Object> row = new LinkedHashMap<>(attempt);
            List<Object> step = List.of(row.remove("step_id"), row.remove("iteration"), row.remove("kind"));
            attemptsByStep.computeIfAbsent(step, key -> Json.array()).add(object(row));
        }
        ObjectNode view = object(execution);
        view.put("execution_id", (String) execution.get("id"));
        view.path("result").forEach(ExecutionViews::timesInUtc);   // each step's StepResult, as PostgreSQL wrote it
        // a compensation's row names the step it undoes: listed apart, so that a step id names one entry of
        // "steps" (one per loop iteration), as CONTRACT.md's one row per step and iteration
        ArrayNode stepViews = view.putArray("steps");
        ArrayNode compensationViews = view.putArray("compensations");
        steps.forEach(step -> {
            ArrayNode stepAttempts = attemptsByStep.get(List.of(step.get("step_id"), step.get("iteration"), step.get("kind")));
            (COMPENSATION.equals(step.get("kind")) ? compensationViews : stepViews)
                    .add(object(step).set("attempts", stepAttempts != null ? stepAttempts : Json.array()));
        });
        if (definition != null) {
            nameUnsettledDependencies(stepViews, definition);
            nameUnsettledDependentsUndo(compensationViews, new dev.agentcoordinator.definition.StepGraph(definition));
        }
        // what an agent sent that settled nothing (late, a duplicate, for another attempt): before, only the log and
        // the table told an agent's developer why a reply had no effect
        ArrayNode ignored = view.putArray("ignored_replies");
        ignoredReplies.stream().limit(IGNORED_REPLIES_SHOWN).forEach(reply -> ignored.add(object(reply)));
        view.put("ignored_replies_more", ignoredReplies.size() > IGNORED_REPLIES_SHOWN);
        if (!withOutputs) {   // ?outputs=false: the statements read none of them; the keys go too, not a null that reads "none"
            view.remove(List.of("trigger_payload", "result"));
            for (ArrayNode rows : List.of(stepViews, compensationViews)) {
                rows.forEach(row -> ((ObjectNode) row).remove(List.of("input", "output", "progress")));
            }
            view.put("outputs", false);
        }
        return Json.write(view);
    }

    /**
     * A pending step that waits for nothing else (no lock holder, no next attempt) waits for its dependencies: its
     * {@code waiting_for} names those whose latest row has not settled, as it names a lock's holder, so that why a step
     * has not started is read from the view, not worked out from the definition.
     */
    private static void nameUnsettledDependencies(ArrayNode stepViews, WorkflowDefinition definition) {
        Map<String, String> latestStatus = new HashMap<>();
        Map<String, Integer> latestIteration = new HashMap<>();
        stepViews.forEach(step -> {
            String id = step.path("step_id").asText();
            int iteration = step.path("iteration").asInt();
            if (iteration >= latestIteration.getOrDefault(id, -1)) {
                latestIteration.put(id, iteration);
                latestStatus.put(id, step.path("status").asText());
            }
        });
        stepViews.forEach(step -> {
            if (waitsForNothingNamed(step)) {
                definition.step(step.path("step_id").asText()).ifPresent(declared -> {
                    List<String> unsettled = declared.dependsOn().stream()
                            .filter(dependency -> !SETTLED.contains(latestStatus.getOrDefault(dependency, "pending")))
                            .toList();
                    if (!unsettled.isEmpty()) {
                        ((ObjectNode) step).put("waiting_for", "dependencies " + String.join(", ", unsettled) + " to settle");
                    }
                });
            }
        });
    }

    /**
     * A pending compensation that waits for nothing else (no lock holder, no next attempt) waits for the compensations
     * of the steps that depended on its step, directly or not (the saga unwinds in reverse): its {@code waiting_for}
     * names those not settled yet.
     */
    private static void nameUnsettledDependentsUndo(ArrayNode compensationViews, dev.agentcoordinator.definition.StepGraph graph) {
        compensationViews.forEach(compensation -> {
            if (waitsForNothingNamed(compensation)) {
                String undone = compensation.path("step_id").asText();
                List<String> unsettled = new java.util.ArrayList<>();
                compensationViews.forEach(other -> {
                    String dependent = other.path("step_id").asText();
                    if (!SETTLED.contains(other.path("status").asText()) && graph.isAncestor(undone, dependent)) {
                        unsettled.add(dependent);
                    }
                });
                if (!unsettled.isEmpty()) {
                    ((ObjectNode) compensation).put("waiting_for", "compensations of " + String.join(", ", unsettled) + " to settle");
                }
            }
        });
    }

    private static boolean waitsForNothingNamed(JsonNode row) {
        return "pending".equals(row.path("status").asText()) && row.path("waiting_for").isNull()
                && row.path("next_attempt_at").isNull() && row.path("error").isNull();
    }

    private static final Set<String> SETTLED = Set.of("completed", "failed", "skipped");

    /**
     * A page of a listing (executions, events): its rows under {@code key}, their {@code count}, and {@code next}, the
     * cursor of its last row when the page is full (there may be more), else null.
     */
    static String page(String key, List<Map<String, Object>> rows, int limit, String warning) {
        ObjectNode view = Json.object();
        ArrayNode items = view.putArray(key);
        rows.forEach(e -> {
            Map<String, Object> row = new LinkedHashMap<>(e);
            row.remove(PAGE_CURSOR);
            ObjectNode item = object(row);
            if (item.has("id") && "executions".equals(key)) {   // both its id, as GET /api/executions/{id} has them
                item.set("execution_id", item.get("id"));
            }
            items.add(item);
        });
        view.put("count", rows.size());
        view.put("next", rows.size() < limit ? null
                : ListingCursor.handOut(key, (String) rows.get(rows.size() - 1).get(PAGE_CURSOR)));
        if (warning != null) {
            view.put("warning", warning);
        }
        return Json.write(view);
    }

    /**
     * A view PostgreSQL built (jsonb as text: an object, or an array of them), as the coordinator's own views are written:
     * the times among its own fields ({@code *_at}) as instants in UTC, {@code 2026-12-05T19:00:00.123000Z} (PostgreSQL
     * writes them in the session's time zone, {@code +00:00} or {@code +01:00}), and compact. What it holds (a payload,
     * a response) is left as it was sent.
     */
    static JsonNode fromDatabase(String jsonText) {
        JsonNode view;
        try {
            view = EXACT.readTree(jsonText);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("PostgreSQL's view is not JSON: " + e.getMessage(), e);
        }
        if (view instanceof ArrayNode rows) {
            rows.forEach(ExecutionViews::timesInUtc);
        } else {
            timesInUtc(view);
        }
        return view;
    }

    /** Numbers as PostgreSQL wrote them (1.10 stays 1.10, not the double 1.1): what agents sent, to the digit. */
    private static final com.fasterxml.jackson.databind.ObjectReader EXACT = Json.MAPPER
            .reader(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .with(com.fasterxml.jackson.databind.node.JsonNodeFactory.withExactBigDecimals(true));

    /**
     * The times of one object ({@code *_at} fields: a step's StepResult, written with {@code +00:00} before V41) in UTC
     * with {@code Z}, as every other time the coordinator writes.
     */
    private static void timesInUtc(JsonNode row) {
        if (!(row instanceof ObjectNode object)) {
            return;
        }
        object.properties().forEach(field -> {
            if (field.getKey().endsWith("_at") && field.getValue().isTextual()) {
                field.setValue(com.fasterxml.jackson.databind.node.TextNode.valueOf(
                        Json.time(java.time.OffsetDateTime.parse(field.getValue().textValue()).toInstant())));
            }
        });
    }

    static String error(String message) {
        return Json.write(Json.object().put("error", message));
    }

    private static ObjectNode object(Map<String, Object> row) {
        ObjectNode node = Json.object();
        row.forEach((column, value) -> {
            if (value == null) {
                node.putNull(column);
            } else if (JSON_COLUMNS.contains(column)) {
                node.set(column, Json.parse(value.toString()));
            } else if (value instanceof Timestamp t) {
                node.put(column, Json.time(t.toInstant()));
            } else if (value instanceof Number n) {
                node.put(column, n.longValue());
            } else {
                node.put(column, value.toString());
            }
        });
        return node;
    }
}
