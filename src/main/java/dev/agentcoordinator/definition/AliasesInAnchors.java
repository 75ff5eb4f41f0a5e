package dev.agentcoordinator.definition;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.CollectionEndEvent;
import org.yaml.snakeyaml.events.CollectionStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;

/**
 * Finds an alias inside an anchored value ({@code x-slow: &slow {<<: *base, timeout_ms: 9000}}). Jackson's anchor
 * replaying reader replays such a value without what its own aliases name: a config built on another lost the merged
 * one's fields, and a list of aliases read as empty lists, and the definition was loaded so, with no problem told. Until
 * the reader replays them, such a file is refused with where the alias is.
 */
final class AliasesInAnchors {
    private AliasesInAnchors() {
    }

    /** The problem with the first alias inside an anchored value, or empty (also for text the YAML reader tells of itself). */
    static Optional<String> find(String yaml) {
        try {
            ParserImpl parser = new ParserImpl(new StreamReader(new java.io.StringReader(yaml)), new LoaderOptions());
            Deque<String> anchors = new ArrayDeque<>();   // per open collection: the anchor it is inside of, or ""
            while (parser.peekEvent() != null && !parser.checkEvent(Event.ID.StreamEnd)) {
                Event event = parser.getEvent();
                if (event instanceof CollectionStartEvent start) {
                    String outer = anchors.isEmpty() ? "" : anchors.peek();
                    anchors.push(!outer.isEmpty() ? outer : start.getAnchor() == null ? "" : start.getAnchor());
                } else if (event instanceof CollectionEndEvent && !anchors.isEmpty()) {
                    anchors.pop();
                } else if (event instanceof AliasEvent alias && !anchors.isEmpty() && !anchors.peek().isEmpty()) {
                    return Optional.of("alias *" + alias.getAnchor() + " inside the value anchored &" + anchors.peek()
                            + " (line " + (alias.getStartMark().getLine() + 1) + ", column " + (alias.getStartMark().getColumn() + 1)
                            + ") is not read: the anchored value would be replayed without what *" + alias.getAnchor()
                            + " names; write the anchored value out in full, or name both anchors where it is used");
                }
            }
        } catch (RuntimeException unreadable) {   // told by the definition's own read, with its line and column
            return Optional.empty();
        }
        return Optional.empty();
    }
}
