package dev.agentcoordinator.definition;

import org.apache.commons.text.similarity.LevenshteinDistance;

import java.util.Collection;
import java.util.Comparator;
import java.util.Locale;
import java.util.Optional;

/** The name a misspelt one may stand for, for the "did you mean …?" of settings, definitions, events and replies. */
public final class Spelling {
    private Spelling() {
    }

    /** The candidate fewest edits from {@code typed} (compared in lower case), if one is at most {@code maxEdits} away. */
    public static Optional<String> closest(String typed, Collection<String> candidates, int maxEdits) {
        LevenshteinDistance distance = new LevenshteinDistance(maxEdits);
        String lower = typed.toLowerCase(Locale.ROOT);
        return candidates.stream()
                .filter(candidate -> distance.apply(lower, candidate) >= 0)
                .min(Comparator.comparingInt(candidate -> distance.apply(lower, candidate)));
    }
}
