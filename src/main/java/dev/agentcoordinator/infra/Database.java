package dev.agentcoordinator.infra;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;

/** The connection pool to PostgreSQL and the schema migrations (classpath:db/migration). */
public final class Database {

    private static final Logger LOG = LoggerFactory.getLogger(Database.class);
    public static final String MIGRATIONS = "classpath:db/migration";

    private Database() {
    }

    public static HikariDataSource pool(String jdbcUrl, String user, String password, int maxSize) {
        return pool(jdbcUrl, user, password, maxSize, null);
    }

    /**
     * @param applicationName PostgreSQL's application_name of every connection (null: the driver's);
     *                        the coordinator sets its instance id, which SQL reads back as
     *                        {@code current_setting('application_name')} to record who handled a step
     */
    public static HikariDataSource pool(String jdbcUrl, String user, String password, int maxSize, String applicationName) {
        return new HikariDataSource(config(jdbcUrl, user, password, maxSize, applicationName));
    }

    /** What bounds the waits on a pool: for a connection, and for PostgreSQL's answer (0: none). */
    public record Timeouts(String poolName, long connectionMs, long answerMs) {
    }

    /**
     * {@link #pool} that connects on first use instead of now, so that it can exist (and be handed
     * to Camel) while the database is still starting.
     */
    public static HikariDataSource lazyPool(String jdbcUrl, String user, String password, int maxSize, String applicationName,
                                            Timeouts timeouts) {
        HikariDataSource lazy = new HikariDataSource();
        HikariConfig config = config(jdbcUrl, user, password, maxSize, applicationName);
        config.setPoolName(timeouts.poolName());
        config.setConnectionTimeout(timeouts.connectionMs());
        // checking an idle connection is part of the wait for one
        config.setValidationTimeout(Math.max(250, Math.min(config.getValidationTimeout(), timeouts.connectionMs() / 2)));
        if (timeouts.answerMs() > 0) {
            // the driver's bound on every read from the server (whole seconds), connecting included: without it a
            // database that stops answering without closing the connection holds the thread until TCP gives up
            String seconds = Long.toString((timeouts.answerMs() + 999) / 1000);
            config.addDataSourceProperty("socketTimeout", seconds);
            config.addDataSourceProperty("loginTimeout", seconds);
        }
        config.copyStateTo(lazy);
        return lazy;
    }

    private static HikariConfig config(String jdbcUrl, String user, String password, int maxSize, String applicationName) {
        HikariConfig config = new HikariConfig();
        if (applicationName != null) {
            config.addDataSourceProperty("ApplicationName", applicationName);
        }
        // The coordinator runs a few statements, each prepared once per connection and executed with new
        // values all the time. PostgreSQL's default plan cache plans such a statement again on every
        // call whose plan for its own values looks cheaper than the generic one (a join's dependency
        // check, the sweeps, the call of the transition function): 2.2 s of planning in 15 s of load,
        // and a sweep planned every 200 ms when idle (BENCHMARKS.md, issue 7). Generic plans use the
        // same indexes for them. The execution listing, whose best plan depends on the values, plans each call (V15).
        config.addDataSourceProperty("options", "-c plan_cache_mode=force_generic_plan");
        config.setPoolName("coordinator-db");
        config.setJdbcUrl(jdbcUrl);
        config.setUsername(user);
        if (password != null && !password.isEmpty()) {
            config.setPassword(password);
        }
        config.setMaximumPoolSize(maxSize);
        config.setMinimumIdle(Math.min(2, maxSize));
        return config;
    }

    /** Brings the schema to the newest migration; safe to run on every start and from several instances. */
    public static MigrateResult migrate(DataSource dataSource) {
        return migrate(dataSource, 0);
    }

    /**
     * {@link #migrate(DataSource)} whose first connection gives up after {@code connectWithinSeconds} (the driver's
     * loginTimeout and connectTimeout, when shorter than the pool's own; 0: the pool's own): a start that waits for its
     * database tries again only within what is left of coordinator.db.start-wait-ms.
     */
    public static MigrateResult migrate(DataSource dataSource, int connectWithinSeconds) {
        return migrate(Flyway.configure().dataSource(new WithoutAnswerTimeout(dataSource)), connectWithinSeconds);
    }

    /**
     * The pool's connections for the migrations, without the bound on waiting for an answer: a migration may
     * rightly take longer (an index built on a large table). The pool restores the bound when they come back.
     */
    private static final class WithoutAnswerTimeout extends org.springframework.jdbc.datasource.DelegatingDataSource {
        WithoutAnswerTimeout(DataSource pool) {
            super(pool);
        }

