package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Map;

/**
 * The {@code context} a step request carries when the step sets {@code config.include_context}
 * (spec: SharedContext): {@code step_outputs} of the completed steps, the execution's
 * {@code shared_memory} and every {@code signals} entry ({@code from_agent}, {@code signal_type},
 * {@code data}) in the order they were sent.
 */
public final class RequestContexts {
    /** The SQL that loads what {@link #render} needs. */

    private RequestContexts() {
    }

    /** The context as JSON text, from the rows of load-context.sql read with withSignalList. */
    public static String render(List<Map<String, Object>> rows) {
        ObjectNode context = Json.object();
        ObjectNode outputs = context.putObject("step_outputs");
        if (rows == null || rows.isEmpty()) {
            context.putObject("shared_memory");
            context.putArray("signals");
            return Json.write(context);
        }
        for (Map<String, Object> row : rows) {
            if (row.get("step_id") != null && "completed".equals(row.get("status"))) {
                outputs.set((String) row.get("step_id"), Json.parse((String) row.get("output")));
            }
        }
        Map<String, Object> first = rows.get(0);
        context.set("shared_memory", Json.parse((String) first.get("shared_memory")));
        String signals = (String) first.get("signal_list");
        context.set("signals", signals == null ? Json.MAPPER.createArrayNode() : Json.parse(signals));
        return Json.write(context);
    }
}
