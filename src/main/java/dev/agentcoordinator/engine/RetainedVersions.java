package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import org.apache.camel.builder.RouteBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;

import javax.sql.DataSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The other versions of workflows a running coordinator keeps routes for, over its whole life. A
 * version met after start (a newer coordinator's during a rolling deployment, an earlier one whose
 * execution is retried) is read back from {@code workflow_definitions} and its routes added
 * ({@link #fetch}). A kept version that no execution runs on any more (none running or compensating)
 * is retired in two sweeps ({@link #retireUnused}): the first releases it from the catalog, so that
 * nothing new resolves to it; the next, one period later, removes its routes if still nothing runs
 * on it. A message that resolved to it before the release has that period to pass through its
 * routes; one met after the release takes it back, routes and all, without adding them twice.
 */
public final class RetainedVersions implements WorkflowCatalog.VersionSource {
    private static final Logger LOG = LoggerFactory.getLogger(RetainedVersions.class);

    /** How long a version found in no record is not asked for again (a newer coordinator may record it meanwhile). */
    private static final long MISS_TTL_NANOS = 10_000_000_000L;

    /** Removes the routes of a retained version; returns how many there were. */
    @FunctionalInterface
    public interface RouteRemover {
        int remove(String routeKey) throws Exception;
    }

    private final WorkflowCatalog catalog;
    private final JdbcTemplate jdbc;
    private final WorkflowVersions.RouteAdder routes;
    private final RouteRemover removal;
    /**
     * Versions found in no record, by version key, oldest miss first: kept for MISS_TTL_NANOS, and at most MAX_MISSES of
     * them. A reply's correlation id names any version its agent writes: unbounded, one entry per version ever named.
     */
    private final LinkedHashMap<String, Long> missedAt = new LinkedHashMap<>();
    static final int MAX_MISSES = 1_000;
    /** Released by the last sweep, routes still in place, by version key. */
    private final Map<String, WorkflowDefinition> released = new LinkedHashMap<>();

    public RetainedVersions(DataSource dataSource, WorkflowCatalog catalog, WorkflowVersions.RouteAdder routes, RouteRemover removal) {
        this.catalog = catalog;
        this.jdbc = new JdbcTemplate(dataSource);
        this.routes = routes;
        this.removal = removal;
    }

    @Override
    public synchronized Optional<WorkflowDefinition> fetch(String workflowId, int version) {
        return fetch(workflowId, version, "met in an execution");
    }

    /** As {@link #fetch(String, int)}; {@code why} says in the log why its routes were wanted. */
    private Optional<WorkflowDefinition> fetch(String workflowId, int version, String why) {
        String key = WorkflowCatalog.versionKey(workflowId, version);
        Optional<WorkflowDefinition> known = catalog.retainedAt(key);   // fetched by another thread meanwhile
        if (known.isPresent()) {
            return known;
        }
        // loaded meanwhile: a message that looked for it before a reload loaded it waits here for that reload to
        // end. Its routes exist; added again they would replace those in use, and retained they would be retired
        Optional<WorkflowDefinition> loaded = catalog.routedOf(workflowId).filter(routes -> routes.versionOrDefault() == version);
        if (loaded.isPresent()) {
            return loaded;
        }
        WorkflowDefinition kept = released.remove(key);
        if (kept != null) {   // its routes are still there: take it back
            catalog.retain(kept);
            LOG.info("workflow {} version {}, {} before its routes were removed: kept", workflowId, version, why);
            return Optional.of(kept);
        }
        Long missed = missedAt.get(key);
        if (missed != null && System.nanoTime() - missed < MISS_TTL_NANOS) {
            return known;
        }
        missedAt.remove(key);
        List<String> found = jdbc.queryForList("SELECT definition::text FROM workflow_definitions WHERE workflow_id = ? AND version = ?",
                String.class, workflowId, version);
        if (found.isEmpty()) {
            missed(key);
            return known;
        }
        WorkflowDefinition copy;
        try {
            copy = WorkflowVersions.keep(WorkflowVersions.read(workflowId, version, found.get(0)), catalog, routes);
        } catch (Exception e) {
            throw new IllegalStateException("cannot add the routes of workflow " + workflowId + " version " + version, e);
        }
        LOG.info("workflow {} version {}, {}: its routes run as {}", workflowId, version, why,
                Endpoints.routeId(copy.id(), "*"));
        return Optional.of(copy);
    }

    /** How many misses are remembered (tests). */
    synchronized int missesKept() {
        return missedAt.size();
    }

    /** Remembers a miss, and forgets those past their time (or beyond the bound), oldest first. */
    private void missed(String key) {
        long now = System.nanoTime();
        missedAt.put(key, now);   // removed before the lookup: appended, so the map stays in the order of the misses
        for (java.util.Iterator<Map.Entry<String, Long>> misses = missedAt.entrySet().iterator(); misses.hasNext(); ) {
            Map.Entry<String, Long> oldest = misses.next();
            if (missedAt.size() <= MAX_MISSES && now - oldest.getValue() < MISS_TTL_NANOS) {
                break;
            }
            misses.remove();
        }
    }

    /**
     * The routes of a version a reload loads, just recorded: those kept for it (retained, or released and not
     * removed yet), else read back and added as for a version met in an execution.
     */
    synchronized WorkflowDefinition routesFor(String workflowId, int version) {
        String key = WorkflowCatalog.versionKey(workflowId, version);
        missedAt.remove(key);
        return fetch(workflowId, version, "loaded by a reload").orElseThrow(() -> new IllegalStateException(
                "workflow " + workflowId + " version " + version + " is not recorded in workflow_definitions"));
    }

    /**
     * After a reload that failed to add the routes of every version it brought: the versions among {@code added} whose
     * routes it added are forgotten and their routes removed, unless an execution runs on one meanwhile.
     */
    synchronized void removeAddedBy(List<WorkflowDefinition> added) throws Exception {
        for (WorkflowDefinition workflow : added) {
            String key = WorkflowCatalog.versionKey(workflow.id(), workflow.versionOrDefault());
            WorkflowDefinition kept = catalog.retainedAt(key).orElse(null);
            if (kept == null || inUse(kept)) {
                continue;
            }
            catalog.release(key);
            removeRoutes(kept, "the reload that added them failed");
        }
    }

    /** Removes the routes of a version no longer kept, and says so; how many there were (0: the coordinator is stopping). */
    private int removeRoutes(WorkflowDefinition version, String why) throws Exception {
        int count = removal.remove(version.id());
        if (count > 0) {
            LOG.info("workflow {} version {}: {}, its {} routes ({}) are removed", WorkflowCatalog.workflowIdOf(version.id()),
                    version.versionOrDefault(), why, count, Endpoints.routeId(version.id(), "*"));
        }
        return count;
    }

    /** The definition of a version whose routes this coordinator keeps (retained, or released and not removed yet). */
    synchronized Optional<WorkflowDefinition> kept(String workflowId, int version) {
        String key = WorkflowCatalog.versionKey(workflowId, version);
        return catalog.retainedAt(key).or(() -> Optional.ofNullable(released.get(key)));
    }

    /**
     * One sweep: removes the routes of the versions released by the last sweep that still no execution
     * runs on (one that has one again is kept), then releases the kept versions no execution runs on.
     * Returns the route keys whose routes were removed.
     */
    public synchronized List<String> retireUnused() throws Exception {
        List<String> removed = new ArrayList<>();
        Exception failed = null;   // one version's failure holds back no other: each is tried again by the next sweep
        for (WorkflowDefinition version : List.copyOf(released.values())) {
            // left released until its routes are gone: a failure here (the database, a route that does not stop) is
            // tried again by the next sweep, and a fetch meanwhile takes the version back
            try {
                if (inUse(version)) {
                    released.remove(WorkflowCatalog.versionKeyOf(version));
                    catalog.retain(version);
                    continue;
                }
                int count = removeRoutes(version, "no execution runs on it any more");
                released.remove(WorkflowCatalog.versionKeyOf(version));
                if (count > 0) {   // else none (the coordinator is stopping: they go with it)
                    removed.add(version.id());
                }
            } catch (Exception e) {
                failed = kept(failed, e);
            }
        }
        for (WorkflowDefinition version : List.copyOf(catalog.retained())) {
            String key = WorkflowCatalog.versionKeyOf(version);
            try {
                if (!inUse(version) && catalog.release(key) != null) {
                    released.put(key, version);
                }
            } catch (Exception e) {
                failed = kept(failed, e);
            }
        }
        if (failed != null) {
            throw failed;
        }
        return removed;
    }

    private static Exception kept(Exception first, Exception next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    /** Records again that this coordinator runs its loaded versions (see WorkflowVersions.recordRunner). */
    private synchronized void recordRunners() {
        WorkflowVersions.recordRunner(jdbc, catalog);
    }

    /** Whether an execution runs or compensates on {@code version} (a retained copy). */
    private boolean inUse(WorkflowDefinition version) {
        return Boolean.TRUE.equals(jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM workflow_executions WHERE workflow_id = ?"
                        + " AND status IN " + WorkflowVersions.UNFINISHED + " AND workflow_version = ?)", Boolean.class,
                WorkflowCatalog.workflowIdOf(version.id()), version.versionOrDefault()));
    }

    /**
     * The sweep that retires the versions no execution runs on any more, every {@code periodMs}, on a
     * timer thread of its own: a route's stop waits for the exchanges in it, which must not hold up
     * the supervisor's sweeps.
     */
    public RouteBuilder retirementRoute(long periodMs) {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("timer:coordinator-version-retirement?delay=" + periodMs + "&period=" + periodMs)
                        .routeId("coordinator.version-retirement")
                        .routeDescription("removes the routes of workflow versions no execution runs on any more,"
                                + " and records again that this coordinator runs its loaded versions")
                        // first: a failure to retire a version must not skip it
                        // under the reload's lock: a reload deletes the runner rows of the versions it replaced
                        .process(exchange -> recordRunners())
                        .process(exchange -> retireUnused());
            }
        };
    }
}
