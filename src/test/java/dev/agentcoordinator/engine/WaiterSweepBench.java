package dev.agentcoordinator.engine;

import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.DatabaseTemplate;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.locks.LockHolder;
import dev.agentcoordinator.locks.LockRequest;
import dev.agentcoordinator.locks.LockSql;
import dev.agentcoordinator.locks.ResourceLockStore;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.awaitility.Awaitility.await;

/**
 * Not part of the suite (no *Test name; skipped unless -Dbench.waiters is set): the lock sweep's cost with many waiters.
 * <pre>
 * mvn -q -B -o test -Dtest=WaiterSweepBench -Dbench.waiters=50,300,1000 -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 * Puts N waiters (half g-lock-low, priority 1, half g-lock-mid, priority 3) on roadmap locks held by a strategist
 * (priority 5) that never lets go: on one resource, then spread over N/10 resources. Reports the lock sweep's time per
 * pass (a timer exchange of route coordinator.locks.waiting, created to completed) and per waiter tried (a pass tries at
 * most Endpoints.SWEEP_ROWS), and EXPLAIN (ANALYZE, BUFFERS) of find-lock-waiters.sql for a mid waiter's sweep try (the
 * worst case: nobody of priority 4 or more waits, so no row ends the scan early). Supervisor period: 200 ms (the default).
 * The report goes to stdout and to target/waiter-sweep-bench.txt.
 */
class WaiterSweepBench {
    private static final String SWEEP = "coordinator.locks.waiting";
    private final StringBuilder report = new StringBuilder();

