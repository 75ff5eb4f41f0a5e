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

/**
 * The validated workflows, keyed by id and by trigger. Built by {@link #load(Path)}, which rejects any invalid file.
 *
 * <p>An execution runs to its end on the version of its workflow it started on. Other versions that
 * executions run on are {@linkplain #retain retained} next to the loaded ones: they start nothing
 * new, and their routes are named by a key of their own, {@code <id>~v<version>} (an id cannot
 * contain '~').
 */
public final class WorkflowCatalog {
    /**
     * The loaded workflows, replaced as one by a {@linkplain #replaceLoaded reload}: {@code byId} as they were read,
     * {@code routedById} the definition whose routes run them. That is the loaded definition itself for those loaded
     * at start (routes {@code wf.<id>.*}) and an {@link #asRetained} copy for a version a reload brought (routes
     * {@code wf.<id>~v<version>.*}), so that a reload adds routes and never replaces those executions are in.
     */
    private record Loaded(Map<String, WorkflowDefinition> byId, Map<String, WorkflowDefinition> routedById,
                          Map<String, String> fileNames) {
    }

    private volatile Loaded loaded;
    /**
     * The version of each workflow this catalog was built with: the one whose routes carry the workflow's id alone
     * ({@code wf.<id>.*}). A reload never adds such routes, so the plain route key names that version for the
     * coordinator's whole life (see {@link #resolveRouteKey}).
     */
    private final Map<String, Integer> plainRouteVersions;
    /**
     * Retained versions by version key ({@link #versionKey}); each is a copy whose id is that key, or a version once
     * loaded at start whose routes still carry the workflow's id.
     */
    private final Map<String, WorkflowDefinition> retained = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile VersionSource versionSource = (workflowId, version) -> Optional.empty();
    /** See {@link #folderDigest()}. */
    private volatile String folderDigest;
    /**
     * What of the folder this catalog was read from looks like definitions and is not read (for {@link #warnings()}):
     * subfolders that hold definitions, links to files that do not exist.
     */
    private volatile List<String> unreadEntries = List.of();

    public WorkflowCatalog(List<WorkflowDefinition> definitions) {
        this(definitions, Map.of());
    }

    private WorkflowCatalog(List<WorkflowDefinition> definitions, Map<String, String> fileNames) {
        java.util.LinkedHashMap<String, WorkflowDefinition> m = new java.util.LinkedHashMap<>();
        definitions.forEach(d -> m.put(d.id(), d));
        Map<String, WorkflowDefinition> byId = java.util.Collections.unmodifiableMap(m);
        this.loaded = new Loaded(byId, byId, Map.copyOf(fileNames));
        this.plainRouteVersions = byId.values().stream()
                .collect(java.util.stream.Collectors.toUnmodifiableMap(WorkflowDefinition::id, WorkflowDefinition::versionOrDefault));
    }

    /** Loads and validates every *.yaml|*.yml|*.json file of {@code dir}; throws with every problem found. */
    public static WorkflowCatalog load(Path dir) throws InvalidDefinitionsException {
        List<Path> files = definitionFiles(dir);
        String digest = digestOf(files);   // before they are read: a change meanwhile shows as a difference later
        WorkflowCatalog catalog;
        try {
            catalog = load(files);
        } catch (InvalidDefinitionsException invalid) {
            // told beside the errors too: a definition moved into a subfolder to fix it there is not read
            List<String> unread = unreadEntries(dir);
            if (unread.isEmpty()) {
                throw invalid;
            }
            List<String> warnings = new ArrayList<>(invalid.warnings());
            warnings.addAll(unread);
            throw new InvalidDefinitionsException(invalid.errors(), warnings);
        }
        catalog.folderDigest = digest;
        catalog.unreadEntries = unreadEntries(dir);
        return catalog;
    }

    /**
     * What to warn of about the loaded workflows (not refused): look-alike agent names ({@link LookAlikeAgents}), and
     * subfolders of the workflows folder that hold definitions, which are not read (only the folder's own files are).
     */
    public List<String> warnings() {
        List<String> warnings = new ArrayList<>(LookAlikeAgents.in(this));
        warnings.addAll(unreadEntries);
        return warnings;
    }

