package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.definition.InputMapping;

import java.util.Map;

/**
 * Builds a step's input from its input_mapping. A source that has no value leaves the key out, as
 * the spec's sketch does (an undefined value disappears from JSON).
 */
public final class InputResolver {

    private InputResolver() {
    }

    public static ObjectNode resolve(Map<String, InputMapping> mappings, ExecutionContext context) {
        ObjectNode input = Json.object();
        JsonNode trigger = null;
        for (Map.Entry<String, InputMapping> entry : mappings.entrySet()) {
            InputMapping mapping = entry.getValue();
            JsonNode value;
            if (mapping.fromTrigger() != null) {
                trigger = trigger == null ? context.trigger() : trigger;
                value = Json.at(trigger, mapping.fromTrigger());
            } else if (mapping.fromStep() != null) {
                value = context.step(mapping.fromStep())
                        .filter(s -> s.status() == StepStatus.COMPLETED)
                        .map(s -> Json.at(s.output(), mapping.outputKey()))
                        .orElse(null);
            } else if (mapping.fromSharedMemory() != null) {
                value = Json.at(context.sharedMemory(), mapping.fromSharedMemory());
            } else if (mapping.value() != null) {
                value = mapping.value();
            } else if (mapping.fromSignal() != null) {
                value = context.latestSignals().path(mapping.fromSignal());
            } else {
                value = null;
            }
            if (value != null && !value.isMissingNode()) {
                input.set(entry.getKey(), value);
            }
        }
        return input;
    }
}
