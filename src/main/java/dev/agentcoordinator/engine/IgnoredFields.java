package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.definition.Spelling;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The fields of a JSON message that its reader does not know, said in words with the known field a misspelt
 * one may stand for. Such fields are accepted (senders may add their own) but not read, so a
 * {@code "payloads"} or an {@code "outputs"} would otherwise be lost without a word.
 */
public final class IgnoredFields {
    /** An event on agent.events (CONTRACT.md). */
    public static final IgnoredFields EVENT = new IgnoredFields("event", "an event", List.of("type", "payload", "event_id"));
    /** The fields of a step reply or heartbeat (CONTRACT.md, docs/agent-protocol.md). */
    public static final List<String> REPLY_FIELDS = List.of("status", "output", "error", "retryable", "signals", "shared_memory", "progress");
    /** A step reply or heartbeat. */
    public static final IgnoredFields REPLY = new IgnoredFields("reply", "a reply", REPLY_FIELDS);

    /** An agent-to-agent message on agent.messages or POST /api/messages (CONTRACT.md). */
    public static final IgnoredFields MESSAGE = new IgnoredFields("message", "an agent message", List.of("message_id", "from",
            "to", "type", "payload", "requires_response", "timeout_ms", "execution_id"));

    /** At most two edits: "payloads", "eventId", "stauts"; not "event" for "event_id". */
    private static final int CLOSE = 2;

    /**
     * The unread fields said in words; {@code misspelt} when one of them is close to a field the message lacks
     * (a likely mistake, worth a WARN), else they are probably the sender's own (worth a DEBUG line only).
     */
    public record Ignored(String text, boolean misspelt) {
    }

    private final String what;
    private final String has;
    private final List<String> known;

    private IgnoredFields(String what, String aWhat, List<String> known) {
        this.what = what;
        this.known = known;
        StringBuilder fields = new StringBuilder(aWhat).append(" has ");
        for (int i = 0; i < known.size(); i++) {
            fields.append(i == 0 ? "" : i == known.size() - 1 ? " and " : ", ").append('"').append(known.get(i)).append('"');
        }
        this.has = fields.toString();
    }

    /** Empty when every field of {@code message} is known (asked of every message: nothing built then). */
    public Optional<Ignored> describe(JsonNode message) {
        return describe(message, known);
    }

    /** As {@link #describe(JsonNode)}, suggesting only the fields in {@code suggestible} for a misspelt one. */
    public Optional<Ignored> describe(JsonNode message, List<String> suggestible) {
        List<String> ignored = null;
        for (var names = message.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                (ignored == null ? ignored = new ArrayList<>() : ignored).add(name);
            }
        }
        if (ignored == null) {
            return Optional.empty();
        }
        StringBuilder said = new StringBuilder(what).append(" field").append(ignored.size() == 1 ? " " : "s ");
        for (int i = 0; i < ignored.size(); i++) {
            said.append(i == 0 ? "" : i == ignored.size() - 1 ? " and " : ", ").append('"').append(ignored.get(i)).append('"');
        }
        said.append(ignored.size() == 1 ? " is" : " are").append(" ignored (").append(has).append(')');
        Optional<String> closest = closestMissing(message, ignored, suggestible);
        closest.ifPresent(said::append);
        return Optional.of(new Ignored(said.toString(), closest.isPresent()));
    }

    /** The first unknown field close to a known field the message lacks, as ": did you mean …?". */
    private static Optional<String> closestMissing(JsonNode message, List<String> ignored, List<String> suggestible) {
        List<String> missing = suggestible.stream().filter(name -> !message.has(name)).toList();
        for (String field : ignored) {
            Optional<String> name = Spelling.closest(field, missing, CLOSE);
            if (name.isPresent()) {
                return Optional.of(": did you mean \"" + name.get() + "\" for \"" + field + "\"?");
            }
        }
        return Optional.empty();
    }

    /** The unknown field that may stand for {@code missing}, a known field the message lacks, as " (it has …)"; else "". */
    public String standInFor(JsonNode message, String missing) {
        for (var names = message.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name) && Spelling.closest(name, List.of(missing), CLOSE).isPresent()) {
                return " (it has \"" + name + "\": did you mean \"" + missing + "\"?)";
            }
        }
        return "";
    }
}