    @Test
    void sweepCost() throws Exception {
        String sizes = System.getProperty("bench.waiters");
        Assumptions.assumeTrue(sizes != null && !sizes.isBlank(), "-Dbench.waiters=50,300,1000 runs it");
        int passes = Integer.getInteger("bench.passes", 10);
        Path data = Path.of(System.getProperty("bench.dir", "/tmp/lockperf/bench-" + UUID.randomUUID().toString().substring(0, 8)));
        Files.createDirectories(data);
        CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                "data.dir", DatabaseTemplate.seeded(data).toString(),
                "broker.embedded.port", "0",
                "http.port", "0",
                "demo-agents.enabled", "false",
                "workflows.dir", "src/test/resources/bench-lock-workflows",
                "supervisor.period-ms", System.getProperty("bench.period-ms", "200"),
                "locks.priorities", dev.agentcoordinator.locks.LockPriorities.SPEC_DEFAULT + ",g-lock-low:1,g-lock-mid:3"));
        org.apache.logging.log4j.core.config.Configurator.setLevel(LockRoutes.class.getName(),
                Boolean.getBoolean("bench.debug") ? org.apache.logging.log4j.Level.DEBUG : org.apache.logging.log4j.Level.INFO);
        try (RunningCoordinator coordinator = CoordinatorApp.start(settings,
                WorkflowCatalog.load(WorkflowCatalog.definitionFiles(Path.of("src/test/resources/bench-lock-workflows"))))) {
            List<Long> passNanos = Collections.synchronizedList(new ArrayList<>());
            coordinator.camelContext().getManagementStrategy().addEventNotifier(new EventNotifierSupport() {
                @Override
                public void notify(CamelEvent event) {
                    if (event instanceof CamelEvent.ExchangeCompletedEvent completed) {
                        Exchange exchange = completed.getExchange();
                        if (SWEEP.equals(exchange.getFromRouteId()) && exchange.getProperty(Exchange.SPLIT_INDEX) == null
                                && exchange.getProperty(Exchange.CORRELATION_ID) == null) {
                            passNanos.add(exchange.getClock().elapsed() * 1_000_000L);
                        }
                    }
                }
            });
            line("waiters,layout,resources,passes,pass_ms_median,pass_ms_mean,pass_ms_max,tried_per_pass,ms_per_waiter_try,find_lock_waiters_ms");
            for (String size : sizes.split(",")) {
                int n = Integer.parseInt(size.trim());
                scenario(coordinator, passNanos, n, 1, passes);
                scenario(coordinator, passNanos, n, Math.max(1, n / 10), passes);
            }
        } finally {
            Files.writeString(Path.of("target/waiter-sweep-bench.txt"), report.toString());
        }
    }

    private void scenario(RunningCoordinator coordinator, List<Long> passNanos, int n, int resources, int passes) throws Exception {
        JdbcTemplate db = new JdbcTemplate(coordinator.dataSource());
        ResourceLockStore locks = new ResourceLockStore(coordinator.dataSource());
        String prefix = "b" + UUID.randomUUID().toString().substring(0, 6) + "-";
        List<String> lockIds = new ArrayList<>();
        for (int r = 0; r < resources; r++) {
            lockIds.add(((dev.agentcoordinator.locks.AcquireResult.Acquired) locks.acquire(
                    new LockHolder("strategist", 5, "bench-holder", "hold"), new LockRequest("roadmap", prefix + r, 3_600_000))).lockId());
        }
        ProducerTemplate producer = coordinator.camelContext().createProducerTemplate();
        for (int i = 0; i < n; i++) {
            producer.sendBody("jms:queue:agent.events", "{\"type\":\"" + (i % 2 == 0 ? "BENCH_LOCK_LOW" : "BENCH_LOCK_MID")
                    + "\",\"event_id\":\"" + UUID.randomUUID() + "\",\"payload\":{\"user_id\":\"" + prefix + (i % resources) + "\"}}");
        }
        producer.stop();
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500)).until(() -> db.queryForObject(
                "SELECT count(*) FROM workflow_step_executions WHERE status = 'pending' AND waiting_for IS NOT NULL", Long.class) == n);
        // every waiter tried by the sweep at least once (its notes rewritten), then measure
        Thread.sleep(3000);
        passNanos.clear();
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(100)).until(() -> passNanos.size() >= passes);
        List<Long> sorted;
        synchronized (passNanos) {
            sorted = new ArrayList<>(passNanos.subList(0, passes));
        }
        Collections.sort(sorted);
        double median = sorted.get(sorted.size() / 2) / 1e6;
        double mean = sorted.stream().mapToLong(Long::longValue).average().orElse(0) / 1e6;
        double max = sorted.get(sorted.size() - 1) / 1e6;
        int tried = Math.min(n, Endpoints.SWEEP_ROWS);
        // a mid waiter's sweep try (yields to priority 4 and up: none waits, the whole scan)
        Map<String, Object> waiter = db.queryForMap("SELECT id, execution_id, step_id FROM workflow_step_executions"
                + " WHERE status = 'pending' AND waiting_for IS NOT NULL AND agent = 'g-lock-mid' LIMIT 1");
        String sql = LockSql.named("find-lock-waiters");
        Object[] params = {"roadmap", prefix + 0, "{\"strategist\":5,\"architect\":4,\"sentinel\":3,\"interviewer\":2,\"action\":1,"
                + "\"g-lock-low\":1,\"g-lock-mid\":3}", 4L, 10_000L, waiter.get("id"), waiter.get("execution_id"), waiter.get("step_id")};
        List<String> plan = db.queryForList("EXPLAIN (ANALYZE, BUFFERS) " + sql, String.class, params);
        String execution = plan.stream().filter(l -> l.startsWith("Execution Time")).findFirst().orElse("?");
        line(String.format("%d,%s,%d,%d,%.1f,%.1f,%.1f,%d,%.3f,%s", n, resources == 1 ? "one" : "spread", resources, passes, median, mean,
                max, tried, median / tried, execution.replaceAll("[^0-9.]", "")));
        if (Boolean.getBoolean("bench.plans")) {
            plan.forEach(l -> line("    " + l));
            // the sweep's own statement, as camel-sql runs it (its named parameters given)
            String sweep = new String(getClass().getClassLoader().getResourceAsStream("sql/waiting-lock-steps.sql").readAllBytes())
                    .replace(":#sweepLimit", String.valueOf(Endpoints.SWEEP_ROWS))
                    .replace(":#lockPriorities", "'" + params[2] + "'");
            db.queryForList("EXPLAIN (ANALYZE, BUFFERS) " + sweep, String.class).forEach(l -> line("    sweep: " + l));
        }
        // done: the waiters fail, the locks go (the sweep stopped meanwhile: its batch and this update would deadlock)
        coordinator.camelContext().getRouteController().stopRoute(SWEEP);
        db.update("UPDATE workflow_step_executions SET status = 'failed', waiting_for = NULL, waiting_since = NULL, completed_at = now()"
                + " WHERE status = 'pending' AND waiting_for IS NOT NULL");
        db.update("UPDATE workflow_executions SET status = 'failed', completed_at = now() WHERE status = 'running'");
        lockIds.forEach(locks::release);
        coordinator.camelContext().getRouteController().startRoute(SWEEP);
    }

    private void line(String text) {
        System.out.println("[bench] " + text);
        report.append(text).append('\n');
    }
}
