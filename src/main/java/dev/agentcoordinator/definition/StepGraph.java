package dev.agentcoordinator.definition;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The depends_on graph of one workflow. Tolerates what the validator reports separately (unknown
 * dependencies are ignored, cycles do not loop forever), so it can be used on a broken definition.
 */
public final class StepGraph {
    /** step id to the ids it depends on (known steps only), in definition order. */
    private final Map<String, List<String>> dependencies = new LinkedHashMap<>();
    /** The names in each step's depends_on of steps the workflow does not have. */
    private final Map<String, List<String>> unknownDependencies = new HashMap<>();

    public StepGraph(WorkflowDefinition workflow) {
        for (WorkflowStep step : workflow.steps()) {
            if (step != null && step.id() != null) {
                dependencies.putIfAbsent(step.id(), step.dependsOn());
            }
        }
        dependencies.forEach((id, deps) -> {
            List<String> unknown = deps.stream().filter(dep -> !dependencies.containsKey(dep)).toList();
            if (!unknown.isEmpty()) {
                unknownDependencies.put(id, unknown);
            }
        });
        dependencies.replaceAll((id, deps) -> deps.stream().filter(dependencies::containsKey).distinct().toList());
    }

    /** The ids of the workflow's steps, in definition order. */
    public Set<String> stepIds() {
        return java.util.Collections.unmodifiableSet(dependencies.keySet());
    }

    public boolean contains(String stepId) {
        return dependencies.containsKey(stepId);
    }

    /** Every step reachable backwards from {@code stepId} through depends_on (not the step itself, unless in a cycle). */
    public Set<String> ancestorsOf(String stepId) {
        Set<String> seen = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>(dependencies.getOrDefault(stepId, List.of()));
        while (!todo.isEmpty()) {
            String next = todo.pop();
            if (seen.add(next)) {
                todo.addAll(dependencies.getOrDefault(next, List.of()));
            }
        }
        return seen;
    }

    /**
     * Whether {@code candidate} would be an ancestor of {@code stepId} but for a misspelt depends_on in its ancestry: the
     * step a name that does not exist is closest to ({@link Spelling}) is {@code candidate} or has it as an ancestor.
     */
    public boolean isAncestorThroughAMisspeltDependency(String candidate, String stepId) {
        Set<String> ancestry = new LinkedHashSet<>(ancestorsOf(stepId));
        ancestry.add(stepId);
        for (String step : ancestry) {
            for (String unknown : unknownDependencies.getOrDefault(step, List.of())) {
                String meant = Spelling.closest(unknown, dependencies.keySet(), 2).orElse(null);
                if (meant != null && (meant.equals(candidate) || ancestorsOf(meant).contains(candidate))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether {@code candidate} has certainly finished (or been skipped) before {@code stepId} starts. */
    public boolean isAncestor(String candidate, String stepId) {
        return ancestorsOf(stepId).contains(candidate);
    }

    /**
     * Each distinct cycle once, as a path that starts and ends with the same step,
     * e.g. {@code [a, b, c, a]}: a depends on b, b on c, c on a.
     */
    public List<List<String>> cycles() {
        List<List<String>> cycles = new ArrayList<>();
        Set<Set<String>> reported = new HashSet<>();
        Map<String, Boolean> onStack = new HashMap<>();   // true while on the DFS stack, false when done
        for (String root : dependencies.keySet()) {
            findCycles(root, onStack, reported, cycles);
        }
        return cycles;
    }

    /**
     * A depth-first walk from {@code root} along depends_on, on a stack of its own: recursion overflowed the thread's
     * stack on a chain of some thousands of steps (and killed the folder watch's thread with it).
     */
    private void findCycles(String root, Map<String, Boolean> onStack, Set<Set<String>> reported, List<List<String>> cycles) {
        if (onStack.containsKey(root)) {
            return;   // walked from an earlier root
        }
        List<String> path = new ArrayList<>();
        java.util.Deque<java.util.Iterator<String>> next = new java.util.ArrayDeque<>();
        enter(root, path, next, onStack);
        while (!next.isEmpty()) {
            java.util.Iterator<String> dependencies = next.peek();
            if (!dependencies.hasNext()) {
                next.pop();
                onStack.put(path.remove(path.size() - 1), false);
                continue;
            }
            String dependency = dependencies.next();
            Boolean state = onStack.get(dependency);
            if (Boolean.TRUE.equals(state)) {
                List<String> cycle = new ArrayList<>(path.subList(path.indexOf(dependency), path.size()));
                cycle.add(dependency);
                if (reported.add(new TreeSet<>(cycle))) {
                    cycles.add(List.copyOf(cycle));
                }
            } else if (state == null) {
                enter(dependency, path, next, onStack);
            }
        }
    }

    private void enter(String step, List<String> path, java.util.Deque<java.util.Iterator<String>> next, Map<String, Boolean> onStack) {
        onStack.put(step, true);
        path.add(step);
        next.push(dependencies.getOrDefault(step, List.of()).iterator());
    }

    /** Step ids so that every step comes after its dependencies (definition order among equals). */
    public List<String> topologicalOrder() {
        if (!cycles().isEmpty()) {
            throw new IllegalStateException("depends_on has a cycle: " + cycles().get(0));
        }
        List<String> order = new ArrayList<>();
        Set<String> placed = new HashSet<>();
        while (order.size() < dependencies.size()) {
            for (Map.Entry<String, List<String>> e : dependencies.entrySet()) {
                if (!placed.contains(e.getKey()) && placed.containsAll(e.getValue())) {
                    placed.add(e.getKey());
                    order.add(e.getKey());
                }
            }
        }
        return order;
    }
}