        @Override
        public java.sql.Connection getConnection() throws java.sql.SQLException {
            java.sql.Connection connection = super.getConnection();
            connection.setNetworkTimeout(Runnable::run, 0);
            return connection;
        }
    }

    /** The same over a connection of its own (coordinator.db.migration-url), not the pool's. */
    public static MigrateResult migrate(String jdbcUrl, String user, String password) {
        return migrate(jdbcUrl, user, password, 0);
    }

    /** The same, each of its connections given up after {@code connectWithinSeconds} of connecting (0: the driver's own bounds). */
    public static MigrateResult migrate(String jdbcUrl, String user, String password, int connectWithinSeconds) {
        LOG.info("Migrating the schema through {}", dev.agentcoordinator.config.Secrets.redactUrl(jdbcUrl));
        java.util.Properties properties = boundedConnecting(new java.util.Properties(), connectWithinSeconds);
        if (user != null && !user.isEmpty()) {
            properties.setProperty("user", user);
        }
        if (password != null && !password.isEmpty()) {
            properties.setProperty("password", password);
        }
        org.springframework.jdbc.datasource.DriverManagerDataSource direct = new org.springframework.jdbc.datasource.DriverManagerDataSource(jdbcUrl);
        direct.setConnectionProperties(properties);
        return migrate(Flyway.configure().dataSource(direct), 0);
    }

    /** pgjdbc's bounds on connecting, whole seconds: lowered to {@code seconds} where they are longer or unset (0 leaves them). */
    static java.util.Properties boundedConnecting(java.util.Properties properties, int seconds) {
        if (seconds > 0) {
            for (String bound : java.util.List.of("loginTimeout", "connectTimeout")) {
                String own = properties.getProperty(bound);
                // pgjdbc's connectTimeout is 10 s unless set; its loginTimeout is none
                long current = own == null ? (bound.equals("connectTimeout") ? 10 : 0) : secondsOrNone(own);
                if (current <= 0 || current > seconds) {
                    properties.setProperty(bound, Integer.toString(seconds));
                }
            }
        }
        return properties;
    }

