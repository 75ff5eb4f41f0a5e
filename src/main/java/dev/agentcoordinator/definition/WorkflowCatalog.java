package dev.agentcoordinator.definition;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/** The validated workflows, keyed by id and by trigger. Built by {@link #load(Path)}, which rejects any invalid file. */
public final class WorkflowCatalog {
    private final Map<String, WorkflowDefinition> byId;

    public WorkflowCatalog(List<WorkflowDefinition> definitions) {
        java.util.LinkedHashMap<String, WorkflowDefinition> m = new java.util.LinkedHashMap<>();
        definitions.forEach(d -> m.put(d.id(), d));
        this.byId = java.util.Collections.unmodifiableMap(m);
    }

    /** Loads and validates every *.yaml|*.yml|*.json file of {@code dir}; throws with every problem found. */
    public static WorkflowCatalog load(Path dir) throws InvalidDefinitionsException {
        return load(definitionFiles(dir));
    }

    /** Loads and validates the given files (in this order); throws with every problem of every file. */
    public static WorkflowCatalog load(List<Path> files) throws InvalidDefinitionsException {
        DefinitionReader reader = new DefinitionReader();
        List<LoadedDefinition> loaded = new ArrayList<>();
        List<DefinitionError> errors = new ArrayList<>();
        for (Path file : files) {
            try {
                loaded.add(reader.read(file));
            } catch (DefinitionReadException e) {
                errors.add(e.error());   // this file is out, the others are still validated
            }
        }
        errors.addAll(new DefinitionValidator().validateAll(loaded));
        if (!errors.isEmpty()) {
            throw new InvalidDefinitionsException(errors.stream().map(DefinitionError::toString).toList());
        }
        return new WorkflowCatalog(loaded.stream().map(LoadedDefinition::definition).toList());
    }

    /** The definition files of {@code dir}, sorted by name; hidden files (editor backups) are ignored. */
    public static List<Path> definitionFiles(Path dir) throws InvalidDefinitionsException {
        if (!Files.isDirectory(dir)) {
            throw new InvalidDefinitionsException(List.of(dir + ": not a directory"));
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isRegularFile)
                    .filter(DefinitionReader::isDefinitionFile)
                    .filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw new InvalidDefinitionsException(List.of(dir + ": cannot list directory: " + e));
        }
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
