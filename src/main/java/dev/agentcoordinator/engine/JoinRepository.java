package dev.agentcoordinator.engine;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.spi.OptimisticLockingAggregationRepository.OptimisticLockingException;
import org.apache.camel.processor.aggregate.jdbc.JdbcAggregationRepository;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.TransactionDefinition;

import javax.sql.DataSource;

/**
 * Camel's JDBC aggregation repository on the {@code step_joins} tables (bytea, see V1__schema.sql).
 * The aggregator also confirms exchanges that never reached the completed table (every arrival of
 * an optimistic-locking join); the stock repository logs each of those as an ERROR. A confirm that
 * finds nothing to delete is normal here, so this one deletes quietly.
 */
final class JoinRepository extends JdbcAggregationRepository {
    /** How long a completed join may wait for its confirm before a recovery task takes it up (V24 completed_at). */
    static final long RECOVERY_GRACE_MS = 10_000;

    private final JdbcTemplate jdbc;

    JoinRepository(DataSource dataSource, String table) {
        super(new DataSourceTransactionManager(dataSource), table, dataSource);
        this.jdbc = new JdbcTemplate(dataSource);
        setJdbcOptimisticLockingExceptionMapper(JoinRepository::isOptimisticLocking);
        setUseRecovery(true);
        setRecoveryInterval(5000);
    }

    /**
     * Camel reads a join (and scans for recovery) in a read-only transaction: BEGIN, one SELECT and a
     * COMMIT round trip for a single statement, once per fan-in arrival. A lone SELECT in autocommit
     * sees the same committed rows, so the reads join a transaction only if one already runs.
     */
    @Override
    protected void doInit() throws Exception {
        super.doInit();
        transactionTemplateReadOnly.setPropagationBehavior(TransactionDefinition.PROPAGATION_SUPPORTS);
    }

    /**
     * Camel's start counts both tables to log what is there; the coordinator starts its routes' services
     * while the database may still be initialising (CamelRuntime#startWithoutConsumers), and a count
     * would hold that start until the schema is migrated. What is left to recover is found, and
     * logged, by the aggregator's recovery task once the consumers run.
     */
    @Override
    protected void doStart() {
        // no counting: see above
    }

    /**
     * A first arrival (the aggregator found no join for its key) is a lone INSERT, committed on its own.
     * Camel's add wraps it in a transaction with a COUNT first (BEGIN, COUNT, INSERT, COMMIT: three
     * round trips for one row); here a second arrival that inserted in between makes the primary key
     * fail, which is the same optimistic-lock conflict: the aggregator reads the join again and retries.
     */
    @Override
    public Exchange add(CamelContext camelContext, String key, Exchange oldExchange, Exchange newExchange)
            throws OptimisticLockingException {
        if (oldExchange != null) {
            return super.add(camelContext, key, oldExchange, newExchange);
        }
        try {
            insert(camelContext, key, newExchange, getRepositoryName(), 1L);
            return null;
        } catch (Exception e) {
            if (getJdbcOptimisticLockingExceptionMapper() != null && getJdbcOptimisticLockingExceptionMapper().isOptimisticLocking(e)) {
                throw new OptimisticLockingException();
            }
            throw new org.apache.camel.RuntimeCamelException("Error adding to repository " + getRepositoryName() + " with key " + key, e);
        }
    }

    private static final org.apache.camel.processor.aggregate.jdbc.DefaultJdbcOptimisticLockingExceptionMapper CAMELS_MAPPER =
            new org.apache.camel.processor.aggregate.jdbc.DefaultJdbcOptimisticLockingExceptionMapper();

    /**
     * camel-sql's reading of a failed insert as a conflict (a constraint violation), but for a failure with a JDBC error
     * that carries no SQL state: camel-sql reads the state without a null check, and a connection the pool closed under
     * a PostgreSQL restart fails so ("Connection is closed"); its NullPointerException hid the failure (two chaos runs,
     * 2026-12-06). Such a failure is no conflict.
     */
    static boolean isOptimisticLocking(Exception cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.sql.SQLException sql && sql.getSQLState() == null) {
                return false;
            }
        }
        return CAMELS_MAPPER.isOptimisticLocking(cause);
    }

    /**
     * A completed join leaves the table only if no other arrival completed (or removed) it first. Camel's remove
     * deletes without looking at the count, so the second of two replies completing one join at the same moment
     * went on to record the same completed exchange again and failed on the completed table's key, an ERROR and a
     * rollback for a normal race. A delete that finds nothing is the optimistic-lock conflict the aggregator
     * expects from remove: it reads the join again (gone), and the joined step's start, idempotent in the
     * database, decides.
     */
    @Override
    public void remove(CamelContext camelContext, String key, Exchange exchange) {
        long version = exchange.getProperty(VERSION_PROPERTY, Long.class);
        boolean removed = Boolean.TRUE.equals(transactionTemplate.execute(status -> {
            if (jdbc.update("DELETE FROM " + getRepositoryName() + " WHERE id = ? AND version = ?", key, version) == 0) {
                return false;
            }
            try {
                insert(camelContext, exchange.getExchangeId(), exchange, getRepositoryNameCompleted(), version);
            } catch (Exception e) {
                throw new org.apache.camel.RuntimeCamelException("Error removing key " + key + " from repository " + getRepositoryName(), e);
            }
            return true;
        }));
        if (!removed) {
            throw new OptimisticLockingException();
        }
    }

    /**
     * The completed joins left unconfirmed for longer than {@link #RECOVERY_GRACE_MS}. Every coordinator's
     * aggregator scans the table, and a join another coordinator is still running (between its move to the
     * completed table and its confirm) is not this one's to run again; Camel skips only its own joins in flight.
     */
    @Override
    public java.util.Set<String> scan(CamelContext camelContext) {
        return new java.util.LinkedHashSet<>(jdbc.queryForList("SELECT id FROM " + getRepositoryNameCompleted()
                + " WHERE completed_at < now() - ? * interval '1 millisecond'", String.class, RECOVERY_GRACE_MS));
    }

    @Override
    public void confirm(CamelContext camelContext, String exchangeId) {
        confirmWithResult(camelContext, exchangeId);
    }

    @Override
    public boolean confirmWithResult(CamelContext camelContext, String exchangeId) {
        return jdbc.update("DELETE FROM " + getRepositoryNameCompleted() + " WHERE id = ?", exchangeId) == 1;
    }
}
