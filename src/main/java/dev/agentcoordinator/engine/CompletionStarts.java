package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.definition.WorkflowStep;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static dev.agentcoordinator.engine.Headers.*;

/**
 * A completion's exchange before and after complete-and-start.sql: what it asks the statement to
 * start ({@link DependentStarts}, on this JVM's {@link ExecutionFacts}), and what the statement did,
 * for the routes after it: the dependents' step routes send the requests of those it started, the
 * finish route takes the end of the execution it saw.
 */
final class CompletionStarts {
    /** Exchange property: the dependents the completion started (step id -> started row, with its input). */
    static final String STARTED_DEPENDENTS = "startedDependents";
    /** Exchange property: the execution a leaf step's completion ended (status, results, failures), for the finish route. */
    static final String FINISHED_EXECUTION = "finishedExecution";
    /** Exchange property: the {@link DependentStarts.Plan} of a completion, until its statement ran. */
    private static final String START_PLAN = "startPlan";
    /** Exchange property: the {@link ExecutionFacts} a reply's step row belongs to, when this JVM knows them. */
    private static final String FACTS = "executionFacts";

    private final ExecutionFactsCache facts;

    CompletionStarts(ExecutionFactsCache facts) {
        this.facts = facts;
    }

    /**
     * Before the statement: the dependents it starts too, the fan-ins at which it records its arrival
     * ({@link JoinArrivalsInCompletion}), and whether the other dependents need the
     * context ({@code contextNeeded}: some dependent decides on it).
     */
    void plan(Exchange exchange, DependentStarts starts, JoinArrivalsInCompletion arrivals, boolean contextNeeded) {
        Message in = exchange.getMessage();
        in.setHeader(STARTS, null);
        in.setHeader(ARRIVALS, null);
        presentEvenIfNull(in, CAUSE_MESSAGE_ID);
        if (!StepOutcome.Transition.COMPLETE.name().equals(in.getHeader(TRANSITION)) || !starts.anyCandidate() && !arrivals.any()) {
            return;
        }
        ExecutionFacts known = facts.byRow(in.getHeader(ROW_ID, String.class));
        if (known == null) {
            return;
        }
        exchange.setProperty(FACTS, known);
        DependentStarts.Plan plan = starts.anyCandidate() ? starts.plan(known, in.getHeader(OUTPUT, String.class)) : DependentStarts.Plan.NONE;
        if (!plan.isEmpty()) {
            exchange.setProperty(START_PLAN, plan);
            in.setHeader(STARTS, plan.startsJson());
        }
        java.util.Collection<String> started = plan.stepByRowId().values();
        in.setHeader(ARRIVALS, arrivals.json(exchange, known.executionId(), started));
        // a fan-in the statement records the arrival at needs no context; one it does not record (every
        // dependency settled) asks the database in the fan-in route
        int decideOnContext = starts.dependents() - started.size() - arrivals.notStarted(started);
        in.setHeader(WITH_CONTEXT, contextNeeded && decideOnContext > 0);
    }

    /**
     * After the statement: the step's output (or the context it read) for this JVM's facts, the
     * dependents it started ({@link #startedRow}) and the execution it ended.
     */
    @SuppressWarnings("unchecked")
    void take(Exchange exchange, WorkflowStep step, Predicate<String> runsAgain) {
        Message in = exchange.getMessage();
        List<Map<String, Object>> rows = (List<Map<String, Object>>) in.getBody();
        Map<String, Object> first = rows.get(0);
        ExecutionFacts known = exchange.getProperty(FACTS, ExecutionFacts.class);
        if (known != null) {
            facts.completed(known, step.id(), in.getHeader(OUTPUT, String.class));
        } else if (first.get("execution_status") != null) {
            facts.learn((String) first.get("execution_id"), rows, runsAgain);
        }
        JoinArrivalsInCompletion.take(exchange, step.id(), first.get("arrived"));
        if (first.get("finished_status") != null) {
            Map<String, Object> finished = new HashMap<>(4);
            finished.put("status", first.get("finished_status"));
            finished.put("results", first.get("finished_results"));
            finished.put("failures", first.get("finished_failures"));
            exchange.setProperty(FINISHED_EXECUTION, finished);
        }
        DependentStarts.Plan plan = exchange.getProperty(START_PLAN, DependentStarts.Plan.class);
        Object started = first.get("started");
        if (plan == null || started == null) {
            return;
        }
        Map<String, Map<String, Object>> byStep = new HashMap<>(4);
        for (JsonNode row : Json.parse((String) started)) {
            String rowId = row.path("row_id").asText();
            // as mark-running.sql returns a started row, plus the input it started with
            Map<String, Object> startedRow = new HashMap<>(8);
            startedRow.put("row_id", rowId);
            startedRow.put("attempt", row.path("attempt").asInt());
            startedRow.put("max_attempts", row.path("max_attempts").asInt());
            startedRow.put("iteration", row.path("iteration").asInt());
            startedRow.put("deadline", new java.sql.Timestamp(row.path("deadline_ms").asLong()));
            startedRow.put("input", plan.inputByRowId().get(rowId));
            byStep.put(plan.stepByRowId().get(rowId), startedRow);
        }
        exchange.setProperty(STARTED_DEPENDENTS, byStep);
    }

    /** The row of this step if its dependency's completion started it in this exchange, else null. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> startedRow(Exchange exchange, String stepId) {
        Object started = exchange.getProperty(STARTED_DEPENDENTS);
        return started == null ? null : ((Map<String, Map<String, Object>>) started).get(stepId);
    }
}
