package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.definition.InvalidDefinitionsException;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Loads the workflow folder again into a running coordinator ({@code POST /api/workflows/reload}): new workflows
 * start on their triggers, a workflow given a new version starts its new executions on it, and a workflow whose
 * file is gone starts nothing more. Nothing changes unless every file is valid and every new version can be
 * recorded.
 *
 * <p>A reload only adds routes. A version it brings runs on routes of its own ({@code wf.<id>~v<version>.*},
 * read back from {@code workflow_definitions} as a version met in an execution is), and the version it replaces
 * is retained: the executions that started on it end on the routes they are in, which the retirement sweep
 * removes once none runs on them ({@link RetainedVersions}). So no message in flight ever meets a route that
 * was replaced under it. A definition changed under the version it is loaded with is refused: which one the
 * executions on it should follow cannot be told (a restart takes it when none runs on it, as before).
 */
public final class WorkflowReload {
    private static final Logger LOG = LoggerFactory.getLogger(WorkflowReload.class);

    /**
     * What a reload changed, by workflow id, and {@code warnings}: what ./coordinator validate warns of in the folder
     * (look-alike agent names, subfolders not read).
     */
    public record Outcome(List<Version> added, List<Change> changed, List<Version> removed, List<String> unchanged,
                          List<String> warnings) {
    }

    public record Version(String workflowId, int version) {
    }

    public record Change(String workflowId, int fromVersion, int toVersion) {
    }

    private final Path folder;
    private final WorkflowCatalog catalog;
    private final DataSource dataSource;
    private final RetainedVersions versions;
    /** coordinator_workflow_reloads_total{result}: a watched folder's refused reload shows only in the log otherwise. */
    private final MeterRegistry meters;

    public WorkflowReload(Path folder, WorkflowCatalog catalog, DataSource dataSource, RetainedVersions versions, MeterRegistry meters) {
        this.folder = folder;
        this.catalog = catalog;
        this.dataSource = dataSource;
        this.versions = versions;
        this.meters = meters;
    }

    /** Reloads the folder; throws with every problem found (and changes nothing then). */
    public Outcome reload() throws InvalidDefinitionsException {
        // one at a time, and never beside the retirement sweep, which releases versions this may take back
        synchronized (versions) {
            try {
                Outcome outcome = reloadExclusively();
                counted("reloaded");
                return outcome;
            } catch (InvalidDefinitionsException e) {
                counted("refused");
                throw e;
            } catch (RuntimeException e) {
                counted("failed");
                throw e;
            }
        }
    }

    /**
     * Takes what changed in the folder since the start read it, once this coordinator listens for reload notices.
     * A reload asked of another coordinator while this one started (after it read its folder, before it subscribed)
     * does not reach it, and it would run what it read until reloaded by itself. A folder that changed and is no
     * longer valid (a file half saved) is named in a WARN line, and what was read at start runs on.
     */
    public void takeChangesMadeWhileStarting() {
        try {
            if (catalog.folderDigest().orElse("").equals(WorkflowCatalog.folderDigest(folder))) {
                return;   // the files as they were read: the usual case, told by a checksum, without parsing them
            }
        } catch (InvalidDefinitionsException e) {   // the folder is gone or cannot be listed
            LOG.warn("Workflows: what was read at start runs on: {}", e.getMessage());
            return;
        }
        LOG.info("Workflows: the folder {} changed while this coordinator started (a reload asked of another coordinator"
                + " meanwhile did not reach this one); reading it again", folder);
        try {
            Answer answer = reloadAnswering();
            if (!answer.reloaded()) {
                LOG.warn("Workflows: what was read at start runs on: {}", answer.body());
            }
        } catch (RuntimeException e) {   // the database: the coordinator has started and runs what it read
            LOG.warn("Workflows: what was read at start runs on; the folder's changes were not taken: {}", e.toString());
        }
    }

    private void counted(String result) {
        io.micrometer.core.instrument.Counter.builder("coordinator_workflow_reloads")
                .description("reloads of the workflow folder, by result: reloaded, refused (a problem in the folder) or failed")
                .tag("result", result).register(meters).increment();
    }

