package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ExecutionFactsCache.learn builds an entry outside its lock: an execution that ends meanwhile (its finish route calls
 * forget on another thread) is not remembered again (it was, and stayed until the budget evicted it, pushing out
 * live executions' facts). The interleaving is forced through the runsAgain predicate, which learn calls as it builds.
 */
class ExecutionFactsCacheTest {

    @Test
    void anExecutionForgottenWhileItsContextIsLearntStaysForgotten() {
        ExecutionFactsCache cache = new ExecutionFactsCache();
        List<Map<String, Object>> context = List.of(
                Map.of("trigger_payload", "{}", "step_id", "a", "row_id", "row-a", "status", "completed", "output", "{\"x\":1}"),
                Map.of("trigger_payload", "{}", "step_id", "b", "row_id", "row-b", "status", "pending"));
        cache.learn("e-1", context, stepId -> {
            cache.forget("e-1");   // the execution's finish, on another thread, at this moment
            return false;
        });
        assertThat(cache.byRow("row-b")).as("facts of an execution that ended").isNull();
        assertThat(cache.size()).isZero();
        // ended before its context was learnt (a reply read the context before the finish route forgot it): the same
        cache.forget("e-2");
        cache.learn("e-2", context, stepId -> false);
        assertThat(cache.size()).isZero();
    }
}
