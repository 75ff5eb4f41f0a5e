package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.DefinitionReadException;
import dev.agentcoordinator.definition.DefinitionReader;
import dev.agentcoordinator.definition.InvalidDefinitionsException;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import javax.sql.DataSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Keeps every execution on the version of its workflow it started on. At start, before any route
 * runs, the loaded definitions are recorded in {@code workflow_definitions}, and every other version
 * that executions still run on (or compensate) is read back from there and
 * {@linkplain WorkflowCatalog#retain retained}, its routes next to the loaded ones. A version met
 * later is read back when first met, and one no execution runs on any more retired
 * ({@link RetainedVersions}).
 *
 * <p>A definition changed without a new version is refused while executions run on it (which of the
 * two they should follow cannot be told) and while another live coordinator runs the recorded one
 * ({@code workflow_definition_runners}): the two would each move the other's executions on.
 */
public final class WorkflowVersions {
    private static final Logger LOG = LoggerFactory.getLogger(WorkflowVersions.class);

    /** The statuses of an execution whose workflow's routes still have work to do. */
    static final String UNFINISHED = "('running', 'compensating')";
    /** A runner's coordinator has a session on the database: its connections carry its instance id (Database.config). */
    private static final String ALIVE = "EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.application_name = r.instance_id)";

    /** Adds the routes of a retained version (an {@link WorkflowCatalog#asRetained} copy). */
    @FunctionalInterface
    public interface RouteAdder {
        void add(WorkflowDefinition retainedCopy) throws Exception;
    }

    private WorkflowVersions() {
    }

    /**
     * Records the loaded definitions, then adds the routes of the other versions still in use
     * (earlier ones, or later ones after a roll-back) and retains them.
     */
    public static void recordAndRetain(DataSource dataSource, WorkflowCatalog catalog, RouteAdder routes) throws Exception {
        JdbcTemplate jdbc = new JdbcTemplate(dataSource);
        List<WorkflowDefinition> others;
        try {
            // one transaction, locked against a coordinator recording the same workflows at the same time
            others = new TransactionTemplate(new DataSourceTransactionManager(dataSource)).execute(status -> {
                jdbc.execute("LOCK TABLE workflow_definitions IN SHARE ROW EXCLUSIVE MODE");
                jdbc.update("DELETE FROM workflow_definition_runners r WHERE NOT " + ALIVE);
                List<String> conflicts = new ArrayList<>();
                for (WorkflowDefinition loaded : catalog.all()) {
                    record(jdbc, catalog, loaded, conflicts);
                }
                if (!conflicts.isEmpty()) {
                    throw new VersionConflict(conflicts);   // rolls back what was recorded
                }
                return othersInUse(jdbc, catalog);
            });
        } catch (VersionConflict e) {
            throw new InvalidDefinitionsException(e.conflicts);
        }
        for (WorkflowDefinition other : others) {
            keep(other, catalog, routes);
        }
    }

    /**
     * Records the definitions a reload brings ({@code read} the catalog it read, for the files they came from), and
     * that this coordinator no longer runs {@code replaced} as loaded; in one transaction, as at start. Throws with
     * every conflict (a changed definition under a version executions run on, or another live coordinator runs),
     * and then records nothing.
     */
    static void recordReloaded(DataSource dataSource, WorkflowCatalog read, List<WorkflowDefinition> brought,
                               List<WorkflowDefinition> replaced) throws InvalidDefinitionsException {
        JdbcTemplate jdbc = new JdbcTemplate(dataSource);
        try {
            new TransactionTemplate(new DataSourceTransactionManager(dataSource)).executeWithoutResult(status -> {
                jdbc.execute("LOCK TABLE workflow_definitions IN SHARE ROW EXCLUSIVE MODE");
                jdbc.update("DELETE FROM workflow_definition_runners r WHERE NOT " + ALIVE);
                List<String> conflicts = new ArrayList<>();
                for (WorkflowDefinition definition : brought) {
                    record(jdbc, read, definition, conflicts);
                }
                if (!conflicts.isEmpty()) {
                    throw new VersionConflict(conflicts);
                }
                for (WorkflowDefinition version : replaced) {
                    jdbc.update("DELETE FROM workflow_definition_runners WHERE workflow_id = ? AND version = ?"
                                    + " AND instance_id = current_setting('application_name')",
                            WorkflowCatalog.workflowIdOf(version.id()), version.versionOrDefault());
                }
            });
        } catch (VersionConflict e) {
            throw new InvalidDefinitionsException(e.conflicts);
        }
    }

    /**
     * After a reload recorded its versions and then failed to add their routes: this coordinator runs none of
     * {@code brought} and still runs what {@code catalog} loads.
     */
    static void recordRunnersAfterFailedReload(DataSource dataSource, WorkflowCatalog catalog, List<WorkflowDefinition> brought) {
        JdbcTemplate jdbc = new JdbcTemplate(dataSource);
        for (WorkflowDefinition version : brought) {
            jdbc.update("DELETE FROM workflow_definition_runners WHERE workflow_id = ? AND version = ?"
                    + " AND instance_id = current_setting('application_name')", version.id(), version.versionOrDefault());
        }
        recordRunner(jdbc, catalog);
    }

    /** Adds the routes of another version, then lets the catalog resolve executions to it. */
    static WorkflowDefinition keep(WorkflowDefinition version, WorkflowCatalog catalog, RouteAdder routes) throws Exception {
        WorkflowDefinition copy = WorkflowCatalog.asRetained(version);
        routes.add(copy);
        catalog.retain(copy);
        return copy;
    }

    /**
     * A definition without its words for people (the workflow's {@code name}, each step's {@code description}), as SQL of
     * the jsonb {@code %1$s}: two that differ only in those run alike.
     */
    private static final String RUNS_AS = """
            ((%1$s - 'name' - 'steps') || jsonb_build_object('steps', (SELECT jsonb_agg(s.step - 'description' ORDER BY s.n)
                                                                         FROM jsonb_array_elements(%1$s -> 'steps')
                                                                              WITH ORDINALITY s (step, n))))""";

    /**
     * Records {@code loaded} as the definition of its version and this coordinator as one that runs it.
     * A different definition already recorded under that version is replaced when it differs only in its words for
     * people (a name, a description), or when no execution runs on it and no other live coordinator runs it; otherwise
     * the conflict is added.
     */
    private static void record(JdbcTemplate jdbc, WorkflowCatalog catalog, WorkflowDefinition loaded, List<String> conflicts) {
        String json = Json.write(loaded);
        int version = loaded.versionOrDefault();
        List<Map<String, Object>> stored = jdbc.queryForList("SELECT d.definition = l.definition AS same, "
                + RUNS_AS.formatted("d.definition") + " = " + RUNS_AS.formatted("l.definition") + " AS runs_alike," + """
                       (SELECT count(*) FROM workflow_executions e
                         WHERE e.workflow_id = d.workflow_id AND e.workflow_version = d.version
                           AND e.status IN""" + UNFINISHED + """
                       ) AS unfinished
                  FROM workflow_definitions d, (SELECT CAST(? AS jsonb) AS definition) l
                 WHERE d.workflow_id = ? AND d.version = ?""", json, loaded.id(), version);
        if (stored.isEmpty()) {
            jdbc.update("INSERT INTO workflow_definitions (workflow_id, version, definition) VALUES (?, ?, CAST(? AS jsonb))",
                    loaded.id(), version, json);
        } else if (!Boolean.TRUE.equals(stored.get(0).get("same"))) {
            String conflict = Boolean.TRUE.equals(stored.get(0).get("runs_alike")) ? null
                    : conflict(jdbc, catalog, loaded, ((Number) stored.get(0).get("unfinished")).longValue());
            if (conflict != null) {
                conflicts.add(conflict);
                return;
            }
            jdbc.update("UPDATE workflow_definitions SET definition = CAST(? AS jsonb), recorded_at = now()"
                    + " WHERE workflow_id = ? AND version = ?", json, loaded.id(), version);
        }
        recordRunner(jdbc, loaded);
    }

    private static void recordRunner(JdbcTemplate jdbc, WorkflowDefinition loaded) {
        jdbc.update("INSERT INTO workflow_definition_runners (workflow_id, version, instance_id)"
                + " VALUES (?, ?, current_setting('application_name')) ON CONFLICT DO NOTHING", loaded.id(), loaded.versionOrDefault());
    }

    /**
     * Records again, every retirement period, that this coordinator runs its loaded versions: a coordinator
     * starting while this one's sessions were gone (a database restart) deleted its rows as not alive, and a
     * changed definition under the same version could then replace the one this coordinator still runs.
     */
    static void recordRunner(JdbcTemplate jdbc, WorkflowCatalog catalog) {
        for (WorkflowDefinition loaded : catalog.all()) {
            recordRunner(jdbc, loaded);
        }
    }

    /** Why {@code loaded} cannot replace the different definition recorded under its version, or null. */
    private static String conflict(JdbcTemplate jdbc, WorkflowCatalog catalog, WorkflowDefinition loaded, long unfinished) {
        int version = loaded.versionOrDefault();
        String refused = catalog.fileOf(loaded.id()) + ": version: " + version + " is not the version " + version + " that ";
        if (unfinished > 0) {
            return refused + unfinished + " running execution(s) of workflow " + loaded.id() + " started on: give the changed"
                    + " definition a new version (those executions end on the one they started on), or let them end first";
        }
        List<String> runners = jdbc.queryForList("""
                SELECT r.instance_id || ' (since ' || to_char(r.since, 'YYYY-MM-DD HH24:MI:SS TZ') || ')'
                  FROM workflow_definition_runners r
                 WHERE r.workflow_id = ? AND r.version = ? AND r.instance_id <> current_setting('application_name')
                   AND\s""" + ALIVE + " ORDER BY r.since", String.class, loaded.id(), version);
        if (!runners.isEmpty()) {
            return refused + "the running coordinator(s) " + String.join(", ", runners) + " run for workflow " + loaded.id()
                    + ": give the changed definition a new version, or stop them first (two definitions under one"
                    + " version would each move the other's executions on)";
        }
        return null;
    }

    /** The other versions that executions still run on, as recorded; earlier ones never recorded run on the loaded one. */
    private static List<WorkflowDefinition> othersInUse(JdbcTemplate jdbc, WorkflowCatalog catalog) {
        List<WorkflowDefinition> retained = new ArrayList<>();
        for (Map<String, Object> row : jdbc.queryForList("""
                SELECT e.workflow_id, e.workflow_version, count(*) AS executions, d.definition::text AS definition
                  FROM workflow_executions e
                  LEFT JOIN workflow_definitions d ON d.workflow_id = e.workflow_id AND d.version = e.workflow_version
                 WHERE e.status IN""" + UNFINISHED + """
                 GROUP BY e.workflow_id, e.workflow_version, d.definition::text
                 ORDER BY e.workflow_id, e.workflow_version""")) {
            String workflowId = (String) row.get("workflow_id");
            int version = ((Number) row.get("workflow_version")).intValue();
            WorkflowDefinition loaded = catalog.byId(workflowId).orElse(null);
            if (loaded != null && loaded.versionOrDefault() == version) {
                continue;
            }
            String definition = (String) row.get("definition");
            String executions = row.get("executions") + " running execution(s) of workflow " + workflowId + " version " + version;
            if (definition == null) {
                if (loaded == null || version > loaded.versionOrDefault()) {
                    LOG.warn("{} started before coordinators recorded workflow versions: no coordinator here runs them", executions);
                    continue;
                }
                // they go on with the loaded version: their rows say so, or every transition's guard (the execution's
                // workflow_version is the route's) refuses their replies, each then ignored as a "duplicate"
                int adopted = jdbc.update("UPDATE workflow_executions SET workflow_version = ? WHERE workflow_id = ?"
                        + " AND workflow_version = ? AND status IN " + UNFINISHED, loaded.versionOrDefault(), workflowId, version);
                java.util.Set<String> defined = new java.util.TreeSet<>();
                loaded.steps().forEach(step -> defined.add(step.id()));
                List<String> misfits = jdbc.queryForList("""
                        SELECT e.id::text FROM workflow_executions e
                         WHERE e.workflow_id = ? AND e.workflow_version = ? AND e.status IN""" + UNFINISHED + """

                           AND (SELECT string_agg(d.step_id, ',' ORDER BY d.step_id COLLATE "C")   -- as the TreeSet orders ids
                                  FROM (SELECT DISTINCT s.step_id FROM workflow_step_executions s
                                         WHERE s.execution_id = e.id AND s.kind = 'step') d) IS DISTINCT FROM ?""",
                        String.class, workflowId, loaded.versionOrDefault(), String.join(",", defined));
                if (misfits.isEmpty()) {
                    LOG.warn("{} started before coordinators recorded workflow versions: they go on with version {} ({} moved to it)",
                            executions, loaded.versionOrDefault(), adopted);
                } else {
                    LOG.error("{} started before coordinators recorded workflow versions and go on with version {}, whose steps"
                            + " ({}) are not theirs: {} of them may not end; let such executions end on the earlier release"
                            + " before upgrading, or cancel them: {}", executions, loaded.versionOrDefault(),
                            String.join(", ", defined), misfits.size(), misfits);
                }
                continue;
            }
            retained.add(read(workflowId, version, definition));
            LOG.info("{} keep their version: its routes run as {}", executions,
                    Endpoints.routeId(WorkflowCatalog.versionKey(workflowId, version), "*"));
        }
        return retained;
    }

    static WorkflowDefinition read(String workflowId, int version, String json) {
        try {
            return new DefinitionReader().read("workflow_definitions/" + workflowId + "/" + version + ".json", json).definition();
        } catch (DefinitionReadException e) {
            throw new IllegalStateException("the recorded definition of workflow " + workflowId + " version " + version
                    + " cannot be read: " + e.getMessage(), e);
        }
    }

    /** Carries the conflicts out of the transaction callback. */
    private static final class VersionConflict extends RuntimeException {
        private final List<String> conflicts;

        VersionConflict(List<String> conflicts) {
            super(String.join("; ", conflicts));
            this.conflicts = conflicts;
        }
    }
}
