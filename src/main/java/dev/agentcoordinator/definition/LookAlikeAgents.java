package dev.agentcoordinator.definition;

import org.apache.commons.text.similarity.LevenshteinDistance;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Agent names of the loaded workflows that are one or two letters apart ({@code sentinal} and {@code sentinel}):
 * probably one agent misspelt, whose requests would wait on a queue no agent reads and time out. Told as warnings,
 * not refused: two agents may be named alike on purpose (names that differ only in digits are not told).
 */
public final class LookAlikeAgents {
    private static final int MAX_EDITS = 2;
    private static final int MIN_LENGTH = 5;

    private LookAlikeAgents() {
    }

    /** One warning per pair of look-alike names, naming the steps of the name fewer steps use (the likelier typo). */
    public static List<String> in(WorkflowCatalog catalog) {
        Map<String, List<String>> uses = new TreeMap<>();
        for (WorkflowDefinition workflow : catalog.all()) {
            for (WorkflowStep step : workflow.steps()) {
                uses.computeIfAbsent(step.agent(), a -> new ArrayList<>())
                        .add(catalog.fileOf(workflow.id()) + " step \"" + step.id() + "\"");
                if (step.compensate() != null) {
                    uses.computeIfAbsent(step.compensate().agent(), a -> new ArrayList<>())
                            .add(catalog.fileOf(workflow.id()) + " step \"" + step.id() + "\" compensate");
                }
            }
        }
        LevenshteinDistance distance = new LevenshteinDistance(MAX_EDITS);
        List<String> names = List.copyOf(uses.keySet());
        List<String> warnings = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            for (int j = i + 1; j < names.size(); j++) {
                String a = names.get(i);
                String b = names.get(j);
                if (a.length() < MIN_LENGTH || b.length() < MIN_LENGTH || distance.apply(a, b) < 0 || digitsOnlyApart(a, b)) {
                    continue;
                }
                String rare = uses.get(a).size() <= uses.get(b).size() ? a : b;
                String common = rare.equals(a) ? b : a;
                warnings.add("agent \"" + rare + "\" (" + String.join(", ", uses.get(rare)) + ") is named almost as agent \""
                        + common + "\" (" + uses.get(common).size() + " step(s)): the same agent misspelt? Its requests go to agent."
                        + rare + ", which only an agent of that very name reads");
            }
        }
        return warnings;
    }

    private static boolean digitsOnlyApart(String a, String b) {
        return a.replaceAll("[0-9]", "").equals(b.replaceAll("[0-9]", ""));
    }
}
