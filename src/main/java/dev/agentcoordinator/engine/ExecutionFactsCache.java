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

    private final long budgetChars;
    /** Read without a lock on every reply. */
    private final Map<String, ExecutionFacts> byRowId = new ConcurrentHashMap<>();
    /** Insertion order is age; guarded by itself, as is {@link #heldChars}. */
    private final LinkedHashMap<String, ExecutionFacts> byExecutionId = new LinkedHashMap<>();
    private long heldChars;
    /**
     * Executions whose context is being learnt outside the lock, and whether they ended meanwhile; guarded by
     * {@link #byExecutionId}. An execution that ended while its facts were built is not remembered again.
     */
    private final Map<String, Learning> learning = new java.util.HashMap<>();

    private static final class Learning {
        int learners;
        boolean forgotten;
    }

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
        Learning pending;
        synchronized (byExecutionId) {
            ExecutionFacts known = byExecutionId.get(executionId);
            if (known != null) {
                heldChars += known.learnCompleted(contextRows);
                evictOverBudget();
                return;
            }
            pending = learning.computeIfAbsent(executionId, id -> new Learning());
            pending.learners++;
        }
        ExecutionFacts facts = null;
        try {
            facts = ExecutionFacts.ofContextRows(executionId, contextRows, runsAgain);
        } finally {
            synchronized (byExecutionId) {
                if (--pending.learners == 0) {
                    learning.remove(executionId);
                }
                if (facts != null && !pending.forgotten) {
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
            Learning pending = learning.get(executionId);
            if (pending != null) {
                pending.forgotten = true;
            }
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