    private Outcome reloadExclusively() throws InvalidDefinitionsException {
        WorkflowCatalog read = WorkflowCatalog.load(folder);
        List<Version> added = new ArrayList<>();
        List<Change> changed = new ArrayList<>();
        List<String> unchanged = new ArrayList<>();
        List<WorkflowDefinition> brought = new ArrayList<>();
        List<String> sameVersion = new ArrayList<>();
        for (WorkflowDefinition workflow : read.all()) {
            WorkflowDefinition before = catalog.byId(workflow.id()).orElse(null);
            if (before == null) {
                added.add(new Version(workflow.id(), workflow.versionOrDefault()));
                brought.add(workflow);
            } else if (sameDefinition(before, workflow)) {
                unchanged.add(workflow.id());
            } else if (before.versionOrDefault() == workflow.versionOrDefault()) {
                sameVersion.add(read.fileOf(workflow.id()) + ": version: " + workflow.versionOrDefault() + " is the version this"
                        + " coordinator runs workflow " + workflow.id() + " with, defined otherwise: give the changed definition"
                        + " a new version (executions end on the version they started on); a restart takes it under the same"
                        + " version when no execution runs on it, or when only its name or steps' descriptions changed");
            } else {
                changed.add(new Change(workflow.id(), before.versionOrDefault(), workflow.versionOrDefault()));
                brought.add(workflow);
            }
            // a version whose routes this coordinator keeps (executions run on it) is taken as it was defined
            versions.kept(workflow.id(), workflow.versionOrDefault())
                    .filter(kept -> !sameDefinition(WorkflowCatalog.asLoaded(kept), workflow))
                    .ifPresent(kept -> sameVersion.add(read.fileOf(workflow.id()) + ": version: " + workflow.versionOrDefault()
                            + " is a version of workflow " + workflow.id() + " this coordinator keeps for the executions"
                            + " that started on it (until the retirement sweep finds none), defined otherwise: give the"
                            + " changed definition a new version"));
        }
        if (!sameVersion.isEmpty()) {
            throw new InvalidDefinitionsException(sameVersion);
        }
        List<Version> removed = new ArrayList<>();
        List<WorkflowDefinition> replaced = new ArrayList<>();
        for (WorkflowDefinition before : catalog.all()) {
            WorkflowDefinition after = read.byId(before.id()).orElse(null);
            if (after == null) {
                removed.add(new Version(before.id(), before.versionOrDefault()));
            }
            if (after == null || after.versionOrDefault() != before.versionOrDefault()) {
                replaced.add(before);
            }
        }
        Outcome outcome = new Outcome(added, changed, removed, unchanged, read.warnings());
        if (brought.isEmpty() && replaced.isEmpty()) {
            // the same definitions, perhaps from other files: the routes stay, the file names are the new ones
            Map<String, WorkflowDefinition> same = new LinkedHashMap<>();
            read.all().forEach(workflow -> same.put(workflow.id(), catalog.routedOf(workflow.id()).orElseThrow()));
            catalog.replaceLoaded(read, same);
            catalog.warnings().forEach(warning -> LOG.warn("Workflows: {}", warning));   // a subfolder is most likely news here
            LOG.info("Workflows reloaded from {}: nothing changed ({} workflow(s))", folder, unchanged.size());
            return outcome;
        }
        WorkflowVersions.recordReloaded(dataSource, read, brought, replaced);

        // the routes of each version brought: those this coordinator keeps for it, else read back as recorded just now
        Map<String, WorkflowDefinition> routed = new LinkedHashMap<>();
        // the versions brought whose routes this coordinator did not keep before: a failure below removes them again
        List<WorkflowDefinition> routesAddedNow = brought.stream()
                .filter(workflow -> versions.kept(workflow.id(), workflow.versionOrDefault()).isEmpty()).toList();
        try {
            for (WorkflowDefinition workflow : read.all()) {
                routed.put(workflow.id(), brought.contains(workflow)
                        ? versions.routesFor(workflow.id(), workflow.versionOrDefault())
                        : catalog.routedOf(workflow.id()).orElseThrow());
            }
        } catch (RuntimeException e) {
            // nothing switched: this coordinator runs what it ran, as its runner rows say again
            WorkflowVersions.recordRunnersAfterFailedReload(dataSource, catalog, brought);
            // and keeps none of the routes this reload added (a corrected definition of such a version is not "kept")
            try {
                versions.removeAddedBy(routesAddedNow);
            } catch (Exception removal) {
                e.addSuppressed(removal);
            }
            throw new IllegalStateException("the workflows were not reloaded, the loaded ones run on: the routes of a version"
                    + " could not be added: " + e.getMessage(), e);
        }
        // the versions replaced stay resolvable for the executions on them, until the retirement sweep finds none
        List<WorkflowDefinition> routedBefore = replaced.stream().map(w -> catalog.routedOf(w.id()).orElseThrow()).toList();
        routedBefore.forEach(catalog::retain);
        catalog.replaceLoaded(read, routed);
        for (WorkflowDefinition workflow : brought) {   // loaded now: not for the retirement sweep to take
            WorkflowDefinition routes = routed.get(workflow.id());
            if (Objects.equals(catalog.retainedAt(WorkflowCatalog.versionKeyOf(routes)).orElse(null), routes)) {
                catalog.release(WorkflowCatalog.versionKeyOf(routes));
            }
        }
        catalog.warnings().forEach(warning -> LOG.warn("Workflows: {}", warning));
        LOG.info("Workflows reloaded from {}: {}", folder, describe(outcome));
        return outcome;
    }

