package dev.agentcoordinator.definition;

import org.apache.commons.text.similarity.LevenshteinDistance;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Agent names of the loaded workflows a letter apart ({@code sentinal} and {@code sentinel}; two letters for names of
 * ten or more): probably one agent misspelt, whose requests would wait on a queue no agent reads and time out. Told as
 * warnings, not refused: two agents may be named alike on purpose, so names that differ only in digits or in a short
 * last part ({@code worker_a}, {@code worker_b}) are not told.
 */
public final class LookAlikeAgents {
    private static final int MIN_LENGTH = 5;
    /** From this length on, two letters apart still look alike. */
    private static final int LONG_NAME = 10;

    private LookAlikeAgents() {
    }

    /** One warning per pair of look-alike names, naming the steps of the name fewer steps use (the likelier typo). */
    public static List<String> in(WorkflowCatalog catalog) {
        return in(catalog.all().stream().map(workflow -> new LoadedDefinition(catalog.fileOf(workflow.id()), workflow)).toList());
    }

    /** As {@link #in(WorkflowCatalog)}, for definitions read from their files, whether or not they are valid together. */
    public static List<String> in(List<LoadedDefinition> definitions) {
        Map<String, List<String>> uses = new TreeMap<>();
        for (LoadedDefinition loaded : definitions) {
            for (WorkflowStep step : loaded.definition().steps()) {
                if (step.agent() != null) {
                    uses.computeIfAbsent(step.agent(), a -> new ArrayList<>()).add(loaded.file() + " step \"" + step.id() + "\"");
                }
                if (step.compensate() != null && step.compensate().agent() != null) {
                    uses.computeIfAbsent(step.compensate().agent(), a -> new ArrayList<>())
                            .add(loaded.file() + " step \"" + step.id() + "\" compensate");
                }
            }
        }
        List<String> names = List.copyOf(uses.keySet());
        List<String> warnings = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            for (int j = i + 1; j < names.size(); j++) {
                String a = names.get(i);
                String b = names.get(j);
                int maxEdits = Math.min(a.length(), b.length()) >= LONG_NAME ? 2 : 1;
                if (a.length() < MIN_LENGTH || b.length() < MIN_LENGTH || new LevenshteinDistance(maxEdits).apply(a, b) < 0
                        || digitsOnlyApart(a, b) || shortLastPartsApart(a, b)) {
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

    /** {@code worker_a} and {@code worker_b}: the same name up to a last part of one or two characters. */
    private static boolean shortLastPartsApart(String a, String b) {
        int cutA = Math.max(a.lastIndexOf('_'), a.lastIndexOf('-'));
        int cutB = Math.max(b.lastIndexOf('_'), b.lastIndexOf('-'));
        return cutA > 0 && cutA == cutB && a.substring(0, cutA).equals(b.substring(0, cutB))
                && a.length() - cutA <= 3 && b.length() - cutB <= 3;
    }

    private static boolean digitsOnlyApart(String a, String b) {
        return a.replaceAll("[0-9]", "").equals(b.replaceAll("[0-9]", ""));
    }
}
