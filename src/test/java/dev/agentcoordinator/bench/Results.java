package dev.agentcoordinator.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every measured value by name, one entry per round, plus notes (load averages, soak readings) in order. */
final class Results {
    private final Map<String, List<Double>> values = new LinkedHashMap<>();
    final List<String> loadNotes = new ArrayList<>();
    /** The last soak round's readings, as rows of a Markdown table. */
    final List<String> soakReadings = new ArrayList<>();

    synchronized void add(String name, double value) {
        values.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
    }

    synchronized List<Double> runs(String name) {
        return values.getOrDefault(name, List.of());
    }

    synchronized boolean has(String name) {
        return !runs(name).isEmpty();
    }

    /** Median of the rounds' values; NaN when never measured. */
    synchronized double median(String name) {
        return percentile(runs(name), 50);
    }

    synchronized void load(String benchmark) {
        String load = Machine.loadAverage();
        loadNotes.add(benchmark + ": " + load);
        System.out.printf("  [loadavg %s] %s%n", load, benchmark);
    }

    /** Nearest-rank percentile; NaN for no values. */
    static double percentile(Collection<Double> values, double p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(Double::compare);
        if (p == 50 && sorted.size() % 2 == 0) {
            return (sorted.get(sorted.size() / 2 - 1) + sorted.get(sorted.size() / 2)) / 2;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }
}