    /**
     * Whether two definitions are the same, as the database compares them at start (jsonb): whatever the order of
     * the keys of their mappings. A version read back from workflow_definitions has its input_mapping in jsonb's
     * order (shorter keys first), not its file's.
     */
    static boolean sameDefinition(WorkflowDefinition one, WorkflowDefinition other) {
        return Json.MAPPER.valueToTree(one).equals(Json.MAPPER.valueToTree(other));
    }

    /** A reload's answer as {@code POST /api/workflows/reload} gives it: its HTTP status and body. */
    public record Answer(int status, ObjectNode body) {
        public boolean reloaded() {
            return status == 200;
        }
    }

    /**
     * Reloads the folder and answers what changed ({@code 200}), every problem found ({@code 422}, nothing changed)
     * or why the routes of a version could not be added ({@code 500}, nothing switched either).
     */
    public Answer reloadAnswering() {
        try {
            Outcome outcome = reload();
            ObjectNode view = Json.object();
            view.set("added", versionsView(outcome.added()));
            ArrayNode changed = view.putArray("changed");
            outcome.changed().forEach(c -> changed.addObject().put("workflow_id", c.workflowId())
                    .put("from_version", c.fromVersion()).put("to_version", c.toVersion()));
            view.set("removed", versionsView(outcome.removed()));
            ArrayNode unchanged = view.putArray("unchanged");
            outcome.unchanged().forEach(unchanged::add);
            // in the answer too, not only in the log: whoever reloads over HTTP sees a misspelt agent as ./coordinator validate shows it
            if (!outcome.warnings().isEmpty()) {
                outcome.warnings().forEach(view.putArray("warnings")::add);
            }
            return new Answer(200, view);
        } catch (InvalidDefinitionsException e) {
            ObjectNode refused = Json.object()
                    .put("error", "the workflows were not reloaded: " + e.errors().size() + " problem(s); the loaded ones run on unchanged");
            ArrayNode problems = refused.putArray("problems");
            e.errors().forEach(problems::add);
            if (!e.warnings().isEmpty()) {
                e.warnings().forEach(refused.putArray("warnings")::add);
            }
            return new Answer(422, refused);
        } catch (IllegalStateException e) {   // the routes of a version could not be added: nothing switched
            return new Answer(500, Json.object().put("error", e.getMessage()));
        }
    }

    private static ArrayNode versionsView(List<Version> versions) {
        ArrayNode view = Json.array();
        versions.forEach(v -> view.addObject().put("workflow_id", v.workflowId()).put("version", v.version()));
        return view;
    }

    /** What a reload changed, in words (the log's and Hawtio's). */
    public static String describe(Outcome outcome) {
        List<String> parts = new ArrayList<>();
        outcome.added().forEach(v -> parts.add(v.workflowId() + " version " + v.version() + " added"));
        outcome.changed().forEach(c -> parts.add(c.workflowId() + " version " + c.fromVersion() + " -> " + c.toVersion()
                + " (executions started on version " + c.fromVersion() + " end on it)"));
        outcome.removed().forEach(v -> parts.add(v.workflowId() + " version " + v.version()
                + " removed (its trigger starts nothing more; its executions end on it)"));
        parts.add(outcome.unchanged().size() + " unchanged");
        return String.join(", ", parts);
    }
}
