package dev.agentcoordinator.definition;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The validated workflows, keyed by id and by trigger. (Stub: the loader fills it in.) */
public final class WorkflowCatalog {
    private final Map<String, WorkflowDefinition> byId;

    public WorkflowCatalog(List<WorkflowDefinition> definitions) {
        java.util.LinkedHashMap<String, WorkflowDefinition> m = new java.util.LinkedHashMap<>();
        definitions.forEach(d -> m.put(d.id(), d));
        this.byId = java.util.Collections.unmodifiableMap(m);
    }

    /** Loads and validates every *.yaml|*.yml|*.json file of {@code dir}; throws with every problem found. */
    public static WorkflowCatalog load(Path dir) throws InvalidDefinitionsException {
        throw new UnsupportedOperationException("not yet");
    }

    public Collection<WorkflowDefinition> all() {
        return byId.values();
    }

    public Optional<WorkflowDefinition> byId(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    public Optional<WorkflowDefinition> byTrigger(String trigger) {
        return byId.values().stream().filter(d -> trigger.equals(d.trigger())).findFirst();
    }
}