    /** {@link #unreadSubfolders} and {@link #brokenLinks} of {@code dir}. */
    private static List<String> unreadEntries(Path dir) {
        List<String> unread = new ArrayList<>(unreadSubfolders(dir));
        unread.addAll(brokenLinks(dir));
        return unread;
    }

    /**
     * One line per definition file of {@code dir} that is a link to nothing (a ConfigMap's folder is made of links): not
     * read, as {@link #definitionFiles} takes only what is a file.
     */
    private static List<String> brokenLinks(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isSymbolicLink).filter(link -> !Files.exists(link))
                    .filter(DefinitionReader::isDefinitionFile).filter(link -> !link.getFileName().toString().startsWith("."))
                    .sorted().map(link -> {
                        String target;
                        try {
                            target = Files.readSymbolicLink(link).toString();
                        } catch (IOException | RuntimeException unreadable) {
                            target = "?";
                        }
                        return link.getFileName() + " is a link to " + target + ", which does not exist: not read";
                    }).toList();
        } catch (IOException | RuntimeException unreadable) {
            return List.of();
        }
    }

    /** One line per subfolder of {@code dir} that holds definition files: they are not read. */
    private static List<String> unreadSubfolders(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isDirectory).filter(sub -> !sub.getFileName().toString().startsWith("."))
                    .sorted().map(sub -> {
                        try (Stream<Path> inside = Files.list(sub)) {
                            long files = inside.filter(Files::isRegularFile).filter(DefinitionReader::isDefinitionFile)
                                    .filter(file -> !file.getFileName().toString().startsWith(".")).count();   // as definitionFiles reads them
                            return files == 0 ? null : "subfolder " + sub.getFileName() + " holds " + files + " definition file(s), which are"
                                    + " not read: only the files directly in " + dir + " are (move them up to load them)";
                        } catch (IOException unreadable) {
                            return null;
                        }
                    }).filter(java.util.Objects::nonNull).toList();
        } catch (IOException | RuntimeException unreadable) {
            return List.of();
        }
    }

    /** The names and contents of {@code dir}'s definition files, summed up: whether the folder changed since it was read. */
    public static String folderDigest(Path dir) throws InvalidDefinitionsException {
        return digestOf(definitionFiles(dir));
    }

    private static String digestOf(List<Path> files) throws InvalidDefinitionsException {
        // a checksum, not a cryptographic digest: it tells an edit from none, and costs no security provider's start
        java.util.zip.CRC32C sum = new java.util.zip.CRC32C();
        long bytes = 0;
        try {
            for (Path file : files) {
                byte[] content = Files.readAllBytes(file);
                sum.update(file.getFileName().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                sum.update(0);
                sum.update(content);
                sum.update(0);
                bytes += content.length;
            }
        } catch (IOException e) {
            throw new InvalidDefinitionsException(List.of(e.getMessage() + ": cannot be read: " + e));
        }
        return files.size() + ":" + bytes + ":" + Long.toHexString(sum.getValue());
    }

    /** {@link #folderDigest(Path)} of the folder as this catalog's workflows were read from it; empty for one built otherwise. */
    public Optional<String> folderDigest() {
        return Optional.ofNullable(folderDigest);
    }

    /** Loads and validates the given files (in this order); throws with every problem of every file. */
    public static WorkflowCatalog load(List<Path> files) throws InvalidDefinitionsException {
        DefinitionReader reader = new DefinitionReader();
        List<LoadedDefinition> loaded = new ArrayList<>();
        List<DefinitionError> errors = new ArrayList<>();
        List<LoadedDefinition> named = new ArrayList<>();   // every file read far enough, in order
        java.util.Set<LoadedDefinition> namedOnly = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        java.util.Map<String, java.util.Map<String, java.util.Set<String>>> wrongFields = new java.util.HashMap<>();   // by file, then step
        java.util.Map<String, DefinitionReader.Read> reads = new java.util.HashMap<>();   // by file: where a rule's problem is written
        for (Path file : files) {
            try {
                DefinitionReader.Read read = reader.readNotingFieldProblems(file);
                loaded.add(read.loaded());
                named.add(read.loaded());
                errors.addAll(read.problems());   // validated all the same: every problem of the file at once
                wrongFields.put(read.loaded().file(), read.wrongFieldsByStep());
                reads.put(read.loaded().file(), read);
            } catch (DefinitionReadException e) {
                errors.addAll(e.errors());   // this file is out, the others are still validated
                e.named().ifPresent(definition -> {   // the others are checked against its id and trigger too
                    named.add(definition);
                    namedOnly.add(definition);
                });
            }
        }
        List<DefinitionError> unknownFields = List.copyOf(errors);
        for (DefinitionError problem : new DefinitionValidator().validateAll(named, namedOnly)) {
            boolean ofAWrongValue = problem.stepId() != null && WrongFields.mayFollowFrom(problem.field(),
                    wrongFields.getOrDefault(problem.file(), java.util.Map.of()).getOrDefault(problem.stepId(), java.util.Set.of()));
            if (!ofAWrongValue && !followsFromAnUnknownField(problem, unknownFields, loaded)) {
                DefinitionReader.Read read = reads.get(problem.file());
                errors.add(read == null ? problem : read.located(problem));
            }
        }
        if (!errors.isEmpty()) {
            // file by file, in the order they were read (each file's shape problems, then its rules' problems)
            List<String> order = files.stream().map(file -> file.getFileName().toString()).toList();
            errors.sort(Comparator.comparingInt(error -> order.indexOf(error.file())));
            throw new InvalidDefinitionsException(errors.stream().map(DefinitionError::toString).toList(), LookAlikeAgents.in(loaded));
        }
        return new WorkflowCatalog(loaded.stream().map(LoadedDefinition::definition).toList(),
                loaded.stream().collect(java.util.stream.Collectors.toMap(d -> d.definition().id(), LoadedDefinition::file)));
    }

    /**
     * A mapping left without a source by an unknown field ({@code from_triger: x}) is told once, by the unknown
     * field, which says what to write instead; so is a required field that an unknown one beside it may stand for
     * ({@code operater: eq}, "did you mean "operator"?"). Only those problems, only at that very place, and only when
     * the step's id names one step.
     */
    private static boolean followsFromAnUnknownField(DefinitionError problem, List<DefinitionError> unknownFields,
                                                     List<LoadedDefinition> loaded) {
        if (problem.stepId() == null || problem.field() == null) {
            return false;
        }
        boolean noSource = problem.message().endsWith("found none");
        boolean required = problem.message().startsWith("is required");
        // an output_key beside a misspelt from_step ({from_stp: a, output_key: k}) is not told it needs from_step
        boolean withoutFromStep = problem.message().startsWith("is only allowed with from_step");
        if (!noSource && !required && !withoutFromStep) {
            return false;
        }
        for (LoadedDefinition definition : loaded) {
            if (!definition.file().equals(problem.file())) {
                continue;
            }
            if (definition.definition().steps().stream().filter(step -> problem.stepId().equals(step.id())).count() != 1) {
                return false;
            }
            // the unknown field sits in the mapping that has no source, or beside the required field it may stand for
            String at = noSource ? problem.field() : parentOf(problem.field());
            String standsFor = noSource ? "" : withoutFromStep ? "did you mean \"from_step\"?"
                    : "did you mean \"" + problem.field().substring(problem.field().lastIndexOf('.') + 1) + "\"?";
            return unknownFields.stream().anyMatch(u -> u.file().equals(problem.file()) && problem.stepId().equals(u.stepId())
                    && java.util.Objects.equals(at, u.field()) && u.message().startsWith("unknown field ")
                    && u.message().endsWith(standsFor));
        }
        return false;
    }

    private static String parentOf(String field) {
        int dot = field.lastIndexOf('.');
        return dot < 0 ? null : field.substring(0, dot);
    }

    /** The definition files of {@code dir}, sorted by name; hidden files (editor backups) are ignored. */
    public static List<Path> definitionFiles(Path dir) throws InvalidDefinitionsException {
        if (!Files.isDirectory(dir)) {
            // a relative folder is named with where it was looked for (the checkout, for ./coordinator), not as it was given
            throw new InvalidDefinitionsException(List.of(dir + (dir.isAbsolute() ? "" : " (" + dir.toAbsolutePath().normalize() + ")")
                    + (Files.exists(dir) ? ": not a directory" : ": no such directory")));
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

    /** The file a loaded workflow came from, else its id (a catalog built in code). */
    public String fileOf(String workflowId) {
        return loaded.fileNames().getOrDefault(workflowId, workflowId);
    }

    /** The loaded workflows: the versions new executions start on. */
    public Collection<WorkflowDefinition> all() {
        return loaded.byId().values();
    }

    /**
     * Makes the workflows of {@code read} the loaded ones (a reload): {@code routed} names, by workflow id, the
     * definition whose routes run each (their routes exist: the workflow itself, or an {@link #asRetained} copy).
     * The versions they replace are no longer resolved here: the caller retains those still in use first.
     */
    public void replaceLoaded(WorkflowCatalog read, Map<String, WorkflowDefinition> routed) {
        java.util.LinkedHashMap<String, WorkflowDefinition> routedById = new java.util.LinkedHashMap<>();
        for (WorkflowDefinition workflow : read.all()) {
            routedById.put(workflow.id(), java.util.Objects.requireNonNull(routed.get(workflow.id()), workflow.id()));
        }
        this.loaded = new Loaded(read.loaded.byId(), java.util.Collections.unmodifiableMap(routedById), read.loaded.fileNames());
        this.folderDigest = read.folderDigest;
        this.unreadEntries = read.unreadEntries;
    }

    /** The definition whose routes run the new executions of a loaded workflow (its id is their route key). */
    public Optional<WorkflowDefinition> routedOf(String workflowId) {
        return workflowId == null ? Optional.empty() : Optional.ofNullable(loaded.routedById().get(workflowId));
    }

    /** The route key of an earlier version of a workflow. */
    public static String versionKey(String workflowId, int version) {
        return workflowId + "~v" + version;
    }

    /** A route key in words, for log lines: {@code order} or {@code order version 2} (for {@code order~v2}). */
    public static String describeRouteKey(String routeKey) {
        String workflowId = workflowIdOf(routeKey);
        return workflowId.equals(routeKey) ? routeKey : workflowId + " version " + routeKey.substring(routeKey.indexOf("~v") + 2);
    }

    /** The workflow id a route key names. */
    public static String workflowIdOf(String routeKey) {
        int tilde = routeKey.indexOf('~');
        return tilde < 0 ? routeKey : routeKey.substring(0, tilde);
    }

    /** The copy of a version of a workflow that its retained routes are built from: its id is its route key. */
    public static WorkflowDefinition asRetained(WorkflowDefinition version) {
        return withId(version, versionKey(version.id(), version.versionOrDefault()));
    }

    /** The definition as its file gives it: a retained copy's id back to its workflow's. */
    public static WorkflowDefinition asLoaded(WorkflowDefinition version) {
        return withId(version, workflowIdOf(version.id()));
    }

    private static WorkflowDefinition withId(WorkflowDefinition version, String id) {
        return new WorkflowDefinition(id, version.name(), version.trigger(), version.version(), version.steps(),
                version.onSuccess(), version.onFailure(), version.config());
    }

    /**
     * Keeps another version of a workflow (an {@link #asRetained} copy, or a version a reload replaced, whose
     * routes exist) for the executions that started on it.
     */
    public void retain(WorkflowDefinition version) {
        retained.put(versionKeyOf(version), version);
    }

    /** The retained version under a version key ({@link #versionKey}). */
    public Optional<WorkflowDefinition> retainedAt(String versionKey) {
        return Optional.ofNullable(retained.get(versionKey));
    }

    /** The version key of a definition: of its workflow and version, whatever its routes are called. */
    public static String versionKeyOf(WorkflowDefinition version) {
        return versionKey(workflowIdOf(version.id()), version.versionOrDefault());
    }

    /**
     * Stops resolving executions to a retained version (its routes are about to go): the next one met
     * is asked of the {@link VersionSource} again. Returns the definition, or null when it was not retained.
     */
    public WorkflowDefinition release(String versionKey) {
        return retained.remove(versionKey);
    }

    /** Reads a version of a workflow this coordinator does not have yet: adds its routes and retains it. */
    @FunctionalInterface
    public interface VersionSource {
        Optional<WorkflowDefinition> fetch(String workflowId, int version);
    }

    /** Where {@link #forVersion} finds the versions it does not have: none unless set. */
    public void fetchVersionsFrom(VersionSource source) {
        this.versionSource = source;
    }

    /** The retained versions, each under its route key (see {@link #asRetained}). */
    public Collection<WorkflowDefinition> retained() {
        return retained.values();
    }

    /**
     * The definition that runs an execution of {@code workflowId} started on {@code version}: the
     * loaded one for its own version, else a retained one, else one the {@link VersionSource} finds
     * (a later version during a rolling deployment, an earlier one whose execution is retried). An
     * earlier version never recorded (its executions started before coordinators recorded versions)
     * runs on the loaded one, as it always did.
     */
    public Optional<WorkflowDefinition> forVersion(String workflowId, Integer version) {
        if (workflowId == null) {
            return Optional.empty();
        }
        Loaded now = this.loaded;
        WorkflowDefinition loaded = now.byId().get(workflowId);
        if (version == null || loaded != null && loaded.versionOrDefault() == version) {
            return Optional.ofNullable(now.routedById().get(workflowId));
        }
        WorkflowDefinition other = retained.get(versionKey(workflowId, version));
        if (other != null) {
            return Optional.of(other);
        }
        Optional<WorkflowDefinition> fetched = versionSource.fetch(workflowId, version);
        if (fetched.isPresent()) {
            return fetched;
        }
        return loaded != null && version < loaded.versionOrDefault() ? Optional.of(now.routedById().get(workflowId)) : Optional.empty();
    }

    /** The definition whose routes carry {@code routeKey}: a loaded workflow's id or a retained version's key. */
    public Optional<WorkflowDefinition> byRouteKey(String routeKey) {
        if (routeKey == null) {
            return Optional.empty();
        }
        for (WorkflowDefinition routed : loaded.routedById().values()) {
            if (routed.id().equals(routeKey)) {
                return Optional.of(routed);
            }
        }
        WorkflowDefinition kept = retained.get(routeKey);
        if (kept != null && kept.id().equals(routeKey)) {
            return Optional.of(kept);
        }
        // a version once loaded at start, retained since a reload replaced it: its routes carry the workflow's id
        return retained.values().stream().filter(version -> version.id().equals(routeKey)).findFirst();
    }

    /**
     * As {@link #byRouteKey}, for a message already on its way through a version's routes: a retained
     * version's key that is not retained any more (released meanwhile because no execution ran on it)
     * is asked of the {@link VersionSource} again; so is the workflow's id alone, for the version loaded at
     * start once a reload replaced it and it was released.
     */
    public Optional<WorkflowDefinition> resolveRouteKey(String routeKey) {
        Optional<WorkflowDefinition> known = byRouteKey(routeKey);
        if (known.isPresent() || routeKey == null) {
            return known;
        }
        int at = routeKey.indexOf("~v");
        if (at < 0) {
            // the routes loaded at start, retained since a reload replaced their version, then released
            Integer version = plainRouteVersions.get(routeKey);
            return version == null ? known : versionSource.fetch(routeKey, version);
        }
        try {
            return versionSource.fetch(routeKey.substring(0, at), Integer.parseInt(routeKey.substring(at + 2)));
        } catch (NumberFormatException notAVersionKey) {
            return known;
        }
    }

    public Optional<WorkflowDefinition> byId(String id) {
        return Optional.ofNullable(loaded.byId().get(id));
    }

    /**
     * The routes that start a loaded workflow on {@code trigger}: its own definition, or the copy a reload brought
     * (its id is the route key; {@link #workflowIdOf} gives the workflow's). One look at the loaded workflows, so that
     * a reload in between cannot give the workflow of one and the routes of another.
     */
    public Optional<WorkflowDefinition> routedByTrigger(String trigger) {
        Loaded now = this.loaded;
        return now.byId().values().stream().filter(d -> trigger.equals(d.trigger())).findFirst()
                .map(workflow -> now.routedById().get(workflow.id()));
    }

    public Optional<WorkflowDefinition> byTrigger(String trigger) {
        return all().stream().filter(d -> trigger.equals(d.trigger())).findFirst();
    }
}