    private static long secondsOrNone(String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static MigrateResult migrate(org.flywaydb.core.api.configuration.FluentConfiguration flyway, int connectWithinSeconds) {
        // one coordinator's whole run at a time: Flyway's own lock is taken for each migration, so coordinators
        // starting together took turns within one upgrade, and each logged the last version it applied itself as the
        // schema's (an operator's two coordinators on an empty database: "version 30 (29 migration(s) applied now …)"
        // from one, the schema at 55)
        try (java.sql.Connection lock = lockConnection(flyway.getDataSource(), connectWithinSeconds)) {
            takeMigrationLock(lock);
            try {
                return migrateHoldingTheLock(flyway);
            } finally {
                releaseMigrationLock(lock);
            }
        } catch (java.sql.SQLException e) {
            throw new org.flywaydb.core.api.FlywayException("the schema's migration lock: " + e.getMessage(), e);
        }
    }

    /** Key of the session-level advisory lock a coordinator holds through its whole migration run ("agentcoo"). */
    static final long MIGRATION_LOCK_KEY = 0x6167656e74636f6fL;

    /**
     * A connection of its own, outside the pool (a pool of one or two connections is all Flyway's), and idle while it
     * holds the lock: a CREATE INDEX CONCURRENTLY waits for the transactions open, not for an idle session.
     */
    private static java.sql.Connection lockConnection(DataSource dataSource, int connectWithinSeconds) throws java.sql.SQLException {
        if (dataSource instanceof HikariDataSource hikari) {
            // the pool's driver properties too: its loginTimeout bounds a database that accepts but never answers (the
            // start's wait for the database tries again only after a failure), its ApplicationName names the holder
            java.util.Properties properties = new java.util.Properties();
            properties.putAll(hikari.getDataSourceProperties());
            boundedConnecting(properties, connectWithinSeconds);
            if (hikari.getUsername() != null) {
                properties.setProperty("user", hikari.getUsername());
            }
            if (hikari.getPassword() != null) {
                properties.setProperty("password", hikari.getPassword());
            }
            return java.sql.DriverManager.getConnection(hikari.getJdbcUrl(), properties);
        }
        if (dataSource instanceof org.springframework.jdbc.datasource.DelegatingDataSource delegating
                && delegating.getTargetDataSource() instanceof HikariDataSource hikari) {
            return lockConnection(hikari, connectWithinSeconds);
        }
        return dataSource.getConnection();
    }

    /**
     * Tried once a second, as Flyway tries its own, rather than waited for in one statement: a statement waiting would
     * keep a transaction open, for which the other coordinator's CREATE INDEX CONCURRENTLY would wait in turn.
     */
    static void takeMigrationLock(java.sql.Connection connection) throws java.sql.SQLException {
        connection.setAutoCommit(true);
        for (int tries = 1; ; tries++) {
            try (java.sql.Statement statement = connection.createStatement();
                 java.sql.ResultSet taken = statement.executeQuery("SELECT pg_try_advisory_lock(" + MIGRATION_LOCK_KEY + ")")) {
                if (taken.next() && taken.getBoolean(1)) {
                    return;
                }
            }
            if (tries == 1) {
                LOG.info("Another coordinator is migrating the schema: waiting for it to finish (up to {} s)", LOCK_RETRIES);
            }
            if (tries >= LOCK_RETRIES) {
                throw new org.flywaydb.core.api.FlywayException("another coordinator has been migrating the schema for more than "
                        + LOCK_RETRIES + " s (it holds PostgreSQL's advisory lock " + MIGRATION_LOCK_KEY + ")");
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new org.flywaydb.core.api.FlywayException("interrupted while waiting for another coordinator's migration", e);
            }
        }
    }

    private static void releaseMigrationLock(java.sql.Connection connection) {
        try (java.sql.Statement statement = connection.createStatement()) {
            statement.execute("SELECT pg_advisory_unlock(" + MIGRATION_LOCK_KEY + ")");
        } catch (java.sql.SQLException e) {
            LOG.debug("the migration lock is released as its connection closes: {}", e.toString());
        }
    }

    private static MigrateResult migrateHoldingTheLock(org.flywaydb.core.api.configuration.FluentConfiguration flyway) {
        org.flywaydb.core.Flyway loaded = flyway
                .locations(MIGRATIONS)
                // a session-level advisory lock instead of Flyway's default, which holds a transaction
                // open for the whole run: CREATE INDEX CONCURRENTLY (V13) waits for every open
                // transaction to end, so it would wait for Flyway's own for ever
                .configuration(java.util.Map.of("flyway.postgresql.transactional.lock", "false"))
                // a coordinator started beside one that migrates waits for it: an index built CONCURRENTLY on a large
                // table takes minutes, and Flyway's default (50 tries a second apart) failed the second start
                .lockRetryCount(LOCK_RETRIES)
                .load();
        MigrateResult result = loaded.migrate();
        LOG.info("Database schema at version {} ({} migration(s) applied now{})",
                result.targetSchemaVersion != null ? result.targetSchemaVersion : result.initialSchemaVersion,
                result.migrationsExecuted, appliedNow(result));
        warnOfInvalidIndexes(loaded.getConfiguration().getDataSource());
        return result;
    }

    /** How many times, a second apart, a start tries to take the migration lock (and Flyway's) while another coordinator migrates. */
    static final int LOCK_RETRIES = 900;

    /**
     * A WARN naming the schema's invalid indexes: a CREATE INDEX CONCURRENTLY cut off (V13's, an operator's) leaves one
     * that no query uses and every write still updates, and V13's IF NOT EXISTS keeps it. Rebuilt with
     * REINDEX INDEX CONCURRENTLY.
     */
    static void warnOfInvalidIndexes(javax.sql.DataSource dataSource) {
        try (java.sql.Connection connection = dataSource.getConnection();
             java.sql.Statement statement = connection.createStatement();
             java.sql.ResultSet invalid = statement.executeQuery("SELECT string_agg(c.relname, ', ' ORDER BY c.relname)"
                     + " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                     + " WHERE NOT i.indisvalid AND n.nspname = current_schema()")) {
            String names = invalid.next() ? invalid.getString(1) : null;
            if (names != null) {
                LOG.warn("Invalid indexes in the schema (a CREATE INDEX CONCURRENTLY cut off, or one being built now): {};"
                        + " no query uses them: rebuild each with REINDEX INDEX CONCURRENTLY <name>", names);
            }
        } catch (java.sql.SQLException e) {
            LOG.debug("the schema's indexes were not checked: {}", e.toString());
        }
    }

    /**
     * Which migrations a start applied, from which version (Flyway's own lines are off, log4j2.xml): an operator who
     * upgrades reads what changed in the schema. Empty when none were.
     */
    static String appliedNow(MigrateResult result) {
        if (result.migrations == null || result.migrations.isEmpty()) {
            return "";
        }
        if (result.initialSchemaVersion == null) {
            return ", on an empty schema";   // every one: a list says nothing a new database needs
        }
        return result.migrations.stream()
                .map(migration -> "V" + migration.version + " " + migration.description + " (" + migration.executionTime + " ms)")
                .collect(java.util.stream.Collectors.joining(", ", ", from version " + result.initialSchemaVersion + ": ", ""));
    }
}
