package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.DefinitionReader;
import dev.agentcoordinator.definition.WorkflowDefinition;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which dependents a completion starts in its own statement: only those whose decision rests on the
 * trigger and completed outputs, decided as the step's planner would decide on the database's context.
 */
class DependentStartsTest {
    private static final WorkflowDefinition WORKFLOW = read("""
            id: ahead
            name: ahead
            trigger: AHEAD
            steps:
              - { id: a, agent: x, action: a }
              - { id: b, agent: x, action: b, depends_on: [a],
                  input_mapping: { user: { from_trigger: user }, score: { from_step: a, output_key: score } } }
              - { id: gated, agent: x, action: g, depends_on: [a],
                  condition: { step: a, output_key: score, operator: gt, value: 5 } }
              - { id: memo, agent: x, action: m, depends_on: [a], input_mapping: { note: { from_shared_memory: note } } }
              - { id: reads_b, agent: x, action: r, depends_on: [a], input_mapping: { from_b: { from_step: b, output_key: v } } }
              - { id: join, agent: x, action: j, depends_on: [a, b] }
            """);

    private static WorkflowDefinition read(String yaml) {
        try {
            return new DefinitionReader().read("ahead.yaml", yaml).definition();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static ExecutionFacts facts() {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String step : List.of("a", "b", "gated", "memo", "reads_b", "join")) {
            Map<String, Object> row = new HashMap<>();
            row.put("step_id", step);
            row.put("row_id", "row-" + step);
            rows.add(row);
        }
        return ExecutionFacts.ofStartedRows("exec-1", "{\"user\":\"u-1\"}", rows);
    }

    private static DependentStarts.Plan plan(ExecutionFacts facts, String outputOfA) {
        return new DependentStarts(WORKFLOW, WORKFLOW.step("a").orElseThrow()).plan(facts, outputOfA);
    }

    @Test
    void dependentsThatReadOnlyTheTriggerAndCompletedOutputsStartWithTheirInput() {
        DependentStarts.Plan plan = plan(facts(), "{\"score\":9}");

        assertThat(plan.stepByRowId()).containsOnlyKeys("row-b", "row-gated");
        assertThat(plan.inputByRowId()).containsEntry("row-b", "{\"user\":\"u-1\",\"score\":9}").containsEntry("row-gated", "{}");
        assertThat(plan.startsJson()).contains("{\"row_id\":\"row-b\",\"input\":{\"user\":\"u-1\",\"score\":9}}");
    }

    @Test
    void aDependentThePlannerWouldSkipIsLeftToItsStepRoute() {
        assertThat(plan(facts(), "{\"score\":2}").stepByRowId()).containsOnlyKeys("row-b");
    }

    @Test
    void aDependentReadingAStepNotKnownCompletedWaitsForTheContext() {
        ExecutionFacts facts = facts();
        assertThat(plan(facts, "{}").stepByRowId()).doesNotContainKey("row-reads_b");

        facts.completed("b", "{\"v\":1}");
        DependentStarts.Plan plan = plan(facts, "{}");
        assertThat(plan.inputByRowId()).containsEntry("row-reads_b", "{\"from_b\":1}");
    }

    @Test
    void aFanInStartsWithItsLastDependencyAndNamesItsPartialJoin() {
        ExecutionFacts facts = facts();
        assertThat(plan(facts, "{}").stepByRowId()).as("b has not completed").doesNotContainKey("row-join");

        facts.completed("b", "{\"v\":1}");
        DependentStarts.Plan plan = plan(facts, "{}");
        assertThat(plan.joinKeyByRowId()).containsExactlyEntriesOf(Map.of("row-join", "exec-1:join"));
        assertThat(plan.startsJson()).contains("{\"row_id\":\"row-join\",\"input\":{},\"join_key\":\"exec-1:join\"}");
    }

    @Test
    void withoutFactsNothingStartsAhead() {
        assertThat(plan(null, "{}").isEmpty()).isTrue();
        assertThat(DependentStarts.Plan.NONE.startsJson()).isNull();
    }

    @Test
    void theCacheFindsAnExecutionByAnyOfItsRowsAndForgetsItOnceFinished() {
        ExecutionFactsCache cache = new ExecutionFactsCache();
        ExecutionFacts facts = facts();
        cache.remember(facts);
        assertThat(cache.byRow("row-join")).isSameAs(facts);

        cache.completed(facts, "a", "{\"score\":1}");
        assertThat(cache.byRow("row-b").output("a")).isEqualTo("{\"score\":1}");

        cache.forget("exec-1");
        assertThat(cache.byRow("row-a")).isNull();
        assertThat(cache.size()).isZero();
    }

    @Test
    void theCacheForgetsTheOldestExecutionsBeyondItsBudget() {
        ExecutionFactsCache cache = new ExecutionFactsCache(2_000);
        for (int i = 0; i < 10; i++) {
            Map<String, Object> row = new HashMap<>();
            row.put("step_id", "a");
            row.put("row_id", "row-" + i);
            cache.remember(ExecutionFacts.ofStartedRows("exec-" + i, "{}", List.of(row)));
        }
        cache.completed(cache.byRow("row-9"), "a", "x".repeat(1_000));

        assertThat(cache.byRow("row-0")).isNull();
        assertThat(cache.byRow("row-9")).isNotNull();
        assertThat(cache.size()).isLessThan(10);
    }

    @Test
    void aContextReadFromTheDatabaseTeachesTheCompletedOutputsButNotALoopsOutput() {
        ExecutionFactsCache cache = new ExecutionFactsCache();
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String[] step : new String[][]{{"a", "completed", "{\"score\":3}"}, {"refine", "completed", "{\"draft\":1}"}, {"b", "pending", null}}) {
            Map<String, Object> row = new HashMap<>();
            row.put("execution_status", "running");
            row.put("trigger_payload", "{}");
            row.put("step_id", step[0]);
            row.put("row_id", "row-" + step[0]);
            row.put("status", step[1]);
            row.put("output", step[2]);
            rows.add(row);
        }
        cache.learn("exec-2", rows, "refine"::equals);

        ExecutionFacts facts = cache.byRow("row-b");
        assertThat(facts.output("a")).isEqualTo("{\"score\":3}");
        assertThat(facts.output("refine")).isNull();
        assertThat(cache.byRow("row-refine")).isNull();
    }
}
