package dev.agentcoordinator.engine;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * The {@link ExecutionFacts} of this JVM's recent executions, found by the row id a reply names.
 * Bounded by the characters it holds: the oldest executions are forgotten first, and a finished
 * execution at once. Forgetting costs only speed (a reply then decides its dependents on the
 * database's context, as every reply did before), never correctness.
 */
public final class ExecutionFactsCache {
    /** About 32 MB of text: thousands of executions in flight with outputs of a few KB. */
    static final long DEFAULT_BUDGET_CHARS = 16L * 1024 * 1024;
    /** The name it is bound under in the Camel registry. */
    public static final String REGISTRY_NAME = "executionFacts";

    private final long budgetChars;
    /** Read without a lock on every reply. */
    private final Map<String, ExecutionFacts> byRowId = new ConcurrentHashMap<>();
    /** Insertion order is age; guarded by itself, as is {@link #heldChars}. */
    private final LinkedHashMap<String, ExecutionFacts> byExecutionId = new LinkedHashMap<>();
    private long heldChars;
    /**
     * Executions that ended lately (guarded by {@link #byExecutionId}): facts built from the database for one of them,
     * outside the lock, are not remembered again (a reply that read its context before the finish route forgot it put
     * it back, and it stayed until the budget evicted it, pushing out live executions' facts). An execution retried after
     * it ended is so learnt again only once it is no longer among these: it costs speed, never correctness.
     */
    private final Map<String, Boolean> forgotten = new LinkedHashMap<>(64, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > FORGOTTEN_REMEMBERED;
        }
    };
    static final int FORGOTTEN_REMEMBERED = 4_096;

    public ExecutionFactsCache() {
        this(DEFAULT_BUDGET_CHARS);
    }

    ExecutionFactsCache(long budgetChars) {
        this.budgetChars = budgetChars;
    }

    /** The facts of the execution that owns this step row; null when this JVM does not know it. */
    ExecutionFacts byRow(String rowId) {
        return rowId == null ? null : byRowId.get(rowId);
    }

    void remember(ExecutionFacts facts) {
        synchronized (byExecutionId) {
            ExecutionFacts previous = byExecutionId.remove(facts.executionId());
            if (previous != null) {
                unlink(previous);
            }
            byExecutionId.put(facts.executionId(), facts);
            facts.rowIds().values().forEach(rowId -> byRowId.put(rowId, facts));
            heldChars += facts.weight();
            evictOverBudget();
        }
    }

    /** A step completed with this output: kept for the execution's later dependents. */
    void completed(ExecutionFacts facts, String stepId, String outputJson) {
        synchronized (byExecutionId) {
            if (byExecutionId.get(facts.executionId()) == facts) {
                heldChars += facts.completed(stepId, outputJson);
                evictOverBudget();
            }
        }
    }

    /** What a context read from the database adds: a new entry, or the outputs the known one lacks. */
    void learn(String executionId, List<Map<String, Object>> contextRows, Predicate<String> runsAgain) {
        synchronized (byExecutionId) {
            ExecutionFacts known = byExecutionId.get(executionId);
            if (known != null) {
                heldChars += known.learnCompleted(contextRows);
                evictOverBudget();
                return;
            }
        }
        ExecutionFacts facts = ExecutionFacts.ofContextRows(executionId, contextRows, runsAgain);
        if (facts != null) {
            synchronized (byExecutionId) {
                if (!forgotten.containsKey(executionId)) {
                    remember(facts);
                }
            }
        }
    }

    /** The execution ended: nothing will depend on its facts any more. */
    void forget(String executionId) {
        if (executionId == null) {
            return;
        }
        synchronized (byExecutionId) {
            ExecutionFacts facts = byExecutionId.remove(executionId);
            if (facts != null) {
                unlink(facts);
            }
            forgotten.put(executionId, Boolean.TRUE);
        }
    }

    /** Whether the facts of this execution are cached. */
    boolean holds(String executionId) {
        synchronized (byExecutionId) {
            return byExecutionId.containsKey(executionId);
        }
    }

    int size() {
        synchronized (byExecutionId) {
            return byExecutionId.size();
        }
    }

    private void evictOverBudget() {
        Iterator<ExecutionFacts> oldestFirst = byExecutionId.values().iterator();
        while (heldChars > budgetChars && oldestFirst.hasNext()) {
            ExecutionFacts oldest = oldestFirst.next();
            oldestFirst.remove();
            unlink(oldest);
        }
    }

    private void unlink(ExecutionFacts facts) {
        facts.rowIds().values().forEach(rowId -> byRowId.remove(rowId, facts));
        heldChars -= facts.weight();
    }
}
