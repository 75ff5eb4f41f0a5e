package dev.agentcoordinator.engine;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What never changes about one execution once it is known: its trigger, the row of each of its
 * steps and the output of each step that completed (a completed step stays completed with that
 * output). The coordinator keeps these for recent executions ({@link ExecutionFactsCache}) so that a
 * completing step's dependents can be decided before the completion's own statement, which then
 * starts them too ({@link DependentStarts}). Nothing here is the truth: the statement still checks
 * that each dependent is pending and the execution running, and what the cache does not know sends
 * a dependent the usual way, on the context read from the database.
 */
public final class ExecutionFacts {
    /** Outputs larger than this are not kept: a dependent reading them decides on the database's context. */
    static final int MAX_OUTPUT_CHARS = 16 * 1024;

    private final String executionId;
    private final String triggerJson;
    private final Map<String, String> rowIds;
    private final Map<String, String> outputs = new ConcurrentHashMap<>();

    ExecutionFacts(String executionId, String triggerJson, Map<String, String> rowIds) {
        this.executionId = executionId;
        this.triggerJson = triggerJson;
        this.rowIds = Map.copyOf(rowIds);
    }

    /** From the rows start-execution.sql returned (one per step, none completed yet). */
    static ExecutionFacts ofStartedRows(String executionId, String triggerJson, List<Map<String, Object>> rows) {
        Map<String, String> rowIds = new HashMap<>();
        for (Map<String, Object> row : rows) {
            rowIds.put((String) row.get("step_id"), (String) row.get("row_id"));
        }
        return new ExecutionFacts(executionId, triggerJson, rowIds);
    }

    /**
     * From a context as load-context.sql gives it (the latest iteration of each step); null when it
     * has no trigger or steps. The steps a loop runs again are left out: their latest output changes per iteration.
     */
    static ExecutionFacts ofContextRows(String executionId, List<Map<String, Object>> rows,
                                        java.util.function.Predicate<String> runsAgain) {
        if (rows == null || rows.isEmpty() || rows.get(0).get("trigger_payload") == null) {
            return null;
        }
        Map<String, String> rowIds = new HashMap<>();
        for (Map<String, Object> row : rows) {
            String stepId = (String) row.get("step_id");
            if (stepId != null && !runsAgain.test(stepId)) {
                rowIds.put(stepId, (String) row.get("row_id"));
            }
        }
        ExecutionFacts facts = new ExecutionFacts(executionId, (String) rows.get(0).get("trigger_payload"), rowIds);
        facts.learnCompleted(rows);
        return facts;
    }

    /** Takes over the outputs of the completed steps in a context read from the database; returns the characters added. */
    int learnCompleted(List<Map<String, Object>> rows) {
        int added = 0;
        for (Map<String, Object> row : rows) {
            String stepId = (String) row.get("step_id");
            if (stepId != null && "completed".equals(row.get("status"))) {
                added += completed(stepId, (String) row.get("output"));
            }
        }
        return added;
    }

    /** A step of this execution completed with this output (JSON text); returns the characters added. */
    int completed(String stepId, String outputJson) {
        if (outputJson != null && outputJson.length() <= MAX_OUTPUT_CHARS && rowIds.containsKey(stepId)
                && outputs.putIfAbsent(stepId, outputJson) == null) {
            return outputJson.length();
        }
        return 0;
    }

    String executionId() {
        return executionId;
    }

    String triggerJson() {
        return triggerJson;
    }

    Map<String, String> rowIds() {
        return rowIds;
    }

    String rowId(String stepId) {
        return rowIds.get(stepId);
    }

    /** The output of a completed step; null when the step has not completed (as far as this JVM knows). */
    String output(String stepId) {
        return outputs.get(stepId);
    }

    /** Characters held, for the cache's budget. */
    int weight() {
        int weight = 64 + (triggerJson == null ? 0 : triggerJson.length()) + rowIds.size() * 96;
        for (String output : outputs.values()) {
            weight += output.length();
        }
        return weight;
    }
}
